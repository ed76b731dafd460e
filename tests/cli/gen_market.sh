#!/usr/bin/env bash
# gpurec gen market: a small market and its portfolios, read back by describe;
# the same seed gives the same bytes at any thread count; bad options refused.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen market" "$G" gen market --rows 5000 --seed 3 --out "$D/m.csv" --portfolio-prefix "$D/p"
check "summary line" "grep -q 'wrote 5000 rows x 182 columns.*portfolios 49,50,23' '$WORK/err'"
check "rows" "[ \$(wc -l < '$D/m.csv') -eq 5001 ]"
check "header" "head -1 '$D/m.csv' | grep -q '^,id,fl_matriz,de_natureza_juridica,sg_uf,.*,qt_filiais$'"
check "portfolio sizes" "[ \$(wc -l < '$D/p1.csv') -eq 50 ] && [ \$(wc -l < '$D/p2.csv') -eq 51 ] && [ \$(wc -l < '$D/p3.csv') -eq 24 ]"
check "portfolio format" "head -2 '$D/p1.csv' | tr '\n' ' ' | grep -Eq '^,id 0,[0-9a-f]{64} $'"
check "clients are companies" "[ \$(cut -d, -f2 '$D/p2.csv' | tail -n +2 | grep -cFf - '$D/m.csv') -eq 50 ]"
expect_ok "describe" "$G" describe --input "$D/m.csv"
check "5000 rows, 182 columns" "grep -q 'm.csv: 5000 rows, 182 columns' '$WORK/out'"
check "kinds" "grep -Eq '^fl_matriz +bool' '$WORK/out' && grep -Eq '^de_faixa_faturamento_estimado +category' '$WORK/out' && grep -Eq '^dt_situacao +date' '$WORK/out' && grep -Eq '^idade_empresa_anos +number' '$WORK/out' && grep -Eq '^id +id' '$WORK/out'"
expect_ok "one thread" "$G" gen market --rows 5000 --seed 3 --threads 1 --out "$D/m1.csv"
check "same bytes" "cmp -s '$D/m.csv' '$D/m1.csv'"
expect_ok "another seed" "$G" gen market --rows 5000 --seed 4 --out "$D/m4.csv"
check "other bytes" "! cmp -s '$D/m.csv' '$D/m4.csv'"
expect_ok "sizes" "$G" gen market --rows 20000 --portfolio-sizes 30,10 --out "$D/s.csv" --portfolio-prefix "$D/s"
check "two portfolios" "[ \$(wc -l < '$D/s1.csv') -eq 31 ] && [ \$(wc -l < '$D/s2.csv') -eq 11 ] && [ ! -e '$D/s3.csv' ]"
expect_fail "bad sizes" "portfolio-sizes" "$G" gen market --rows 100 --portfolio-sizes 3,x --out "$D/x.csv"
expect_fail "too many clients" "do not fit" "$G" gen market --rows 2 --out "$D/x.csv"
expect_fail "no out" "--out FILE is required" "$G" gen market --rows 100
expect_fail "unwritable" "cannot write" "$G" gen market --rows 100 --out /nonexistent/m.csv --portfolio-prefix "$D/u"
check "nothing left" "[ ! -e '$D/x.csv' ] && [ ! -e '$D/u1.csv' ]"
finish
