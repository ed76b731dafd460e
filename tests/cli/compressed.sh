#!/usr/bin/env bash
# Compressed inputs end to end: a gzipped events file and a zipped market
# train the same models as the plain files (byte for byte), and a truncated
# gzip, a zip of two files and a corrupt zip fail with a clear message and
# leave no output behind.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
command -v gzip >/dev/null && command -v python3 >/dev/null || { echo "needs gzip and python3"; exit 77; }

expect_ok "gen events" "$G" gen interactions --scale small --seed 3 --out "$D/ev.csv"
gzip -k "$D/ev.csv"
if "$G" stats --input "$D/ev.csv.gz" 2>&1 | grep -q "built without zlib"; then
  echo "this gpurec was built without zlib"; exit 77
fi
expect_ok "fit plain" "$G" als fit --input "$D/ev.csv" --model "$D/plain.gpurec" --factors 8 --iterations 2 --device cpu
expect_ok "fit gzip" "$G" als fit --input "$D/ev.csv.gz" --model "$D/gz.gpurec" --factors 8 --iterations 2 --device cpu
check "the same ALS model from the gzip" "cmp -s '$D/plain.gpurec' '$D/gz.gpurec'"
# two gzip members, as cat makes them: split, then concatenated
head -n 5000 "$D/ev.csv" | gzip > "$D/two.gz"
tail -n +5001 "$D/ev.csv" | gzip >> "$D/two.gz"
expect_ok "fit two members" "$G" als fit --input "$D/two.gz" --model "$D/two.gpurec" --factors 8 --iterations 2 --device cpu
check "two members read as one file" "cmp -s '$D/plain.gpurec' '$D/two.gpurec'"
expect_ok "split a gzip" "$G" split --input "$D/ev.csv.gz" --train "$D/tr.csv" --test "$D/te.csv"
check "split rows" "[ \$(( \$(wc -l < '$D/tr.csv') + \$(wc -l < '$D/te.csv') )) -gt 1000 ]"

expect_ok "gen market" "$G" gen market --rows 3000 --seed 5 --out "$D/market.csv" --portfolios 1 \
  --portfolio-prefix "$D/pf"
python3 - "$D" <<'PY'
import sys, zipfile
d = sys.argv[1]
with zipfile.ZipFile(f"{d}/market.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(f"{d}/market.csv", "estaticos_market.csv")
    z.writestr("__MACOSX/._estaticos_market.csv", b"\0\5\26\7")
with zipfile.ZipFile(f"{d}/two.zip", "w") as z:
    z.writestr("a.csv", "id\nx\n")
    z.writestr("b.csv", "id\ny\n")
data = bytearray(open(f"{d}/market.zip", "rb").read())
data[len(data) // 2] ^= 0xFF
open(f"{d}/bad.zip", "wb").write(data)
PY
expect_ok "leads fit plain" "$G" leads fit --market "$D/market.csv" --portfolio "$D/pf1.csv" --k 2 \
  --model "$D/plain.leads" --device cpu
expect_ok "leads fit zip" "$G" leads fit --market "$D/market.zip" --portfolio "$D/pf1.csv" --k 2 \
  --model "$D/zip.leads" --leads "$D/zip_leads.csv" --device cpu
check "the same leads model from the zip" "cmp -s '$D/plain.leads' '$D/zip.leads'"
expect_ok "describe a zip" "$G" describe --input "$D/market.zip"
check "describe reads every row" "grep -q '3000 rows' '$WORK/out' || grep -q '3000 rows' '$WORK/err'"

head -c 20000 "$D/ev.csv.gz" > "$D/cut.gz"
expect_fail "truncated gzip" "cut.gz: the gzip data is truncated" "$G" als fit --input "$D/cut.gz" --model "$D/x.gpurec" --device cpu
expect_fail "zip of two files" "holds 2 files (a.csv, b.csv)" "$G" leads fit --market "$D/two.zip" --portfolio "$D/pf1.csv" --model "$D/x.gpurec" --device cpu
expect_fail "corrupt zip" "bad.zip: corrupt" "$G" leads fit --market "$D/bad.zip" --portfolio "$D/pf1.csv" --model "$D/x.gpurec" --leads "$D/x.csv" --device cpu
check "no output left behind" "[ ! -e '$D/x.gpurec' ] && [ ! -e '$D/x.csv' ] && ! ls '$D' | grep -q tmp"
finish
