#!/usr/bin/env bash
# Ctrl-C during training: the iteration in progress finishes, a checkpoint is
# written, the exit status is 130, and --resume reaches the same model file
# as an uninterrupted run, byte for byte.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen" "$G" gen interactions --scale small --seed 4 --out "$D/data.csv"
args=(--input "$D/data.csv" --factors 32 --iterations 150 --device cpu --threads 2 --quiet)
expect_ok "uninterrupted" "$G" als fit "${args[@]}" --model "$D/full.bin"
"$G" als fit "${args[@]}" --model "$D/part.bin" --checkpoint "$D/ck.bin" --checkpoint-every 1000 \
  2>"$D/int.err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "training finished before the signal: machine too fast for this test, skipping" >&2
  exit 77
fi
check "exit 130" "[ $rc -eq 130 ]"
check "message" "grep -q 'training stopped after iteration' '$D/int.err'"
check "checkpoint written" "[ -s '$D/ck.bin' ] && [ ! -e '$D/part.bin' ]"
expect_ok "resume" "$G" als fit "${args[@]}" --model "$D/resumed.bin" --resume "$D/ck.bin"
check "same model" "cmp -s '$D/full.bin' '$D/resumed.bin'"
finish
