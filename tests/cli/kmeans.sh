#!/usr/bin/env bash
# gpurec kmeans on a small CSV: two obvious groups, labels and centroids out,
# clear errors for non-numeric or incomplete columns.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
printf 'id,x,y,flag\na,0,0,True\nb,0.1,0,True\nc,10,10,False\nd,10.2,9.9,False\ne,0,0.2,True\n' > "$D/km.csv"
expect_ok "kmeans" "$G" kmeans --input "$D/km.csv" --k 2 --labels "$D/labels.csv" --centroids "$D/c.csv" --device cpu
check "inertia printed" "grep -q '^inertia 0.058' '$WORK/out'"
check "groups" "[ \$(grep -E '^(a|b|e),' '$D/labels.csv' | cut -d, -f2 | sort -u | wc -l) -eq 1 ] && [ \$(grep -E '^(c|d),' '$D/labels.csv' | cut -d, -f2 | sort -u | wc -l) -eq 1 ] && [ \$(grep -E '^a,' '$D/labels.csv' | cut -d, -f2) != \$(grep -E '^c,' '$D/labels.csv' | cut -d, -f2) ]"
check "centroids" "head -1 '$D/c.csv' | grep -q '^cluster,x,y,flag$' && [ \$(wc -l < '$D/c.csv') -eq 3 ]"
check "settled" "grep -qx 'iterations [0-9]*' '$WORK/out'"
expect_ok "one Lloyd step" "$G" kmeans --input "$D/km.csv" --k 2 --max-iter 1 --tol 0 --device cpu
check "the limit is said" "grep -q '^iterations 1 (--max-iter reached' '$WORK/out'"
printf 'id,x,city\na,1,Rio\nb,2,Natal\n' > "$D/cat.csv"
expect_fail "category" "column 'city' is not numeric" "$G" kmeans --input "$D/cat.csv" --k 1 --device cpu
expect_ok "skip it" "$G" kmeans --input "$D/cat.csv" --k 1 --kinds city=skip --device cpu
printf 'id,x\na,1\nb,\nc,3\nd,\n' > "$D/gap.csv"
expect_fail "missing" "gap.csv: column 'x' has 2 missing values, the first in data row 2" "$G" kmeans --input "$D/gap.csv" --k 1 --device cpu
expect_fail "k > n" "cannot make 9 clusters" "$G" kmeans --input "$D/km.csv" --k 9 --device cpu
# an infinity among numbers, a number beyond float: named with the row
awk 'BEGIN { print "id,a"; for (r = 1; r <= 200; r++) printf "r%d,%d\n", r, r; print "r201,inf" }' > "$D/inf.csv"
expect_fail "an infinity" "inf.csv: column 'a' has 1 value that is not a finite number, the first in data row 201: 'inf'" "$G" kmeans --input "$D/inf.csv" --k 2 --device cpu
printf 'id,a\nr1,1\nr2,1e308\nr3,2\n' > "$D/huge.csv"
expect_fail "beyond float" "huge.csv: column 'a', data row 2: 1e+308 is beyond float's range" "$G" kmeans --input "$D/huge.csv" --k 2 --device cpu
# progress: each restart's first Lloyd steps on stderr, none with --quiet
expect_ok "progress" "$G" kmeans --input "$D/km.csv" --k 2 --n-init 2 --device cpu
check "progress lines" "grep -q '^kmeans: restart 1, step 1: the centers moved' '$WORK/err' && grep -q '^kmeans: restart 2, step 1:' '$WORK/err'"
expect_ok "quiet" "$G" kmeans --input "$D/km.csv" --k 2 --device cpu --quiet
check "no progress when quiet" "! grep -q 'restart 1' '$WORK/err'"
finish
