#!/usr/bin/env bash
# Side-by-side: cpuminer-opt and hashwatt alternating. Also prints the CPU
# share each run got (task-clock / wall / threads), to show the host's noise.
set -u
B=${HASHWATT:-target/release/hashwatt}
P=${PEER:-../shared/peers/cpuminer-sha256d-bench}
S=${S:-8}
REPS=${REPS:-3}
THREADS=${THREADS:-1 2}
run() { # threads cmd...
  local t=$1; shift
  local t0 t1 out cpu
  t0=$(date +%s.%N)
  out=$(perf stat -x, -e task-clock "$@" 2>"${TMPDIR:-/tmp}/side-by-side-perf.$$")
  t1=$(date +%s.%N)
  cpu=$(grep task-clock "${TMPDIR:-/tmp}/side-by-side-perf.$$" | cut -d, -f1)
  share=$(echo "$cpu $t0 $t1 $t" | awk '{printf "%.2f", $1/1000/($3-$2)/$4}')
  echo "$out" | tail -1 | tr -s ' ' | sed "s/\$/ | cpu_share=$share/"
}
for rep in $(seq $REPS); do
  for t in $THREADS; do
    echo "rep $rep t $t $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
    run $t $P $t $S
    run $t $B bench --backend ${BACKEND:-cpu} --threads $t --seconds $S
  done
done
