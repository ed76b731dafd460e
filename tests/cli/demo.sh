#!/usr/bin/env bash
# gpurec demo, small: both halves of the tour run and leave their outputs.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK/demo"
expect_ok "demo" "$G" demo --scale tiny --market-rows 3000 --dir "$D" --device cpu
check "ALS evaluated" "grep -q 'precision@10' '$WORK/out'"
check "a recommendation explained" "grep -q 'mostly because of i[0-9]* (+[0-9.]*)' '$WORK/out'"
check "leads evaluated" "grep -q '^@10' '$WORK/out' && grep -q 'ROC AUC' '$WORK/out'"
check "leads tuned" "grep -q '^8 settings ranked by map@10' '$WORK/out' && grep -q '^gpurec leads fit ' '$WORK/out'"
check "five leads" "[ \$(wc -l < '$D/leads.csv') -eq 6 ] && head -1 '$D/leads.csv' | grep -q '^rank,id,score,cluster,setor'"
check "models written" "[ -s '$D/model.gpurec' ] && [ -s '$D/leads.gpurec' ]"
finish
