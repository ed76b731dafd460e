#!/usr/bin/env bash
# The CLI end to end on a tiny generated dataset: gen, split, fit, recommend
# (all users, a list, new users, an item filter), similar, eval, JSON.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "help" "$G" --help
expect_ok "version" "$G" --version
check "version says the build: BLAS, CUDA, GPU, inputs" "grep -qE '^gpurec [0-9]+\.[0-9]+\.[0-9]+\$' '$WORK/out' && grep -qE '^cpu: +[0-9]+ threads; OpenBLAS' '$WORK/out' && grep -qE '^cuda: +(built|not built)' '$WORK/out' && grep -qE '^gpu: +' '$WORK/out' && grep -qE '^inputs: +CSV files, plain' '$WORK/out'"
expect_ok "als help" "$G" als fit --help
check "help lists --factors" "grep -q -- --factors '$WORK/out'"
expect_ok "gen" "$G" gen interactions --scale tiny --seed 3 --out "$D/all.csv"
check "gen header" "head -1 '$D/all.csv' | grep -q '^user,item,event,timestamp$'"
check "gen rows" "[ \$(wc -l < '$D/all.csv') -eq 20001 ]"
expect_ok "gen again" "$G" gen interactions --scale tiny --seed 3 --out "$D/all2.csv"
check "gen is seeded" "cmp -s '$D/all.csv' '$D/all2.csv'"
expect_ok "split" "$G" split --input "$D/all.csv" --train "$D/train.csv" --test "$D/test.csv" --seed 5
check "split files" "[ -s '$D/train.csv' ] && [ -s '$D/test.csv' ]"
expect_ok "fit" "$G" als fit --input "$D/train.csv" --model "$D/m.bin" --factors 16 --iterations 5 \
  --device cpu --calc-loss --json "$D/fit.json"
check "fit progress" "grep -q 'iteration 5/5' '$WORK/err'"
check "fit json" "grep -q '\"seconds_per_iteration\"' '$D/fit.json' && grep -q '\"loss\"' '$D/fit.json'"
expect_ok "recommend all" "$G" als recommend --model "$D/m.bin" --input "$D/train.csv" --k 5 --out "$D/rec.csv" --device cpu
check "recommend header" "head -1 '$D/rec.csv' | grep -q '^user,rank,item,score$'"
users=$(tail -n +2 "$D/train.csv" | cut -d, -f1 | sort -u | wc -l)
check "5 per user" "[ \$(tail -n +2 '$D/rec.csv' | wc -l) -eq \$(( $users * 5 )) ]"
# no recommended item was seen in training
check "seen excluded" "! (tail -n +2 '$D/rec.csv' | cut -d, -f1,3; tail -n +2 '$D/train.csv' | cut -d, -f1,2) | sort | uniq -d | grep -q ."
expect_ok "recommend list jsonl" "$G" als recommend --model "$D/m.bin" --input "$D/train.csv" --users u1,u2 --format jsonl --k 3 --device cpu
check "jsonl lines" "[ \$(wc -l < '$WORK/out') -eq 2 ] && grep -q '\"user\": \"u1\"' '$WORK/out'"
printf 'user,item,weight\nnew1,i1,3\nnew1,i2,1\nnew2,i5,2\n' > "$D/new.csv"
expect_ok "new users" "$G" als recommend --model "$D/m.bin" --new-users "$D/new.csv" --k 4 --device cpu
check "new users ranked" "grep -c '^new1,' '$WORK/out' | grep -q 4 && ! grep -q '^new1,[0-9]*,i1,' '$WORK/out'"
printf 'i1\ni2\ni3\n' > "$D/allowed.txt"
expect_ok "item filter" "$G" als recommend --model "$D/m.bin" --users u1 --items-file "$D/allowed.txt" --k 10 --device cpu
check "filter respected" "[ \$(tail -n +2 '$WORK/out' | cut -d, -f3 | grep -cv '^i[123]$') -eq 0 ]"
expect_ok "similar" "$G" als similar --model "$D/m.bin" --items i1 --k 5 --device cpu
check "similar excludes self" "[ \$(tail -n +2 '$WORK/out' | wc -l) -eq 5 ] && ! tail -n +2 '$WORK/out' | cut -d, -f3 | grep -qx i1"
expect_ok "eval split" "$G" als eval --input "$D/all.csv" --factors 16 --iterations 5 --device cpu --json "$D/eval.json"
check "eval prints" "grep -q 'precision@10' '$WORK/out' && grep -q 'roc_auc' '$WORK/out'"
check "eval json" "grep -q '\"precision_implicit\"' '$D/eval.json'"
expect_ok "eval files" "$G" als eval --train "$D/train.csv" --test "$D/test.csv" --model "$D/m.bin" --device cpu
expect_ok "eval cholesky" "$G" als eval --input "$D/all.csv" --solver cholesky --factors 8 --iterations 3 --device cpu
finish
