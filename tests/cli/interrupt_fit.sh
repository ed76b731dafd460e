#!/usr/bin/env bash
# Ctrl-C during KMeans (gpurec kmeans, and inside gpurec leads eval): the fit
# stops after the Lloyd step in progress, says so, exits 130, and writes no
# output and leaves no temporary file. Long fits are made with tol 0 and many
# clusters, and the signal is sent once progress shows the fit under way; a
# machine fast enough to finish all the same skips (77).
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
awk 'BEGIN { srand(9); printf "id"; for (j = 0; j < 12; j++) printf ",x%d", j; print "";
  for (r = 0; r < 100000; r++) { printf "r%d", r; for (j = 0; j < 12; j++) printf ",%.3f", rand() * 10; print "" } }' > "$D/num.csv"

# exit 77 (skipped) when the interrupted command ($1) finished before its signal
skip_if_finished() {
  if [ "$rc" -eq 0 ]; then
    echo "$1 finished before the signal: machine too fast for this test, skipping" >&2
    exit 77
  fi
}

# runs "$@" in the background, sends SIGINT as soon as its stderr shows
# PATTERN ($1): a stage is then known to be under way; sets rc
interrupt_when() {
  local pattern="$1"; shift
  : >"$D/int.err"
  "$@" 2>"$D/int.err" >"$D/int.out" &
  local pid=$!
  for _ in $(seq 3000); do
    grep -q -- "$pattern" "$D/int.err" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  kill -INT "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
}

# the signal comes once the progress shows the third Lloyd step
interrupt_when 'restart 1, step 3:' "$G" kmeans --input "$D/num.csv" --k 96 --max-iter 100000 --tol 0 \
  --labels "$D/labels.csv" --centroids "$D/centroids.csv" --threads 2 --device cpu
skip_if_finished "kmeans"
check "kmeans: exit 130" "[ $rc -eq 130 ]"
check "kmeans: message" "grep -q 'stopped after Lloyd step' '$D/int.err'"
check "kmeans: no output, no temporary" "[ ! -e '$D/labels.csv' ] && [ ! -e '$D/centroids.csv' ] && ! ls '$D' | grep -q tmp"

expect_ok "gen market" "$G" gen market --rows 30000 --seed 5 --out "$D/market.csv" --portfolio-prefix "$D/portfolio"
# the signal comes once the market is encoded: KMeans (128 clusters, tol 0) is under way
interrupt_when 'leads: encoded' "$G" leads eval --market "$D/market.csv" --portfolio "$D/portfolio1.csv" --k 128 \
  --kmeans-max-iter 100000 --kmeans-tol 0 --json "$D/report.json" --threads 2 --device cpu
skip_if_finished "leads eval"
check "leads: exit 130" "[ $rc -eq 130 ]"
check "leads: message" "grep -q 'interrupted' '$D/int.err'"
check "leads: no report, no temporary" "[ ! -e '$D/report.json' ] && ! ls '$D' | grep -q tmp"

# leads tune: the first setting (k 1) is done when the second's KMeans is
# interrupted; the table so far is printed, no file written
interrupt_when 'leads: \[1/2\]' "$G" leads tune --market "$D/market.csv" --portfolio "$D/portfolio1.csv" \
  --k 1,128 --balance none --C 1 --kmeans-max-iter 100000 --kmeans-tol 0 --out "$D/grid.csv" \
  --json "$D/grid.json" --model "$D/best.gpurec" --threads 2 --device cpu
skip_if_finished "leads tune"
check "tune: exit 130" "[ $rc -eq 130 ]"
check "tune: the table so far" "grep -q '^1 settings ranked by map@10' '$D/int.out' && grep -qE '^ +1 +1 +none ' '$D/int.out'"
check "tune: no files, no temporary" "[ ! -e '$D/grid.csv' ] && [ ! -e '$D/grid.json' ] && [ ! -e '$D/best.gpurec' ] && ! ls '$D' | grep -q tmp"
finish
