#!/usr/bin/env bash
# als tune: every combination fitted and evaluated on one split, ranked by
# the metric; each setting's figures equal als eval's for that setting on
# the same split; --model trains the best one; bad grids are refused
# before any work, and a failed run writes nothing.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen" "$G" gen interactions --scale tiny --seed 9 --out "$D/all.csv"
expect_ok "tune" "$G" als tune --input "$D/all.csv" --factors 8,16 --iterations 4 \
  --regularization 0.1,30 --alpha 1,10 --out "$D/grid.csv" --json "$D/grid.json" \
  --model "$D/best.gpurec" --device cpu
check "eight settings, ranked" "grep -q '^8 settings ranked by map@10' '$WORK/out' && [ \$(grep -cE '^ +[1-8] +(8|16) +linear +4 ' '$WORK/out') -eq 8 ]"
check "table and files agree on the best" "python3 -c \"
import csv, json, sys
rows = list(csv.DictReader(open('$D/grid.csv')))
j = json.load(open('$D/grid.json'))
maps = [float(r['map']) for r in rows]
best = j['settings'][j['best']]
ok = len(rows) == 8 and len(j['settings']) == 8 and abs(best['metrics']['map'] - max(maps)) < 1e-9
ok &= sorted((int(r['factors']), float(r['regularization']), float(r['alpha'])) for r in rows) == sorted((f, r, a) for f in (8, 16) for r in (0.1, 30) for a in (1, 10))
table = [l.split() for l in open('$WORK/out') if l[:4].strip().isdigit()]
ok &= [float(t[6]) for t in table] == sorted((round(m, 4) for m in maps), reverse=True)
sys.exit(0 if ok else 1)\""
check "baseline lines printed" "grep -qE '^popularity baseline \(the most popular unseen items\): map@10 0\.[0-9]{4}\$' '$WORK/out' && grep -qE '^item kNN baseline \(cosine, 20 neighbours per item\): map@10 0\.[0-9]{4}\$' '$WORK/out'"
check "fit command printed" "grep -q '^gpurec als fit --input .*all.csv --model model.gpurec --factors [0-9]* --iterations 4 --regularization' '$WORK/out'"
# one setting evaluated alone, on the same split: the same figures
expect_ok "eval one setting" "$G" als eval --input "$D/all.csv" --factors 16 --iterations 4 \
  --regularization 30 --alpha 10 --json "$D/one.json" --device cpu
check "tune's figures are eval's" "python3 -c \"
import csv, json, sys
m = json.load(open('$D/one.json'))['metrics']
r = [r for r in csv.DictReader(open('$D/grid.csv')) if (r['factors'], r['regularization'], r['alpha']) == ('16', '30', '10')][0]
sys.exit(0 if all(abs(float(r[c]) - m[c]) < 1e-6 for c in ('map', 'precision', 'recall', 'ndcg', 'hit_rate', 'auc', 'coverage')) else 1)\""
expect_ok "the best model recommends" "$G" als recommend --model "$D/best.gpurec" --input "$D/all.csv" \
  --users u1 --k 3 --device cpu
check "three recommendations" "[ \$(wc -l < '$WORK/out') -eq 4 ]"
expect_ok "rank by precision" "$G" als tune --input "$D/all.csv" --factors 8 --iterations 2 \
  --regularization 1 --alpha 1,10 --metric precision --device cpu
check "ranked by precision" "grep -q '^2 settings ranked by precision@10' '$WORK/out'"

# the log confidence: kept in the model, named in the best setting's command
expect_ok "tune, log confidence" "$G" als tune --input "$D/all.csv" --factors 8 --iterations 2 \
  --regularization 1 --alpha 1,10 --confidence log --epsilon 2 --device cpu
check "log in the fit command" "grep -q -- ' --confidence log --epsilon 2 ' '$WORK/out'"
expect_ok "tune, both forms" "$G" als tune --input "$D/all.csv" --factors 8 --iterations 2 \
  --regularization 1 --alpha 1,10 --confidence linear,log --epsilon 2 --out "$D/forms.csv" --device cpu
check "both forms in the grid" "grep -q '^4 settings ranked' '$WORK/out' && [ \$(grep -c ',0,10,' '$D/forms.csv') -eq 2 ] && [ \$(grep -c ',2,10,' '$D/forms.csv') -eq 2 ] && grep -qE '^ +[1-4] +8 +log ' '$WORK/out'"
expect_fail "unknown form in the list" "--confidence expects linear or log" "$G" als tune \
  --input "$D/all.csv" --confidence linear,cubic --device cpu
expect_ok "fit, log confidence" "$G" als fit --input "$D/all.csv" --model "$D/log.gpurec" --factors 8 \
  --iterations 2 --confidence log --epsilon 2 --json "$D/log.json" --device cpu
check "log_epsilon reported" "grep -q '\"log_epsilon\": 2,' '$D/log.json'"
expect_ok "explain with the log model" "$G" als recommend --model "$D/log.gpurec" --input "$D/all.csv" \
  --users u1 --k 2 --explain 2 --device cpu
expect_fail "unknown confidence" "--confidence expects linear or log" "$G" als fit --input "$D/all.csv" \
  --model "$D/bad.gpurec" --confidence square --device cpu
expect_fail "epsilon 0" "--epsilon must be a finite number > 0" "$G" als tune --input "$D/all.csv" \
  --confidence log --epsilon 0 --device cpu

# the printed command trains the model tune saved, byte for byte, whatever
# the non-default settings; a path with a space is quoted
cp "$D/all.csv" "$D/all data.csv"
expect_ok "tune, odd settings" "$G" als tune --input "$D/all data.csv" --factors 8 --iterations 2 \
  --regularization 1 --alpha 2 --cg-steps 5 --random-state 7 --model "$D/tuned.gpurec" --device cpu
check "the printed command reproduces the model" "cmd=\$(grep '^gpurec als fit ' '$WORK/out') && (cd '$D' && eval \"'$G' \${cmd#gpurec } --device cpu --quiet\") && cmp '$D/model.gpurec' '$D/tuned.gpurec'"
expect_fail "epsilon without log" "--epsilon applies to --confidence log only" "$G" als tune \
  --input "$D/all.csv" --epsilon 2 --device cpu
expect_fail "input and train" "give either --input FILE" "$G" als tune --input "$D/all.csv" \
  --train "$D/all.csv" --device cpu
# the stated limit itself is in range (1e30 as a float is a little above
# 1e30): accepted, then the fit overflows and says so (not a usage error)
expect_fail "regularization at its limit" "iteration 1: the factors of user '[^']*' (row 0) are not finite" \
  "$G" als tune --input "$D/all.csv" --factors 4 --iterations 1 --regularization 1e30 --alpha 1 --device cpu
expect_fail "k 0" "--k must be in 1..1024" "$G" als tune --input "$D/all.csv" --k 0 --device cpu

# the baselines beside the model: their own columns and JSON figures, and
# on planted topics the model beats popularity; item kNN (which agrees with
# implicit's CosineRecommender to 6 digits here) recommends across far
# more of the catalogue than popularity
expect_ok "eval with the baseline" "$G" als eval --input "$D/all.csv" --factors 16 --iterations 8 \
  --regularization 30 --baseline --json "$D/base.json" --device cpu
check "baseline columns" "grep -qE '^ +model +popular +item_knn\$' '$WORK/out' && grep -qE '^map@10 +0\.[0-9]{4} +0\.[0-9]{4} +0\.[0-9]{4}\$' '$WORK/out'"
check "tune's baseline is eval's (same split)" "python3 -c \"
import json, sys
g, e = json.load(open('$D/grid.json')), json.load(open('$D/base.json'))
ok = e['baseline_item_knn_neighbours'] == g['baseline_item_knn_neighbours'] == 20
for name in ('baseline_popular', 'baseline_item_knn'):
    a, b = g[name], e[name]
    ok &= all(abs(a[c] - b[c]) < 1e-6 for c in ('map', 'precision', 'recall', 'ndcg', 'auc', 'coverage'))
sys.exit(0 if ok else 1)\""
check "model beats popularity" "python3 -c \"
import json, sys
j = json.load(open('$D/base.json')); m, b = j['metrics'], j['baseline_popular']
sys.exit(0 if m['map'] > 1.5 * b['map'] and b['n_users'] == m['n_users'] and b['map'] > 0 and b['coverage'] < m['coverage'] else 1)\""
check "item kNN: every user, across the catalogue" "python3 -c \"
import json, sys
j = json.load(open('$D/base.json')); k, b = j['baseline_item_knn'], j['baseline_popular']
sys.exit(0 if k['n_users'] == b['n_users'] and k['map'] > 0 and k['coverage'] > 5 * b['coverage'] else 1)\""

# bad grids: refused before reading anything (exit 2), nothing written
expect_fail "not a number" "--alpha expects up to 32 comma-separated numbers" "$G" als tune \
  --input "$D/all.csv" --alpha 1,x --out "$D/bad.csv" --device cpu
expect_fail "alpha 0" "--alpha expects" "$G" als tune --input "$D/all.csv" --alpha 0 --device cpu
expect_fail "fractional factors" "--factors expects up to 32 comma-separated integers" "$G" als tune \
  --input "$D/all.csv" --factors 8.5 --device cpu
expect_fail "unknown metric" "--metric expects map" "$G" als tune --input "$D/all.csv" --metric mrr \
  --device cpu
L=$(seq -s, 1 17)
expect_fail "grid too large" "at most 4096 in one grid" "$G" als tune --input "$D/all.csv" \
  --factors "$L" --regularization "$L" --alpha "$L" --device cpu
printf 'user,item\nu1,i1\nu2\n' > "$D/ragged.csv"
expect_fail "bad data" "ragged.csv:3" "$G" als tune --input "$D/ragged.csv" --out "$D/bad.csv" \
  --json "$D/bad.json" --model "$D/bad.gpurec" --device cpu
check "nothing written after a failure" "[ ! -e '$D/bad.csv' ] && [ ! -e '$D/bad.json' ] && [ ! -e '$D/bad.gpurec' ]"
# every output or none: a model that cannot be saved leaves the table files unwritten
expect_fail "model unwritable" "cannot" "$G" als tune --input "$D/all.csv" --factors 8 \
  --iterations 2 --regularization 1 --alpha 1 --out "$D/half.csv" --json "$D/half.json" \
  --model "$D/no/such/dir/m.gpurec" --device cpu
check "no output when one fails" "[ ! -e '$D/half.csv' ] && [ ! -e '$D/half.json' ] && ! ls '$D' | grep -q tmp"
finish
