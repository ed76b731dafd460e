#!/usr/bin/env bash
# gpurec leads fit|score|eval and gpurec logreg on a small planted market:
# outputs, a saved model that scores identically, and clear errors for bad
# input (empty portfolio, ids not in the market, ragged rows, duplicate ids,
# unknown booleans) with no output file left behind.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
# 400 companies; clients (every 10th) sit in region SP with a high score
awk 'BEGIN { srand(3); print ",id,sg_uf,score,fl_email,dt_inicio";
  for (r = 0; r < 400; r++) { c = (r % 10 == 0);
    uf = c ? "SP" : (r % 3 ? "RJ" : "MG"); s = (c ? 5 : 0) + rand() * 4;
    printf "%d,id%03d,%s,%.3f,%s,20%02d-01-15\n", r, r, uf, s, (r % 4 ? "True" : "False"), r % 20 }
}' > "$D/market.csv"
awk 'BEGIN { print ",id"; for (r = 0; r < 400; r += 10) printf "%d,id%03d\n", r / 10, r }' > "$D/pf.csv"

expect_ok "fit" "$G" leads fit --market "$D/market.csv" --portfolio "$D/pf.csv" --k 2 \
  --model "$D/m.gpurec" --leads "$D/leads.csv" --top 20 --columns sg_uf,fl_email,dt_inicio --device cpu
check "leads header" "head -1 '$D/leads.csv' | grep -qx 'rank,id,score,cluster,sg_uf,fl_email,dt_inicio'"
check "20 leads" "[ \$(wc -l < '$D/leads.csv') -eq 21 ]"
check "no client among the leads" "! cut -d, -f2 '$D/leads.csv' | grep -qE 'id[0-9][0-9]0$'"
check "progress on stderr" "grep -q 'logistic regressions' '$WORK/err'"
expect_ok "score" "$G" leads score --market "$D/market.csv" --model "$D/m.gpurec" \
  --leads "$D/leads2.csv" --top 20 --scores "$D/all.csv" --device cpu
check "score = fit's leads" "diff <(cut -d, -f1-4 '$D/leads.csv') '$D/leads2.csv' >/dev/null"
check "every company scored" "[ \$(wc -l < '$D/all.csv') -eq 401 ]"
# dropped columns are reported by name and reason
awk -F, -v OFS=, 'NR == 1 { print $0, "sparse", "same"; next } { print $0, (NR % 10 ? "" : NR), "x" }' \
  "$D/market.csv" > "$D/market_drop.csv"
expect_ok "fit, columns to drop" "$G" leads fit --market "$D/market_drop.csv" --portfolio "$D/pf.csv" --k 2 \
  --model "$D/drop.gpurec" --device cpu
check "dropped columns named" "grep -q 'dropped 1 column missing in more than 80% of rows: sparse\$' '$WORK/err' && grep -q 'dropped 1 constant column: same\$' '$WORK/err'"
# a few rows are read with the kinds the model was fitted with: a number
# column with no values here is still numbers (inferred, an empty column
# would be booleans), and scores as it does inside the whole market
awk -F, -v OFS=, 'NR == 2 || NR == 3 { $4 = "" } { print }' "$D/market.csv" > "$D/market01.csv"
head -3 "$D/market01.csv" > "$D/two.csv"
expect_ok "score the whole market" "$G" leads score --market "$D/market01.csv" --model "$D/m.gpurec" \
  --scores "$D/all01.csv" --device cpu
expect_ok "score two rows" "$G" leads score --market "$D/two.csv" --model "$D/m.gpurec" \
  --scores "$D/two_scores.csv" --device cpu
check "two rows score as in the whole market" "diff <(sed -n 1,3p '$D/all01.csv') '$D/two_scores.csv' >/dev/null"
# a market without columns the model uses: an error naming them, or with
# --absent-columns missing the scores of those columns left empty
cut -d, -f1,2,4,6 "$D/market.csv" > "$D/fewer.csv"
awk -F, -v OFS=, 'NR > 1 { $3 = ""; $5 = "" } { print }' "$D/market.csv" > "$D/blank.csv"
expect_fail "absent columns" "fewer.csv lacks 2 columns the model uses ('sg_uf', 'fl_email'); --absent-columns missing" \
  "$G" leads score --market "$D/fewer.csv" --model "$D/m.gpurec" --scores "$D/few.csv" --device cpu
expect_ok "absent columns, as missing" "$G" leads score --market "$D/fewer.csv" --model "$D/m.gpurec" \
  --scores "$D/few.csv" --absent-columns missing --device cpu --quiet
check "absent columns said even with --quiet" "grep -q 'warning: .*fewer.csv lacks 2 columns the model uses' '$WORK/err'"
expect_ok "the same columns left empty" "$G" leads score --market "$D/blank.csv" --model "$D/m.gpurec" \
  --scores "$D/blank_scores.csv" --device cpu --quiet
check "absent = every value missing" "cmp -s '$D/few.csv' '$D/blank_scores.csv'"
check "and not the scores with the values" "! cmp -s '$D/few.csv' '$D/all.csv'"
sed '3s/20[0-9][0-9]-01-15/2020-13-45/' "$D/two.csv" > "$D/baddate.csv"
expect_fail "score, a bad date" "baddate.csv:3:.*expected a date YYYY-MM-DD in column 'dt_inicio'" \
  "$G" leads score --market "$D/baddate.csv" --model "$D/m.gpurec" --scores "$D/bd.csv" --device cpu
# the reasons: the planted signal (region SP, a high score) lifts the leads,
# and every reason is true of its company: a level it has, "not" a level it
# lacks, a number "high" or "low" against the market's mean
expect_ok "score, explained" "$G" leads score --market "$D/market.csv" --model "$D/m.gpurec" \
  --leads "$D/why.csv" --top 20 --explain 4 --columns sg_uf,score,fl_email --device cpu
check "reasons per lead, each true of the company" "head -1 '$D/why.csv' | grep -qx 'rank,id,score,cluster,sg_uf,score,fl_email,because' && python3 -c \"
import csv, sys
market = list(csv.DictReader(open('$D/market.csv')))
mean = sum(float(r['score']) for r in market) / len(market)
rows = list(csv.reader(open('$D/why.csv')))[1:]
ok = len(rows) == 20
for r in rows:
    uf, score, email, because = r[4], float(r[5]), r[6], r[7]
    parts = [p.rsplit(' ', 1) for p in because.split('|')]
    vals = [float(v) for _, v in parts]
    ok &= 1 <= len(parts) <= 4 and all(v > 0 for v in vals) and vals == sorted(vals, reverse=True)
    ok &= parts[0][0] in ('sg_uf=SP', 'score high')
    for name, _ in parts:
        neg = name.startswith('not ')
        base = name[4:] if neg else name
        if base.startswith('sg_uf='): ok &= (uf == base[6:]) != neg
        elif base == 'fl_email': ok &= (email == 'True') != neg
        elif base == 'score high': ok &= score > mean
        elif base == 'score low': ok &= score < mean
sys.exit(0 if ok else 1)\""
check "same leads with reasons" "diff <(cut -d, -f1-4 '$D/why.csv') '$D/leads2.csv' >/dev/null"
# --exclude and --only narrow the leads file: the same order, less the
# excluded companies; only the listed ones (never a client)
cut -d, -f2 "$D/leads2.csv" | sed -n '2,6p' | sed '1i id' > "$D/contacted.csv"
expect_ok "score, excluding five" "$G" leads score --market "$D/market.csv" --model "$D/m.gpurec" \
  --leads "$D/excl.csv" --top 15 --exclude "$D/contacted.csv" --device cpu
check "the next 15 leads, in order" "diff <(cut -d, -f2- '$D/excl.csv' | tail -n +2) <(cut -d, -f2- '$D/leads2.csv' | sed -n '7,21p') >/dev/null"
check "excluding says how many" "grep -q 'excluding 5 companies' '$WORK/err'"
awk 'BEGIN { print "id"; for (r = 0; r < 400; r += 4) printf "id%03d\n", r; print "nope" }' > "$D/territory.csv"
expect_ok "score, a territory" "$G" leads score --market "$D/market.csv" --model "$D/m.gpurec" \
  --leads "$D/only.csv" --top 1000 --only "$D/territory.csv" --scores "$D/all2.csv" --device cpu
check "only the territory's non-clients, best first" "python3 -c \"
import csv, sys
rows = list(csv.DictReader(open('$D/only.csv')))
ids = [int(r['id'][2:]) for r in rows]
scores = {r['id']: float(r['score']) for r in csv.DictReader(open('$D/all2.csv'))}
want = sorted((i for i in range(0, 400, 4) if i % 10), key=lambda i: (-scores['id%03d' % i], i))
sys.exit(0 if ids == want else 1)\""
check "every company still scored" "[ \$(wc -l < '$D/all2.csv') -eq 401 ]"
check "ids not in the market named" "grep -q '1 of 101 --only ids are not in the market (e.g. nope)' '$WORK/err'"
printf 'id\nnope\n' > "$D/nowhere.csv"
expect_fail "only, none in the market" "none of its 1 ids is in the market" "$G" leads score --market "$D/market.csv" \
  --model "$D/m.gpurec" --leads "$D/x.csv" --only "$D/nowhere.csv" --device cpu
expect_fail "exclude without leads" "--exclude and --only narrow the --leads file" "$G" leads score \
  --market "$D/market.csv" --model "$D/m.gpurec" --scores "$D/x.csv" --exclude "$D/contacted.csv" --device cpu
expect_fail "reasons without leads" "--explain adds reasons to the --leads file" "$G" leads score \
  --market "$D/market.csv" --model "$D/m.gpurec" --scores "$D/x.csv" --explain 2 --device cpu
expect_fail "explain too many" "--explain must be in 0..64" "$G" leads score --market "$D/market.csv" \
  --model "$D/m.gpurec" --leads "$D/x.csv" --explain 65 --device cpu
expect_ok "eval" "$G" leads eval --market "$D/market.csv" --portfolio "$D/pf.csv" --k 2 \
  --json "$D/e.json" --holdout-out "$D/held.csv" --device cpu
check "eval prints MAP and AUC" "grep -q '^@10' '$WORK/out' && grep -q 'ROC AUC' '$WORK/out' && grep -q 'in-sample' '$WORK/out'"
check "planted clients found" "python3 -c \"import json,sys; e=json.load(open('$D/e.json')); sys.exit(0 if e['auc'] > 0.9 and e['map']['10'] > 0.5 else 1)\""
check "holdout ids" "[ \$(wc -l < '$D/held.csv') -eq 9 ]"
check "every fit converged, nothing to warn" "python3 -c \"import json,sys; c=json.load(open('$D/e.json'))['convergence']; sys.exit(0 if c['kmeans_converged'] and c['models'] >= 1 and c['models_converged'] == c['models'] else 1)\" && ! grep -q warning '$WORK/err'"
# fits stopped by their limits still give leads, and say so
expect_ok "eval at the limits" "$G" leads eval --market "$D/market.csv" --portfolio "$D/pf.csv" --k 2 \
  --solver lbfgs --max-iter 2 --kmeans-max-iter 1 --json "$D/e3.json" --device cpu --quiet
check "limits: warned even with --quiet" "grep -q 'logistic regressions did not converge' '$WORK/err' && grep -q 'limit of 2 L-BFGS iterations' '$WORK/err'"
check "limits: the report says which fits stopped early" "python3 -c \"import json,sys; c=json.load(open('$D/e3.json'))['convergence']; sys.exit(0 if not c['kmeans_converged'] and c['kmeans_iterations'] == 1 and c['models_converged'] == 0 and c['max_grad_norm'] > 1e-6 else 1)\""
expect_fail "negative tol" "tol >= 0" "$G" leads eval --market "$D/market.csv" --portfolio "$D/pf.csv" --k 2 --tol -1 --device cpu
for b in weight none; do
  expect_ok "balance $b" "$G" leads eval --market "$D/market.csv" --portfolio "$D/pf.csv" --k 2 --balance $b --device cpu
done

# bad input: a clear message, exit 1 (usage 2), and no output left behind
printf ',id\n' > "$D/empty.csv"
expect_fail "empty portfolio" "no rows" "$G" leads fit --market "$D/market.csv" --portfolio "$D/empty.csv" --model "$D/x.gpurec"
printf ',id\n0,nope\n1,nada\n' > "$D/foreign.csv"
expect_fail "ids not in the market" "none of its 2 ids is in the market" "$G" leads fit --market "$D/market.csv" --portfolio "$D/foreign.csv" --model "$D/x.gpurec"
printf ',id\n0,id000\n1,nope\n2,id010\n' > "$D/partial.csv"
expect_ok "some ids missing" "$G" leads fit --market "$D/market.csv" --portfolio "$D/partial.csv" --k 2 --model "$D/p.gpurec"
check "missing ids reported" "grep -q '1 of 3 portfolio ids are not in the market (e.g. nope)' '$WORK/err'"
printf ',id,x\n0,a,1\n1,b,2,3\n' > "$D/ragged.csv"
expect_fail "ragged market" "ragged.csv:3" "$G" leads fit --market "$D/ragged.csv" --portfolio "$D/pf.csv" --model "$D/x.gpurec"
printf ',id,x\n0,a,1\n1,a,2\n' > "$D/dup.csv"
expect_fail "duplicate ids" "dup.csv:3" "$G" leads fit --market "$D/dup.csv" --portfolio "$D/pf.csv" --model "$D/x.gpurec"
printf 'id,fl\na,True\nb,Yes\n' > "$D/bool.csv"
expect_fail "unknown boolean" "bool.csv:3" "$G" leads fit --market "$D/bool.csv" --kinds fl=bool --portfolio "$D/pf.csv" --model "$D/x.gpurec"
expect_fail "bad balance" "--balance expects" "$G" leads fit --market "$D/market.csv" --portfolio "$D/pf.csv" --model "$D/x.gpurec" --balance magic
expect_fail "top zero" "--top must be at least 1" "$G" leads fit --market "$D/market.csv" --portfolio "$D/pf.csv" --leads "$D/x.csv" --top 0
# more leads than the top-k holds (1024): a sort of every company, the same
# order; a --top beyond the market is every company but the clients
awk 'BEGIN { srand(5); print ",id,sg_uf,score"; for (r = 0; r < 1500; r++) { c = (r % 10 == 0);
  printf "%d,id%04d,%s,%.3f\n", r, r, c ? "SP" : (r % 3 ? "RJ" : "MG"), (c ? 5 : 0) + rand() * 4 } }' > "$D/big.csv"
awk 'BEGIN { print "id"; for (r = 0; r < 1500; r += 10) printf "id%04d\n", r }' > "$D/bigpf.csv"
expect_ok "fit, 1100 leads" "$G" leads fit --market "$D/big.csv" --portfolio "$D/bigpf.csv" --k 2 \
  --model "$D/big.gpurec" --leads "$D/big1100.csv" --top 1100 --explain 2 --device cpu
expect_ok "score, all leads" "$G" leads score --market "$D/big.csv" --model "$D/big.gpurec" \
  --leads "$D/bigall.csv" --top 100000 --device cpu
expect_ok "score, 1024 leads" "$G" leads score --market "$D/big.csv" --model "$D/big.gpurec" \
  --leads "$D/big1024.csv" --top 1024 --device cpu
check "1100 leads, 1350 in all" "[ \$(wc -l < '$D/big1100.csv') -eq 1101 ] && [ \$(wc -l < '$D/bigall.csv') -eq 1351 ]"
check "the sort ranks as the top-k" "diff <(head -1025 '$D/bigall.csv') '$D/big1024.csv' >/dev/null && diff <(cut -d, -f1-4 '$D/big1100.csv') <(head -1101 '$D/bigall.csv') >/dev/null"
check "sorted best first, no client" "python3 -c \"
import csv, sys
rows = list(csv.DictReader(open('$D/bigall.csv')))
key = [(-float(r['score']), int(r['id'][2:])) for r in rows]
ids = [r['id'] for r in rows]
sys.exit(0 if key == sorted(key) and len(set(ids)) == len(ids) and not any(int(i[2:]) % 10 == 0 for i in ids) else 1)\""
check "reasons past the 1024th lead" "[ \$(tail -n +2 '$D/big1100.csv' | grep -c ',[^,]*[+-][0-9.e+-]*$') -eq 1100 ]"
printf 'user,item\nu1,i1\nu1,i2\nu2,i2\nu2,i3\n' > "$D/events.csv"
expect_ok "an ALS model" "$G" als fit --input "$D/events.csv" --model "$D/als.gpurec" --factors 4 --iterations 2 --device cpu
expect_fail "ALS model as leads model" "not a leads model" "$G" leads score --market "$D/market.csv" --model "$D/als.gpurec" --leads "$D/x.csv"
check "no output left behind" "[ ! -e '$D/x.gpurec' ] && [ ! -e '$D/x.csv' ] && ! ls '$D' | grep -q tmp"
head -c 100 "$D/m.gpurec" > "$D/trunc.gpurec"
expect_fail "truncated model" "truncated" "$G" leads score --market "$D/market.csv" --model "$D/trunc.gpurec" --leads "$D/x.csv"

# logreg on a numeric CSV with a label column
awk 'BEGIN { srand(5); print "id,a,b,y"; for (r = 0; r < 300; r++) { a = rand() * 4 - 2; b = rand() * 4 - 2;
  printf "r%d,%.4f,%.4f,%d\n", r, a, b, (2 * a - b + (rand() - 0.5) > 0) } }' > "$D/lr.csv"
expect_ok "logreg" "$G" logreg --input "$D/lr.csv" --label y --coef "$D/coef.csv" --predict "$D/p.csv" --device cpu
check "coefficients: a positive, b negative" "awk -F, '\$1==\"a\" && \$2 > 1 {x++} \$1==\"b\" && \$2 < -0.5 {x++} END {exit x != 2}' '$D/coef.csv'"
check "probabilities" "[ \$(wc -l < '$D/p.csv') -eq 301 ]"
# exact Hessians reach the same optimum as the sampled ones (6 significant digits printed)
expect_ok "logreg exact Hessian" "$G" logreg --input "$D/lr.csv" --label y --coef "$D/coef0.csv" --hessian-sample 0 --device cpu
check "same coefficients with --hessian-sample 0" "paste -d, '$D/coef.csv' '$D/coef0.csv' | awk -F, 'NR > 1 { d = \$2 - \$4; if (d < 0) d = -d; if (d > 1e-5 * (1 + (\$2 < 0 ? -\$2 : \$2))) bad++ } END { exit bad > 0 || NR < 3 }'"
# L-BFGS reaches the same optimum too, and says which solver ran
expect_ok "logreg L-BFGS" "$G" logreg --input "$D/lr.csv" --label y --coef "$D/coef2.csv" --solver lbfgs --device cpu
check "L-BFGS iterations reported" "grep -q 'L-BFGS iterations' '$WORK/out'"
check "converged" "grep -q ', converged' '$WORK/out' && ! grep -q warning '$WORK/err'"
expect_ok "logreg one Newton step" "$G" logreg --input "$D/lr.csv" --label y --solver newton --max-iter 1 --hessian-sample 0 --device cpu
check "one step: not converged, and warned" "grep -q 'NOT converged' '$WORK/out' && grep -q 'warning: not converged: stopped at the limit of 1 Newton steps' '$WORK/err'"
expect_ok "logreg loose tol" "$G" logreg --input "$D/lr.csv" --label y --solver newton --tol 1e3 --device cpu
check "a tol above the first gradient takes no step" "grep -q 'Newton steps 0,' '$WORK/out' && grep -q ', converged' '$WORK/out'"
check "same coefficients with --solver lbfgs" "paste -d, '$D/coef0.csv' '$D/coef2.csv' | awk -F, 'NR > 1 { d = \$2 - \$4; if (d < 0) d = -d; if (d > 1e-5 * (1 + (\$2 < 0 ? -\$2 : \$2))) bad++ } END { exit bad > 0 || NR < 3 }'"
expect_fail "logreg unknown solver" "expects newton, lbfgs or auto" "$G" logreg --input "$D/lr.csv" --label y --solver bfgs --device cpu
expect_ok "leads eval L-BFGS" "$G" leads eval --market "$D/market.csv" --portfolio "$D/pf.csv" --k 2 --solver lbfgs --json "$D/e2.json" --device cpu
check "L-BFGS finds the planted clients" "python3 -c \"import json,sys; e=json.load(open('$D/e2.json')); sys.exit(0 if e['auc'] > 0.9 and e['map']['10'] > 0.5 else 1)\""
check "leads reports L-BFGS iterations" "grep -q 'L-BFGS iterations' '$WORK/err'"
check "the report names the solver" "grep -q '\"solver\": \"lbfgs\"' '$D/e2.json'"
expect_fail "logreg negative hessian sample" "hessian_sample >= 0" "$G" logreg --input "$D/lr.csv" --label y --coef "$D/coef1.csv" --hessian-sample -1 --device cpu
check "no coefficients left behind" "[ ! -e '$D/coef1.csv' ]"
expect_fail "logreg label missing" "has no column 'nope'" "$G" logreg --input "$D/lr.csv" --label nope
printf 'id,a,y\nr1,1,0\nr2,2,3\n' > "$D/badlabel.csv"
expect_fail "logreg label not 0/1" "badlabel.csv: label column 'y', data row 2: expected 0 or 1, found 3" "$G" logreg --input "$D/badlabel.csv" --label y
printf 'id,a,y\nr1,1,0\nr2,2,\n' > "$D/nolabel.csv"
expect_fail "logreg label empty" "nolabel.csv: label column 'y', data row 2: the label is missing" "$G" logreg --input "$D/nolabel.csv" --label y
printf 'key\nid001\n' > "$D/noid.csv"
expect_fail "portfolio without an id column" "noid.csv: the header has no id column 'id'" "$G" leads fit --market "$D/market.csv" --portfolio "$D/noid.csv" --model "$D/x.gpurec" --device cpu
finish
