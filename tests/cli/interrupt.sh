#!/usr/bin/env bash
# Ctrl-C during training: the iteration in progress finishes, a checkpoint is
# written, the exit status is 130, and --resume reaches the same model file
# as an uninterrupted run, byte for byte. The interrupted fit asks for
# 100,000 iterations (the most allowed) and is signalled once its progress
# shows the third, so no machine is fast enough to finish first.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen" "$G" gen interactions --scale small --seed 4 --out "$D/data.csv"
args=(--input "$D/data.csv" --factors 32 --device cpu --threads 2)
"$G" als fit "${args[@]}" --iterations 100000 --model "$D/part.bin" --checkpoint "$D/ck.bin" \
  --checkpoint-every 100000 2>"$D/int.err" &
pid=$!
for _ in $(seq 600); do # at most a minute
  grep -q 'iteration 3/' "$D/int.err" 2>/dev/null && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
check "exit 130" "[ $rc -eq 130 ]"
check "message" "grep -q 'training stopped after iteration [0-9]* of 100000; checkpoint written' '$D/int.err'"
check "checkpoint written, no model" "[ -s '$D/ck.bin' ] && [ ! -e '$D/part.bin' ]"
done_its=$(sed -n 's/.*training stopped after iteration \([0-9]*\) of.*/\1/p' "$D/int.err")
check "stopped after the third iteration or later" "[ '${done_its:-0}' -ge 3 ]"
total=$((${done_its:-0} + 4))
expect_ok "uninterrupted" "$G" als fit "${args[@]}" --iterations "$total" --model "$D/full.bin" --quiet
expect_ok "resume" "$G" als fit "${args[@]}" --iterations "$total" --model "$D/resumed.bin" \
  --resume "$D/ck.bin" --quiet
check "same model" "cmp -s '$D/full.bin' '$D/resumed.bin'"
finish
