#!/usr/bin/env bash
# als fit/eval --warm-start: retraining on grown data from the last model.
# One iteration from it scores far better than one from scratch; the items
# it knows are counted; a model of another factor count is refused and no
# model is written.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen" "$G" gen interactions --scale tiny --seed 13 --out "$D/all.csv"
head -14000 "$D/all.csv" > "$D/old.csv" # the first 70%: yesterday's data
expect_ok "yesterday's model" "$G" als fit --input "$D/old.csv" --model "$D/old.gpurec" --factors 16 \
  --iterations 10 --regularization 30 --device cpu
n_items=$(tail -n +2 "$D/all.csv" | cut -d, -f2 | sort -u | wc -l)
n_known=$(tail -n +2 "$D/old.csv" | cut -d, -f2 | sort -u | wc -l)
expect_ok "retrain from it" "$G" als fit --input "$D/all.csv" --model "$D/new.gpurec" --factors 16 \
  --iterations 2 --regularization 30 --warm-start "$D/old.gpurec" --device cpu
check "known items counted" "grep -q 'warm start from .*old.gpurec: $n_known of $n_items items start from its factors' '$WORK/err'"
for mode in warm cold; do
  extra=(); [ $mode = warm ] && extra=(--warm-start "$D/old.gpurec")
  expect_ok "one iteration, $mode" "$G" als eval --input "$D/all.csv" --factors 16 --iterations 1 \
    --regularization 30 "${extra[@]}" --json "$D/$mode.json" --device cpu
done
check "warm beats cold after one iteration" "python3 -c \"
import json, sys
w = json.load(open('$D/warm.json'))['metrics']['map']; c = json.load(open('$D/cold.json'))['metrics']['map']
sys.exit(0 if w > 1.5 * c else 1)\""
expect_fail "other factor count" "warm-start model has 16 factors, training asks for 8" "$G" als fit \
  --input "$D/all.csv" --model "$D/bad.gpurec" --factors 8 --warm-start "$D/old.gpurec" --device cpu
check "no model after a refusal" "[ ! -e '$D/bad.gpurec' ]"
expect_fail "not a model" "not a gpurec model" "$G" als fit --input "$D/all.csv" --model "$D/bad.gpurec" \
  --warm-start "$D/all.csv" --device cpu
finish
