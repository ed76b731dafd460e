#!/usr/bin/env bash
# gpurec describe on a small market-shaped table: kinds, drops, features.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
cat > "$D/market.csv" <<'CSV'
,id,fl_matriz,de_faixa,vl_total,dt_situacao,constante
0,a1,True,"DE R$ 81.000,01 A R$ 360.000,00",1.5,2005-03-25,7
1,b2,False,OUTRA,,2017-05-12,7
2,c3,True,"DE R$ 81.000,01 A R$ 360.000,00",-2,2001-01-01,7
CSV
expect_ok "describe" "$G" describe --input "$D/market.csv"
check "kinds" "grep -q 'fl_matriz *bool' '$WORK/out' && grep -q 'de_faixa *category' '$WORK/out' && grep -q 'dt_situacao *date' '$WORK/out'"
check "constant dropped" "grep -q 'constante.*dropped: constant' '$WORK/out'"
check "feature count" "grep -q '^6 features from 7 columns; 1 columns dropped' '$WORK/out'"
tail -n +2 "$WORK/out" > "$D/two.txt"
expect_ok "describe on one thread" "$G" describe --input "$D/market.csv" --threads 1
check "same description on 1 thread" "tail -n +2 '$WORK/out' | cmp -s - '$D/two.txt'"
expect_fail "negative threads" "--threads must be >= 0" "$G" describe --input "$D/market.csv" --threads -1
printf 'id,x\n1,2\n1,3\n' > "$D/dup.csv"
expect_fail "duplicate id" "dup.csv:3:1: duplicate id '1'" "$G" describe --input "$D/dup.csv"
expect_fail "bad kind" "unknown kind" "$G" describe --input "$D/market.csv" --kinds vl_total=money
finish
