#!/usr/bin/env bash
# The command line under valgrind: each command of a small end-to-end run
# (ALS and leads, exports, evaluations) and a few failures (bad rows, an
# output that cannot be written), on tiny data. A memory error, or a leak
# valgrind is sure of, fails the run and prints valgrind's report.
# usage: scripts/valgrind_cli.sh path/to/gpurec
set -u
G="$(realpath "$1")"
D="$(mktemp -d /tmp/gpurec-vg-XXXXXX)"
trap 'rm -rf "$D"' EXIT
export OMP_NUM_THREADS=1 GPUREC_KEEP_BLAS=1 # no re-exec: valgrind would not follow it
failed=0
# vg EXPECT CMD...: EXPECT is ok or fail (the command's own exit); valgrind's errors exit 99
vg() {
  local expect="$1"; shift
  valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q \
    "$G" "$@" >"$D/out" 2>"$D/err"
  local rc=$?
  if [ "$rc" -eq 99 ] || { [ "$expect" = ok ] && [ "$rc" -ne 0 ]; } || { [ "$expect" = fail ] && [ "$rc" -eq 0 ]; }; then
    echo "valgrind: gpurec $* (exit $rc, expected $expect)"; cat "$D/err"; failed=1
  else
    echo "valgrind-clean: gpurec $*"
  fi
}
"$G" gen interactions --scale tiny --seed 3 --out "$D/ev.csv" 2>/dev/null
vg ok split --input "$D/ev.csv" --test-fraction 0.2 --train "$D/train.csv" --test "$D/test.csv"
vg ok als fit --input "$D/train.csv" --model "$D/m.gpurec" --factors 8 --iterations 2 --device cpu --json "$D/fit.json"
vg ok als fit --input "$D/train.csv" --model "$D/mc.gpurec" --factors 8 --iterations 2 --solver cholesky --device cpu
vg ok als recommend --model "$D/m.gpurec" --input "$D/train.csv" --k 5 --out "$D/rec.csv" --device cpu
vg ok als similar --model "$D/m.gpurec" --k 5 --out "$D/sim.csv" --device cpu
vg ok als eval --train "$D/train.csv" --test "$D/test.csv" --factors 8 --iterations 2 --baseline --device cpu
vg ok als export --model "$D/m.gpurec" --out "$D/exp"
printf 'user,item,weight\na,x,1\nb,y\n' > "$D/ragged.csv"
vg fail als fit --input "$D/ragged.csv" --model "$D/bad.gpurec" --device cpu
vg fail als recommend --model "$D/m.gpurec" --input "$D/train.csv" --out /nonexistent/r.csv --device cpu
"$G" gen market --rows 1500 --seed 3 --out "$D/market.csv" --portfolio-prefix "$D/pf" 2>/dev/null
vg ok describe --input "$D/market.csv"
vg ok leads fit --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 3 --model "$D/l.gpurec" --leads "$D/leads.csv" --top 20 --device cpu
vg ok leads score --market "$D/market.csv" --model "$D/l.gpurec" --leads "$D/leads2.csv" --explain 2 --device cpu
vg ok leads eval --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 3 --balance weight --device cpu
vg ok leads export --model "$D/l.gpurec" --out "$D/lexp" --market "$D/market.csv" --device cpu
python3 -c "import csv, sys; w = csv.writer(sys.stdout, lineterminator='\n'); [w.writerow(r[:100]) for r in csv.reader(open('$D/market.csv'))]" > "$D/fewer.csv"
vg ok leads score --market "$D/fewer.csv" --model "$D/l.gpurec" --scores "$D/fewer_scores.csv" --absent-columns missing --device cpu
awk 'BEGIN { srand(2); print "id,a,b,y"; for (r = 0; r < 300; r++) { a = rand(); printf "r%d,%.3f,%.3f,%d\n", r, a, rand(), (a > 0.5 ? 1 : 0) } }' > "$D/lr.csv"
vg ok kmeans --input "$D/lr.csv" --k 3 --kinds y=skip --labels "$D/labels.csv" --device cpu
vg ok logreg --input "$D/lr.csv" --label y --coef "$D/coef.csv" --device cpu
exit "$failed"
