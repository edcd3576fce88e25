#!/usr/bin/env bash
# Portable release binary for older Linux GPU hosts (RHEL 8/9, Ubuntu 20.04):
# built against glibc 2.28 with cargo-zigbuild (zig as the C toolchain and
# linker, from the `ziglang` PyPI package), then checked: no dynamic symbol
# may need a GLIBC version above 2.28. Vulkan and NVML are loaded at run time
# (dlopen), so glibc is the only system library the binary links.
set -euo pipefail
cd "$(dirname "$0")/.."
glibc="${PORTABLE_GLIBC:-2.28}"
target=x86_64-unknown-linux-gnu

python3 -m ziglang version >/dev/null 2>&1 ||
    python3 -m pip install --quiet ziglang ||
    python3 -m pip install --quiet --break-system-packages ziglang
command -v cargo-zigbuild >/dev/null || cargo install cargo-zigbuild --locked

cargo zigbuild --release --locked --target "$target.$glibc" --bin hashwatt
bin="target/$target/release/hashwatt"
needed=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -uV)
newest=$(echo "$needed" | tail -1)
echo "$bin: needs $(echo "$needed" | tr '\n' ' ')"
if [ "$(printf '%s\n' "GLIBC_$glibc" "$newest" | sort -V | tail -1)" != "GLIBC_$glibc" ]; then
    echo "portable: $bin needs $newest, newer than glibc $glibc" >&2
    exit 1
fi
"$bin" --version
echo "portable: $bin runs on glibc $glibc and newer"
