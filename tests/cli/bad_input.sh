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
finish
