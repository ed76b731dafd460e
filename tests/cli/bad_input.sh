#!/usr/bin/env bash
# Bad input and bad usage: a clear message, a non-zero exit, no output left.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
printf 'user,item,weight\na,x,1\nb,y\n' > "$D/ragged.csv"
expect_fail "ragged row" "ragged.csv:3:3: expected 3 fields, found 2" "$G" als fit --input "$D/ragged.csv" --model "$D/m.bin" --device cpu
check "no model left" "[ ! -e '$D/m.bin' ] && [ -z \"\$(ls '$D' | grep tmp)\" ]"
printf 'user,item,weight\na,x,-2\n' > "$D/neg.csv"
expect_fail "negative weight" "neg.csv:2:5: weight is negative" "$G" split --input "$D/neg.csv" --train "$D/t.csv" --test "$D/e.csv"
check "no split output" "[ ! -e '$D/t.csv' ] && [ ! -e '$D/e.csv' ]"
: > "$D/empty.csv"
expect_fail "empty file" "empty" "$G" als fit --input "$D/empty.csv" --model "$D/m.bin" --device cpu
expect_fail "missing file" "cannot open" "$G" als fit --input "$D/nope.csv" --model "$D/m.bin" --device cpu
expect_fail "bad number" "--factors expects an integer" "$G" als fit --input "$D/neg.csv" --model "$D/m.bin" --factors ten
expect_fail "unknown option" "unknown option '--factor'" "$G" als fit --factor 3
expect_fail "bad device" "--device expects" "$G" als fit --input "$D/ragged.csv" --model m --device tpu
expect_fail "bad solver" "--solver expects" "$G" als fit --solver lu --model m
expect_fail "unknown command" "unknown command" "$G" frobnicate
printf 'user,item\na,x\na,y\nb,x\n' > "$D/ok.csv"
expect_ok "fit ok" "$G" als fit --input "$D/ok.csv" --model "$D/m.bin" --factors 2 --iterations 2 --device cpu --quiet
expect_fail "unknown user" "unknown user id 'zz'" "$G" als recommend --model "$D/m.bin" --users zz --device cpu
expect_fail "k too large" "--k must be in 1..1024" "$G" als recommend --model "$D/m.bin" --k 5000 --device cpu
expect_fail "not a model" "not a gpurec model" "$G" als recommend --model "$D/ok.csv" --device cpu
head -c 40 "$D/m.bin" > "$D/trunc.bin"
expect_fail "truncated model" "bad model file" "$G" als similar --model "$D/trunc.bin" --device cpu
expect_fail "unwritable output" "cannot write" "$G" als recommend --model "$D/m.bin" --out /nonexistent/dir/r.csv --device cpu
# the CUDA backend asked for explicitly: works on a GPU, a clear error without one
if ! "$G" als fit --input "$D/ok.csv" --model "$D/g.bin" --factors 2 --iterations 1 --device cuda --quiet 2>"$D/cuda.err"; then
  check "cuda error is clear" "grep -q 'no usable GPU' '$D/cuda.err'"
fi
# a disk-full write (a 1 KiB file size limit) fails cleanly and leaves no partial file
expect_ok "gen for size test" "$G" gen interactions --scale tiny --out "$D/big.csv"
( ulimit -f 1; trap '' XFSZ; "$G" split --input "$D/big.csv" --train "$D/t2.csv" --test "$D/e2.csv" ) 2>"$D/full.err"
check "disk full fails" "grep -q 'cannot write' '$D/full.err'"
check "disk full leaves nothing" "[ ! -e '$D/t2.csv' ] && [ -z \"\$(ls '$D' | grep '\.tmp\.')\" ]"
# the test file is written after the train file: a small limit stops the second,
# and the first is not left either (a command's outputs land together or not at all)
( ulimit -f 150; trap '' XFSZ; "$G" split --input "$D/big.csv" --train "$D/t3.csv" --test "$D/e3.csv" --test-fraction 0.8 ) 2>"$D/full2.err"
check "second output too big fails" "grep -q 'cannot write .*e3.csv' '$D/full2.err'"
check "neither output left" "[ ! -e '$D/t3.csv' ] && [ ! -e '$D/e3.csv' ] && [ -z \"\$(ls '$D' | grep '\.tmp\.')\" ]"
mkdir -p "$D/ro" && chmod 555 "$D/ro"
if [ "$(id -u)" != 0 ]; then # root writes anywhere: the read-only case needs another user
  expect_fail "read-only directory" "--model: cannot write" "$G" als fit --input "$D/ok.csv" --model "$D/ro/m.bin" --device cpu
fi
# an unwritable output is found before any work, with its option
expect_fail "unwritable model, before training" "gpurec als fit: --model: cannot write /nonexistent/m.bin" \
  "$G" als fit --input "$D/big.csv" --model /nonexistent/m.bin --iterations 50 --device cpu
check "found before reading the input" "! grep -q 'ALS on' '$WORK/err'"
expect_fail "a directory as output" "--model $D is a directory" "$G" als fit --input "$D/ok.csv" --model "$D" --device cpu
expect_fail "a directory as input" "cannot read $D: it is a directory" "$G" als fit --input "$D" --model "$D/d.bin" --device cpu
# an output that is an input is refused, by path or through a link, and the input is kept
cp "$D/ok.csv" "$D/keep.csv"
expect_fail "output = input" "--model $D/keep.csv is the file --input names" "$G" als fit --input "$D/keep.csv" --model "$D/keep.csv" --device cpu
ln -sf "$D/m.bin" "$D/link.bin"
expect_fail "output = the model, through a link" "--out $D/link.bin is the file --model names" "$G" als recommend --model "$D/m.bin" --out "$D/link.bin" --device cpu
expect_fail "train = input" "--train $D/keep.csv is the file --input names" "$G" split --input "$D/keep.csv" --train "$D/keep.csv" --test "$D/e4.csv"
check "inputs kept" "cmp -s '$D/ok.csv' '$D/keep.csv' && [ \$(head -c 6 '$D/m.bin' | od -An -c | tr -d ' ') != 'user,i' ]"
# two outputs, the second unwritable late: the model is not left behind
expect_fail "json unwritable" "cannot write" "$G" als fit --input "$D/ok.csv" --model "$D/m2.bin" --json "$D/nodir/j.json" --device cpu
check "no model without its report" "[ ! -e '$D/m2.bin' ]"
expect_fail "too many threads" "--threads must be in 0..1024" "$G" als fit --input "$D/ok.csv" --model "$D/m3.bin" --threads 100000 --device cpu
expect_fail "device memory beyond size_t" "--max-device-mem must be in 0.." "$G" als fit --input "$D/ok.csv" --model "$D/m3.bin" --max-device-mem 99999999999999999 --device cpu
# numerical failures name where they happened
expect_fail "exact solve overflows" "iteration 1, solving the user factors: Cholesky factorization failed" \
  "$G" als fit --input "$D/big.csv" --model "$D/m5.bin" --solver cholesky --alpha 1e30 --device cpu
printf 'id,a,b,y\nr1,1,2,0\nr2,1e30,3,1\nr3,-1e30,4,0\nr4,5,6,1\n' > "$D/huge.csv"
expect_fail "a Hessian with infinities" "the Hessian of group 0 holds a NaN or an infinity; lower C or scale the features (Newton step 1)" \
  "$G" logreg --input "$D/huge.csv" --label y --C 1e30 --solver newton --device cpu
# a column named twice, a hexadecimal or space-led weight: refused, with where
printf 'user,item,item\na,x,y\n' > "$D/dup.csv"
expect_fail "a column named twice" "dup.csv:1:11: the header names column 'item' twice (fields 2 and 3)" "$G" als fit --input "$D/dup.csv" --model "$D/m6.bin" --device cpu
printf 'user,item,weight\na,x,0x10\n' > "$D/hex.csv"
expect_fail "a hexadecimal weight" "hex.csv:2:5: expected a number (weight), found '0x10'" "$G" als fit --input "$D/hex.csv" --model "$D/m6.bin" --device cpu
printf 'user,item,weight\na,x, 3\n' > "$D/space.csv"
expect_fail "a space before a weight" "space.csv:2:5: expected a number (weight), found ' 3'" "$G" als fit --input "$D/space.csv" --model "$D/m6.bin" --device cpu
# two outputs to one file, by two options or by a prefix: refused before any work
expect_fail "train = test" "--train and --test both write" "$G" split --input "$D/ok.csv" --train "$D/same.csv" --test "$D/same.csv"
expect_fail "two outputs, one through ./" "--out and --model both write" "$G" als tune --input "$D/big.csv" --factors 2 --iterations 1 --regularization 1 --alpha 1 --out "$D/r.csv" --model "$D/./r.csv" --device cpu
check "nothing written" "[ ! -e '$D/same.csv' ] && [ ! -e '$D/r.csv' ]"
expect_fail "market = a portfolio" "p1.csv is written twice by this command" "$G" gen market --rows 500 --out "$D/p1.csv" --portfolio-prefix "$D/p"
check "no market, no portfolio" "[ ! -e '$D/p1.csv' ] && [ ! -e '$D/p2.csv' ] && [ -z \"\$(ls '$D' | grep '\.tmp\.')\" ]"
expect_fail "topics over the events" "--out and --topics-out both write" "$G" gen interactions --scale tiny --out "$D/ev2.csv" --topics-out "$D/ev2.csv"
# a checkpoint must not replace the input; it may replace the checkpoint it resumes, a model its warm start
expect_fail "checkpoint = input" "--checkpoint $D/keep.csv is the file --input names" "$G" als fit --input "$D/keep.csv" --model "$D/m7.bin" --checkpoint "$D/keep.csv" --device cpu
expect_ok "a checkpoint" "$G" als fit --input "$D/big.csv" --model "$D/m7.bin" --factors 4 --iterations 3 --checkpoint "$D/ck.bin" --device cpu --quiet
expect_ok "resumed and kept" "$G" als fit --input "$D/big.csv" --model "$D/m8.bin" --factors 4 --iterations 4 --resume "$D/ck.bin" --checkpoint "$D/ck.bin" --device cpu --quiet
expect_ok "retrained in place" "$G" als fit --input "$D/big.csv" --model "$D/m8.bin" --factors 4 --iterations 2 --warm-start "$D/m8.bin" --device cpu --quiet
check "the model replaced" "[ -s '$D/m8.bin' ] && [ -z \"\$(ls '$D' | grep '\.tmp\.')\" ]"
printf 'user,item,weight\na,x,1\n' > "$D/roles.csv"
expect_fail "one column in two roles" "column 1 is both the user and the item column" "$G" als fit --input "$D/roles.csv" --user-col user --item-col user --model "$D/m9.bin" --device cpu
finish
