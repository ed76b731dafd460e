#!/usr/bin/env bash
# gpurec als export and leads export: the exported files give back the
# model's own scores when recomputed by hand in Python (no NumPy needed: the
# .npy files are parsed here), the CSV and .npy forms agree to the bit, and
# a failed export leaves nothing behind.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
command -v python3 >/dev/null || { echo "needs python3"; exit 77; }
cat > "$D/npy.py" <<'PY'
import ast, struct, array
def load(path):
    b = open(path, "rb").read()
    assert b[:6] == b"\x93NUMPY" and b[6] == 1, "not an .npy v1 file"
    n = struct.unpack("<H", b[8:10])[0]
    assert (10 + n) % 64 == 0, "data not 64-byte aligned"
    h = ast.literal_eval(b[10:10 + n].decode("latin1"))
    assert h["descr"] in ("<f4", "<i4") and h["fortran_order"] is False
    a = array.array("f" if h["descr"] == "<f4" else "i")
    a.frombytes(b[10 + n:])
    rows, cols = h["shape"]
    assert len(a) == rows * cols, "size does not match the shape"
    return [a[i * cols:(i + 1) * cols] for i in range(rows)]
PY

# ---- ALS
expect_ok "gen" "$G" gen interactions --scale small --seed 3 --out "$D/ev.csv"
expect_ok "fit" "$G" als fit --input "$D/ev.csv" --model "$D/m.gpurec" --factors 8 --iterations 3 \
  --regularization 0.05 --device cpu
expect_ok "recommend" "$G" als recommend --model "$D/m.gpurec" --input "$D/ev.csv" --users u1,u2,u3 --k 5 \
  --out "$D/rec.csv" --device cpu
expect_ok "export npy" "$G" als export --model "$D/m.gpurec" --out "$D/npy"
expect_ok "export csv" "$G" als export --model "$D/m.gpurec" --out "$D/csv" --format csv
check "npy: the dot products are the recommendations' scores" "cd '$D' && python3 -c \"
import csv, json, sys, npy
U, I = npy.load('npy/user_factors.npy'), npy.load('npy/item_factors.npy')
users = {r['user']: int(r['index']) for r in csv.DictReader(open('npy/users.csv'))}
items = {r['item']: int(r['index']) for r in csv.DictReader(open('npy/items.csv'))}
p = json.load(open('npy/model.json'))
ok = p['factors'] == 8 and p['regularization'] == 0.05 and p['iterations'] == 3
ok &= len(U) == p['users'] == len(users) and len(I) == p['items'] == len(items)
recs = list(csv.DictReader(open('rec.csv')))
for r in recs:
    s = sum(a * b for a, b in zip(U[users[r['user']]], I[items[r['item']]]))
    ok &= abs(s - float(r['score'])) <= 1e-5 * max(1.0, abs(s))
sys.exit(0 if ok and len(recs) == 15 else 1)\""
check "csv: the same floats as the npy" "cd '$D' && python3 -c \"
import csv, struct, sys, npy
U = npy.load('npy/user_factors.npy')
users = [r['user'] for r in csv.DictReader(open('npy/users.csv'))]
rows = list(csv.reader(open('csv/user_factors.csv')))
f32 = lambda x: struct.unpack('f', struct.pack('f', x))[0]
ok = rows[0] == ['user'] + ['f%d' % j for j in range(8)] and len(rows) == len(U) + 1
for i, r in enumerate(rows[1:]):
    ok &= r[0] == users[i] and all(f32(float(v)) == U[i][j] for j, v in enumerate(r[1:]))
sys.exit(0 if ok else 1)\""

# ---- leads: recompute every company's cluster and score from the export
# three far-apart sizes make the clusters; the clients (every 10th company,
# more often in SP) fall in all three, so each cluster fits its own model
awk 'BEGIN { srand(3); print ",id,sg_uf,size,fl_email,dt_inicio";
  for (r = 0; r < 600; r++) { c = (r % 10 == 0);
    uf = (c || r % 7 == 0) ? "SP" : (r % 3 ? "RJ" : "MG"); s = (r % 3) * 100 + rand() * 10;
    printf "%d,id%03d,%s,%.3f,%s,20%02d-01-15\n", r, r, uf, s, (r % 4 ? "True" : "False"), r % 20 }
}' > "$D/market.csv"
awk 'BEGIN { print "id"; for (r = 0; r < 600; r += 10) printf "id%03d\n", r }' > "$D/pf.csv"
expect_ok "leads fit" "$G" leads fit --market "$D/market.csv" --portfolio "$D/pf.csv" --k 3 \
  --balance none --model "$D/l.gpurec" --scores "$D/scores.csv" --device cpu
expect_ok "leads export" "$G" leads export --model "$D/l.gpurec" --out "$D/lx" --market "$D/market.csv" --device cpu
check "leads: nearest centroids and sigmoid(b + w.x) are the scores" "cd '$D' && python3 -c \"
import csv, math, sys, npy
X = npy.load('lx/X.npy')
coef = list(csv.reader(open('lx/coefficients.csv')))
cent = list(csv.reader(open('lx/centroids.csv')))
feats = [r['feature'] for r in csv.DictReader(open('lx/features.csv'))]
k = len(coef[0]) - 1
b = [float(v) for v in coef[1][1:]]
W = [[float(r[1 + c]) for r in coef[2:]] for c in range(k)]
C = [[float(r[1 + c]) for r in cent[1:]] for c in range(k)]
ok = k == 3 and [r[0] for r in coef[2:]] == feats == [r[0] for r in cent[1:]] and len(X[0]) == len(feats)
market = list(csv.DictReader(open('lx/market.csv')))
scores = {r['id']: float(r['score']) for r in csv.DictReader(open('scores.csv'))}
ok &= len(market) == len(X) == 600
for r, x in zip(market, X):
    d = [sum((a - c) ** 2 for a, c in zip(x, C[j])) for j in range(k)]
    c = int(r['cluster'])
    ok &= d[c] <= min(d) * (1 + 1e-6) + 1e-9
    p = 1 / (1 + math.exp(-(b[c] + sum(w * v for w, v in zip(W[c], x)))))
    ok &= abs(p - float(r['score'])) <= 1e-5 * max(p, 1e-6)
    ok &= abs(float(r['score']) - scores[r['id']]) <= 1e-6 * float(r['score'])  # scores.csv: 7 digits
sys.exit(0 if ok else 1)\""
check "leads: clusters and parameters" "cd '$D' && python3 -c \"
import csv, json, sys
cl = list(csv.DictReader(open('lx/clusters.csv')))
p = json.load(open('lx/model.json'))
ok = len(cl) == p['clusters'] == 3 and p['balance'] == 'none' and p['clients'] == 60
ok &= all(r['model'] == 'own' for r in cl)  # per-cluster models, not only the global one
ok &= sum(int(r['companies']) for r in cl) == 600 and sum(int(r['clients']) for r in cl) == 60
sys.exit(0 if ok else 1)\""
expect_ok "leads export without a market" "$G" leads export --model "$D/l.gpurec" --out "$D/lx2"
check "no market files without --market" "[ -e '$D/lx2/coefficients.csv' ] && [ ! -e '$D/lx2/X.npy' ]"

# ---- failures leave nothing
expect_fail "ALS model to leads export" "not a leads model" "$G" leads export --model "$D/m.gpurec" --out "$D/bad1"
expect_fail "out is a file" "is not a directory" "$G" als export --model "$D/m.gpurec" --out "$D/ev.csv"
printf ',id,sg_uf\n0,a,SP\n' > "$D/narrow.csv"
expect_fail "market without the model's columns" "no column 'size'" "$G" leads export --model "$D/l.gpurec" --out "$D/bad2" \
  --market "$D/narrow.csv" --device cpu
check "no directory or temporary left" "[ ! -e '$D/bad1' ] && [ ! -e '$D/bad2' ] && ! ls '$D' | grep -q tmp"
# an empty directory is filled; one with files is refused and left as it was
mkdir "$D/empty"
expect_ok "into an empty directory" "$G" als export --model "$D/m.gpurec" --out "$D/empty" --format csv
check "the empty directory filled" "[ -s '$D/empty/user_factors.csv' ] && [ -s '$D/empty/model.json' ]"
expect_fail "parent missing" "cannot make the directory" "$G" als export --model "$D/m.gpurec" --out "$D/no/such"
expect_fail "into a used directory" "exists and is not empty" "$G" als export --model "$D/m.gpurec" --out "$D/npy"
check "the used directory untouched" "[ \$(ls '$D/npy' | wc -l) -eq 5 ] && ! ls '$D' | grep -q tmp"
expect_fail "bad format" "--format expects npy or csv" "$G" als export --model "$D/m.gpurec" --out "$D/x" --format parquet
# killed at any moment, an export leaves its whole directory or nothing: no
# staging directory, no file of it
expect_ok "a bigger model" "$G" als fit --input "$D/ev.csv" --model "$D/big.gpurec" --factors 128 --iterations 1 --device cpu --quiet
for delay in 0.02 0.1 0.3; do
  rm -rf "$D/killed"
  "$G" als export --model "$D/big.gpurec" --out "$D/killed" --format csv 2>/dev/null &
  pid=$!
  sleep "$delay"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  if [ "$rc" -eq 0 ]; then # finished first: the whole directory
    check "done before the signal at $delay s: whole" "[ -s '$D/killed/model.json' ] && [ -z \"\$(ls '$D' | grep 'killed\.tmp\.')\" ]"
  else
    check "killed after $delay s (exit $rc): nothing left" "[ ! -e '$D/killed' ] && [ -z \"\$(ls '$D' | grep 'killed\.tmp\.')\" ]"
  fi
done
finish
