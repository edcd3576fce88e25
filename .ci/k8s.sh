#!/usr/bin/env bash
# Validates every Kubernetes manifest in deploy/k8s/ offline against the
# Kubernetes schemas (kubernetes-validate, from PyPI), strictly: unknown
# fields fail. A deliberately broken manifest must fail too, so the check
# itself is shown to bite.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import kubernetes_validate" 2>/dev/null; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  python3 -m pip install -q kubernetes-validate 2>/dev/null ||
    python3 -m pip install -q --break-system-packages kubernetes-validate
fi
k8s_version=${HASHWATT_K8S_VERSION:-1.31.0}
manifests=()
for f in deploy/k8s/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] && continue
  manifests+=("$f")
done
python3 -m kubernetes_validate --strict -k "$k8s_version" "${manifests[@]}"

broken=$(mktemp --suffix=.yaml)
trap 'rm -f "$broken"' EXIT
sed 's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: "thirty"/' \
  deploy/k8s/daemonset.yaml >"$broken"
if python3 -m kubernetes_validate --strict --quiet -k "$k8s_version" "$broken" >/dev/null 2>&1; then
  echo "k8s: the validator accepted a broken manifest" >&2
  exit 1
fi
echo "k8s: ${#manifests[@]} manifests valid against Kubernetes $k8s_version; a broken one is refused"
