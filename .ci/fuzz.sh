#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser, bounded in time (docs/fuzzing.md).
#
# cargo-fuzz (libFuzzer) needs nightly-only flags (coverage passes, -Z
# options); only stable Rust is installed, so RUSTC_BOOTSTRAP=1 lets stable
# accept them. No sanitizer (`-s none`): the parsers are safe Rust, and a
# panic is what is looked for. Each target starts from the repository's own
# valid inputs and runs FUZZ_SECONDS (default 30), or FUZZ_RUNS inputs when
# set; a crash fails the step and leaves the input under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
if [ -n "${FUZZ_RUNS:-}" ]; then bound=(-runs="$FUZZ_RUNS"); else bound=(-max_total_time="$seconds"); fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

seed() { # seed TARGET FILE...
    mkdir -p "fuzz/corpus/$1"
    for f in "${@:2}"; do cp "$f" "fuzz/corpus/$1/"; done
}
mkdir -p fuzz/corpus/header fuzz/corpus/target
grep -v '^#' tests/data/headers.tsv | cut -f2 | head -5 | while read -r h; do
    printf '%s' "$h" > "fuzz/corpus/header/${h:0:16}"
done
printf '1d00ffff' > fuzz/corpus/target/bits
printf '0x207fffff' > fuzz/corpus/target/bits0x
printf '00000000ffff0000000000000000000000000000000000000000000000000000' > fuzz/corpus/target/target
printf '0.001' > fuzz/corpus/target/difficulty
seed scenario_toml scenarios/*.toml
seed bench_json tests/data/econ/bench-*.json
seed compare_json tests/data/econ/*.json

for target in header target scenario_toml bench_json compare_json; do
    echo "fuzz: $target (${bound[*]})"
    log="$(mktemp)"
    if ! cargo fuzz run --fuzz-dir fuzz -s none "$target" "fuzz/corpus/$target" -- \
        "${bound[@]}" -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: $target FAILED (the input is under fuzz/artifacts/$target/)"
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" || true
    rm -f "$log"
done
