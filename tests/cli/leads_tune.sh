#!/usr/bin/env bash
# leads tune: every combination of --k, --balance and --C measured on the
# held-out clients and ranked; the best setting's figures are leads eval's
# for it, its printed fit command gives the model --model saves; folds hold
# every client out once; bad grids are refused, and a failed run writes
# nothing.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen" "$G" gen market --rows 6000 --seed 5 --out "$D/market.csv" --portfolios 1 \
  --portfolio-prefix "$D/pf"
expect_ok "tune" "$G" leads tune --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 1,3 \
  --balance smote,none --C 0.1,1 --out "$D/grid.csv" --json "$D/grid.json" \
  --model "$D/best.gpurec" --device cpu
cp "$WORK/out" "$D/tune.out"
check "eight settings, ranked" "grep -qE '^8 settings ranked by map@10 on [0-9]+ held-out clients' '$D/tune.out' && [ \$(grep -cE '^ +[1-8] +[13] +(smote|none) ' '$D/tune.out') -eq 8 ]"
check "table, CSV and JSON agree" "python3 -c \"
import csv, json, sys
rows = list(csv.DictReader(open('$D/grid.csv')))
j = json.load(open('$D/grid.json'))
maps = [float(r['map@10']) for r in rows]
ok = len(rows) == 8 and len(j['settings']) == 8 and j['folds'] == 1 and j['metric'] == 'map@10'
ok &= sorted((int(r['k']), r['balance'], float(r['C'])) for r in rows) == sorted((k, b, c) for k in (1, 3) for b in ('smote', 'none') for c in (0.1, 1.0))
ok &= abs(j['settings'][j['best']]['map']['10'] - max(maps)) < 1e-9
table = [l.split() for l in open('$D/tune.out') if l[:4].strip().isdigit()]
ok &= [float(t[4]) for t in table] == sorted((round(m, 4) for m in maps), reverse=True)
sys.exit(0 if ok else 1)\""
cmdline=$(grep '^gpurec leads fit ' "$D/tune.out")
check "fit command printed" "[ -n \"\$cmdline\" ] && echo \"\$cmdline\" | grep -q -- '--model leads.gpurec --leads leads.csv --k [13] --balance '"
# the best setting alone through leads eval: the same figures
evalcmd=$(echo "$cmdline" | sed -e 's/^gpurec leads fit //' -e 's/--model leads.gpurec --leads leads.csv //')
expect_ok "eval the best" bash -c "\"$G\" leads eval $evalcmd --json '$D/one.json' --device cpu"
check "tune's figures are eval's" "python3 -c \"
import json, sys
j = json.load(open('$D/grid.json')); best = j['settings'][j['best']]; e = json.load(open('$D/one.json'))
ok = all(abs(best['map'][c] - e['map'][c]) < 1e-9 for c in ('5', '10', '25', '50')) and abs(best['auc'] - e['auc']) < 1e-9
sys.exit(0 if ok else 1)\""
# the printed command trains the model --model saved, byte for byte
expect_ok "run the fit command" bash -c "cd '$D' && \"$G\" ${cmdline#gpurec } --device cpu"
check "the same model" "cmp -s '$D/best.gpurec' '$D/leads.gpurec'"

# folds: each client held out once, the figures their mean
expect_ok "folds" "$G" leads tune --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 2 \
  --balance none --C 0.1,1 --folds 3 --metric auc --json "$D/folds.json" --device cpu --quiet
check "3 folds, every client once, means" "python3 -c \"
import json, sys
j = json.load(open('$D/folds.json')); n = sum(1 for _ in open('$D/pf1.csv')) - 1
ok = j['folds'] == 3 and j['metric'] == 'auc' and len(j['settings']) == 2
for s in j['settings']:
    f = s['folds']
    ok &= len(f) == 3 and sum(x['n_test'] for x in f) == n and all(x['n_test'] + x['n_train'] == n for x in f)
    ok &= abs(s['map']['10'] - sum(x['map']['10'] for x in f) / 3) < 2e-6 and abs(s['auc'] - sum(x['auc'] for x in f) / 3) < 2e-6
    ok &= s['std_err'] > 0
ok &= j['settings'][j['best']]['auc'] == max(s['auc'] for s in j['settings'])
sys.exit(0 if ok else 1)\""
check "folds table has a standard error" "grep -q 'std err' '$WORK/out' && grep -q 'the mean of 3 folds' '$WORK/out'"

# C as leads fit reads it back, to the last digit, in every output
expect_ok "close Cs" "$G" leads tune --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 2 \
  --balance none --C 0.1234567,0.1234568 --out "$D/c.csv" --device cpu --quiet
check "close Cs kept apart" "[ \$(cut -d, -f3 '$D/c.csv' | sort -u | grep -c '^0.123456[78]\$') -eq 2 ] && grep -qE '^ +[12] +2 +none +0.123456[78] ' '$WORK/out'"
# a C just above the midpoint of two floats (1 + 2^-24 + 1e-25): read as a
# double first it would round to the midpoint and then down to 1; read as a
# float, as leads fit reads it, it is the float above 1
expect_ok "C read as a float" "$G" leads tune --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 2 \
  --balance none --C 1.0000000596046447753906251 --device cpu --quiet
check "C is the float above 1" "grep -q -- '--C 1.0000001 ' '$WORK/out'"

# every output or none: a file that cannot be written leaves the others unwritten
expect_fail "json unwritable" "cannot" "$G" leads tune --market "$D/market.csv" \
  --portfolio "$D/pf1.csv" --k 1 --balance none --C 1 --out "$D/half.csv" \
  --json "$D/no/such/dir/x.json" --device cpu
expect_fail "model unwritable" "cannot" "$G" leads tune --market "$D/market.csv" \
  --portfolio "$D/pf1.csv" --k 1 --balance none --C 1 --out "$D/half.csv" --json "$D/half.json" \
  --model "$D/no/such/dir/x.gpurec" --device cpu
check "no output when one fails" "[ ! -e '$D/half.csv' ] && [ ! -e '$D/half.json' ] && ! ls '$D' | grep -q tmp"

# refused before any work, nothing written
for bad in "--k 0|--k expects" "--k 2,x|--k expects" "--balance smote,more|--balance expects" \
  "--C 0,1|--C expects" "--metric ndcg|--metric expects" "--at 7|--at expects" \
  "--folds 0|--folds must be" "--test-fraction 1|--test-fraction must be" \
  "--k 3,3|--k lists 3 twice" "--C 1,1.0|--C lists 1 twice" "--balance none,none|--balance lists none twice" \
  "--folds 3 --test-fraction 0.3|--test-fraction applies to --folds 1 only"; do
  expect_fail "refused: ${bad%%|*}" "${bad#*|}" "$G" leads tune --market "$D/market.csv" \
    --portfolio "$D/pf1.csv" ${bad%%|*} --out "$D/bad.csv" --model "$D/bad.gpurec" --device cpu
done
expect_fail "more folds than clients" "too few for 100 folds" "$G" leads tune \
  --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 1 --balance none --C 1 --folds 100 \
  --out "$D/bad.csv" --json "$D/bad.json" --model "$D/bad.gpurec" --device cpu
expect_fail "no portfolio" "--portfolio FILE is required" "$G" leads tune --market "$D/market.csv" \
  --device cpu
check "no output after a failure" "[ ! -e '$D/bad.csv' ] && [ ! -e '$D/bad.json' ] && [ ! -e '$D/bad.gpurec' ]"
finish
