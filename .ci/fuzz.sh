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
# Stratum and getblocktemplate: real pool lines (tests/data/stratum), the
# logged share they make, real templates, one address of each kind.
python3 - <<'PY'
import json, os
examples = json.load(open("tests/data/stratum/examples.json"))
for d in ("stratum_line", "share", "stratum_job", "rpc_response"):
    os.makedirs(f"fuzz/corpus/{d}", exist_ok=True)
for e, ex in enumerate(examples):
    lines = ex["messages"]
    for i, line in enumerate(lines):
        open(f"fuzz/corpus/stratum_line/{e}-{i}", "w").write(line + "\n")
    open(f"fuzz/corpus/stratum_line/{e}-all", "w").write("\n".join(lines) + "\n")
    ins = ex.get("inputs")
    if ins:
        en1 = json.loads(lines[ins["subscribe_result_index"]])["result"][1]
        parts = [lines[ins["notify_index"]], lines[ins["submit_index"]], en1]
        if ins.get("version_mask"):
            parts.append(ins["version_mask"])
        open(f"fuzz/corpus/share/{e}", "w").write("\0".join(parts))
open("fuzz/corpus/rpc_response/error", "w").write(
    '{"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":"hashwatt"}')
for name in os.listdir("tests/data/gbt"):
    gbt = json.load(open(f"tests/data/gbt/{name}"))
    body = {"result": gbt.get("result", gbt), "error": None, "id": "hashwatt"}
    open(f"fuzz/corpus/rpc_response/{name}", "w").write(json.dumps(body))
PY
seed gbt_template tests/data/gbt/*.json
mkdir -p fuzz/corpus/payout_address
for a in bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5 \
    bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0 \
    tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7 \
    bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 \
    1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn; do
    printf '%s' "$a" > "fuzz/corpus/payout_address/$a"
done

for target in header target scenario_toml bench_json compare_json \
    stratum_line stratum_job share gbt_template payout_address rpc_response; do
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
