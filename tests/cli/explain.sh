#!/usr/bin/env bash
# als recommend --explain: each ranked item's largest contributions come
# from the user's own items, largest first, and add up to the explained
# score; for a new user that score is the model's; on planted topics the
# top contributor shares the recommended item's topic; misuse refused.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen with topics" "$G" gen interactions --scale tiny --seed 5 --out "$D/all.csv" \
  --topics-out "$D/topics.csv"
expect_ok "fit" "$G" als fit --input "$D/all.csv" --model "$D/m.gpurec" --factors 16 --iterations 8 \
  --solver cholesky --device cpu
expect_ok "recommend, explained" "$G" als recommend --model "$D/m.gpurec" --input "$D/all.csv" \
  --users u1,u2,u3 --k 4 --explain 3 --out "$D/rec.csv" --device cpu
check "explanation columns" "head -1 '$D/rec.csv' | grep -qx 'user,rank,item,score,explained_score,because,contributions' && [ \$(tail -n +2 '$D/rec.csv' | wc -l) -eq 12 ]"
check "contributors are the user's items, largest first" "python3 -c \"
import csv, sys
hist = {}
for r in csv.DictReader(open('$D/all.csv')):
    hist.setdefault(r['user'], set()).add(r['item'])
ok = True
for r in csv.DictReader(open('$D/rec.csv')):
    items, shares = r['because'].split('|'), [float(v) for v in r['contributions'].split('|')]
    ok &= len(items) == min(3, len(hist[r['user']])) == len(shares) == len(set(items))
    ok &= set(items) <= hist[r['user']] and r['item'] not in hist[r['user']]
    ok &= all(a >= b for a, b in zip(shares, shares[1:]))
sys.exit(0 if ok else 1)\""

# every contribution listed: they add up to the explained score
expect_ok "recommend, every contribution" "$G" als recommend --model "$D/m.gpurec" --input "$D/all.csv" \
  --users u1,u2,u3 --k 4 --explain 1024 --format jsonl --out "$D/full.jsonl" --device cpu
check "contributions add up" "python3 -c \"
import json, sys
ok = True
for line in open('$D/full.jsonl'):
    for it in json.loads(line)['items']:
        c = [b['contribution'] for b in it['because']]
        ok &= abs(sum(c) - it['explained_score']) <= 1e-3 * sum(abs(v) for v in c) + 1e-4
sys.exit(0 if ok else 1)\""

# planted topics: the largest contributor shares the recommended item's
# topic far more often than chance (1 in 8)
expect_ok "explain everyone" "$G" als recommend --model "$D/m.gpurec" --input "$D/all.csv" --k 5 \
  --explain 1 --out "$D/every.csv" --device cpu
check "top contributor on topic" "python3 -c \"
import csv, sys
t = {r['item']: r['topic'] for r in csv.DictReader(open('$D/topics.csv'))}
rows = list(csv.DictReader(open('$D/every.csv')))
same = sum(t[r['item']] == t[r['because']] for r in rows)
sys.exit(0 if len(rows) > 1000 and same > 0.7 * len(rows) else 1)\""

# a new user's factors are the exact solve, so the explained score is the score
printf 'user,item,event\nnew1,i3,view\nnew1,i7,purchase\nnew1,i3,cart\nnew2,i11,view\n' > "$D/new.csv"
expect_ok "new users, explained" "$G" als recommend --model "$D/m.gpurec" --new-users "$D/new.csv" \
  --k 3 --explain 2 --out "$D/new_rec.csv" --device cpu
check "new user's scores explained" "python3 -c \"
import csv, sys
rows = list(csv.DictReader(open('$D/new_rec.csv')))
ok = len(rows) == 6 and all(abs(float(r['score']) - float(r['explained_score'])) <= 1e-3 * abs(float(r['score'])) + 1e-5 for r in rows)
ok &= {r['because'] for r in rows if r['user'] == 'new2'} == {'i11'}
ok &= all(set(r['because'].split('|')) == {'i3', 'i7'} for r in rows if r['user'] == 'new1')
sys.exit(0 if ok else 1)\""

# a block list (out of stock): its items never come back, for known and new
# users; ids the model does not know are skipped and counted
cut -d, -f3 "$D/rec.csv" | tail -n +2 | sort -u > "$D/block.txt"
echo "no-such-item" >> "$D/block.txt"
expect_ok "recommend with a block list" "$G" als recommend --model "$D/m.gpurec" --input "$D/all.csv" \
  --users u1,u2,u3 --k 4 --exclude-items "$D/block.txt" --out "$D/blocked.csv" --device cpu
check "blocked items gone, unknown counted" "[ \$(tail -n +2 '$D/blocked.csv' | wc -l) -eq 12 ] && ! tail -n +2 '$D/blocked.csv' | cut -d, -f3 | grep -qxFf '$D/block.txt' && grep -q '1 ids of .*block.txt are not items of the model (ignored)' '$WORK/err'"
expect_ok "new users with a block list" "$G" als recommend --model "$D/m.gpurec" --new-users "$D/new.csv" \
  --k 3 --exclude-items "$D/block.txt" --out "$D/new_blocked.csv" --device cpu --quiet
check "blocked for new users too, quietly" "! tail -n +2 '$D/new_blocked.csv' | cut -d, -f3 | grep -qxFf '$D/block.txt' && [ ! -s '$WORK/err' ]"

# misuse: a clear message, exit 1, nothing written
expect_fail "explain without interactions" "--explain needs the users' interactions" "$G" als recommend \
  --model "$D/m.gpurec" --users u1 --explain 2 --out "$D/bad.csv" --device cpu
check "no output after misuse" "[ ! -e '$D/bad.csv' ]"
expect_fail "negative explain" "--explain must be in 0..1024" "$G" als recommend --model "$D/m.gpurec" \
  --input "$D/all.csv" --users u1 --explain -1 --out "$D/bad.csv" --device cpu
finish
