#!/usr/bin/env bash
# A real Prometheus server for the agent's metrics test (Debian package
# `prometheus`). The test (tests/agent_prometheus.rs) starts it itself with a
# generated config that scrapes the agent it started, and stops it after.
set -euo pipefail
if ! command -v prometheus >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
prometheus --version | head -n1
