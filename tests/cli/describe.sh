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
check "booleans stay 0/1" "grep -q 'fl_matriz *bool .*  0/1\$' '$WORK/out'"
check "the reference date" "grep -qx 'dates are in years before 2017-05-12, the latest date in the table' '$WORK/out'"
check "no stray values to report" "! grep -q warning '$WORK/out'"
tail -n +2 "$WORK/out" > "$D/two.txt"
expect_ok "describe on one thread" "$G" describe --input "$D/market.csv" --threads 1
check "same description on 1 thread" "tail -n +2 '$WORK/out' | cmp -s - '$D/two.txt'"
expect_fail "negative threads" "--threads must be in 0..1024" "$G" describe --input "$D/market.csv" --threads -1
printf 'id,x\n1,2\n1,3\n' > "$D/dup.csv"
expect_fail "duplicate id" "dup.csv:3:1: duplicate id '1'" "$G" describe --input "$D/dup.csv"
expect_fail "bad kind" "unknown kind" "$G" describe --input "$D/market.csv" --kinds vl_total=money

# kinds files: describe writes the inferred kinds; read back, they change nothing
expect_ok "describe --kinds-out" "$G" describe --input "$D/market.csv" --kinds-out "$D/kinds.txt"
check "kinds file" "grep -qx 'fl_matriz=bool' '$D/kinds.txt' && grep -qx 'de_faixa=category' '$D/kinds.txt' && ! grep -q '^id=' '$D/kinds.txt' && [ \$(grep -vc '^#' '$D/kinds.txt') -eq 6 ]"
expect_ok "describe --kinds-file" "$G" describe --input "$D/market.csv" --kinds-file "$D/kinds.txt"
check "same description from the kinds file" "tail -n +2 '$WORK/out' | cmp -s - '$D/two.txt'"
# an edited file forces its kinds; --kinds wins over the file
printf '# edited\n\n  fl_matriz=category \nvl_total=skip\n' > "$D/edited.txt"
expect_ok "describe with an edited kinds file" "$G" describe --input "$D/market.csv" --kinds-file "$D/edited.txt" --kinds vl_total=number
check "file and --kinds applied" "grep -q 'fl_matriz *category' '$WORK/out' && grep -q 'vl_total *number' '$WORK/out'"
expect_ok "describe, a column skipped" "$G" describe --input "$D/market.csv" --kinds-file "$D/edited.txt"
check "a skipped column says why" "grep -q 'vl_total *skip .*skipped (--kinds)\$' '$WORK/out' && grep -q '^Unnamed: 0 .*ignored (index)\$' '$WORK/out'"
printf 'fl_matriz=bool\nvl_total=money\n' > "$D/badkind.txt"
expect_fail "kinds file: bad kind" "badkind.txt:2:1: unknown kind 'money'" "$G" describe --input "$D/market.csv" --kinds-file "$D/badkind.txt"
printf 'nope=bool\n' > "$D/badcol.txt"
expect_fail "kinds file: no such column" "badcol.txt:1:1: no column 'nope'" "$G" describe --input "$D/market.csv" --kinds-file "$D/badcol.txt"
printf 'id=number\n' > "$D/idkind.txt"
expect_fail "kinds file: the id" "the id column is always an id" "$G" describe --input "$D/market.csv" --kinds-file "$D/idkind.txt"
expect_fail "kinds file missing" "the kinds file: cannot open" "$G" describe --input "$D/market.csv" --kinds-file "$D/none.txt"
expect_fail "kinds-out unwritable" "cannot" "$G" describe --input "$D/market.csv" --kinds-out /nonexistent/dir/k.txt
# a stray value among booleans makes a category, and is reported with its row
awk 'BEGIN { print "id,flag,n"; for (r = 1; r <= 200; r++) printf "r%d,%s,%d\n", r, r == 150 ? "Maybe" : (r % 2 ? "True" : "False"), r }' > "$D/stray.csv"
expect_ok "describe, a stray value" "$G" describe --input "$D/stray.csv"
check "the stray value reported" "grep -q \"column 'flag' is read as a category because 1 of its 200 values is not True or False (the first, data row 150: 'Maybe'); --kinds flag=bool makes them errors\" '$WORK/out'"
expect_fail "forced, it is an error" "stray.csv:151:.*expected True or False in column 'flag', found 'Maybe'" "$G" describe --input "$D/stray.csv" --kinds flag=bool
finish
