#!/usr/bin/env bash
# Cross-builds hashwatt for aarch64-unknown-linux-gnu and runs the CPU kernel
# tests (and the library's unit tests) under qemu-user, so the NEON and ARMv8
# SHA-2 kernels are really executed. Debian/Ubuntu; root or sudo for apt.
#
# The linker and runner come from .cargo/config.toml. qemu's `max` CPU model
# has NEON and the SHA-2 extension; HASHWATT_REQUIRE_KERNELS makes a missing
# kernel fail the tests instead of being skipped. It is set here, not
# inherited: .ci/run exports the x86 kernels of the host, which an aarch64
# binary never has. HASHWATT_AARCH64_KERNELS overrides the list.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root apt-get install -y -qq qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
rustup target add aarch64-unknown-linux-gnu

export QEMU_CPU="${QEMU_CPU:-max}"
export HASHWATT_REQUIRE_KERNELS="${HASHWATT_AARCH64_KERNELS:-neon,arm-sha2}"
target=aarch64-unknown-linux-gnu

cargo test --release --target "$target" --test cpu_backends
cargo test --release --target "$target" --lib
