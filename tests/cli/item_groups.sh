#!/usr/bin/env bash
# als eval --item-groups: figures per group on the planted topics of a
# generated dataset, and a bad group file refused with nothing written.
source "$(dirname "$0")/lib.bash"
G="$GPUREC"
D="$WORK"
expect_ok "gen with topics" "$G" gen interactions --scale tiny --seed 11 --out "$D/all.csv" \
  --topics-out "$D/topics.csv"
check "topics file" "head -1 '$D/topics.csv' | grep -qx 'item,topic' && [ \$(tail -n +2 '$D/topics.csv' | cut -d, -f1 | sort -u | wc -l) -eq \$(tail -n +2 '$D/topics.csv' | wc -l) ]"
expect_ok "eval by topic" "$G" als eval --input "$D/all.csv" --factors 16 --iterations 8 --device cpu \
  --item-groups "$D/topics.csv" --json "$D/e.json"
check "group table printed" "grep -q '^group_precision@10' '$WORK/out' && grep -q '^  topic0 ' '$WORK/out' && grep -q '^  (all) ' '$WORK/out'"
# one topic per item: the groups split every count exactly, and the totals
# agree with the overall metrics; ALS recovers the planted topics, so the
# items of a topic point the same way far more than items at large
check "groups add up and topics cohere" "python3 -c \"
import json, sys
e = json.load(open('$D/e.json')); g = e['groups']; m = e['metrics']; per = g['per_group']
ok = all(sum(p[c] for p in per) + g['no_group'][c] == g['all'][c] for c in ('items', 'held_out', 'recommended', 'hits'))
ok &= g['all']['recommended'] == m['k'] * m['n_users'] and abs(g['all']['hits'] - m['precision'] * m['k'] * m['n_users']) < 0.5
ok &= g['mapped_items'] == g['all']['items'] and g['no_group']['items'] == 0
mean = sum(p['cohesion'] for p in per) / len(per)
ok &= mean > g['cohesion_all'] + 0.1 and 0 < g['group_precision'] <= 1 and g['group_match'] >= g['group_precision'] - 0.2
sys.exit(0 if ok else 1)\""
# an item in two groups (the clickstream mapping has some) counts in both
printf ',unit,item\n0,a,i1\n1,b,i1\n2,a,i2\n3,a,i2\n' > "$D/two.csv"
expect_ok "item in two groups" "$G" als eval --input "$D/all.csv" --factors 8 --iterations 2 --device cpu \
  --item-groups "$D/two.csv" --json "$D/two.json"
check "two groups counted" "grep -q '(2 of [0-9]* items have one)' '$WORK/out' && python3 -c \"
import json, sys
g = json.load(open('$D/two.json'))['groups']; a, b = g['per_group']
sys.exit(0 if (a['name'], a['items'], b['name'], b['items']) == ('a', 2, 'b', 1) else 1)\""

# recommend and similar carry each item's groups
expect_ok "fit" "$G" als fit --input "$D/all.csv" --model "$D/m.gpurec" --factors 8 --iterations 3 --device cpu
expect_ok "recommend with groups" "$G" als recommend --model "$D/m.gpurec" --input "$D/all.csv" --users u1,u2 \
  --k 4 --item-groups "$D/topics.csv" --out "$D/rec.csv" --device cpu
check "recommendations carry their topic" "head -1 '$D/rec.csv' | grep -qx 'user,rank,item,score,group' && [ \$(tail -n +2 '$D/rec.csv' | wc -l) -eq 8 ] && tail -n +2 '$D/rec.csv' | awk -F, '{print \$3\",\"\$5}' | sort -u > '$D/rec_topics' && tail -n +2 '$D/topics.csv' | sort | comm -23 '$D/rec_topics' - | wc -l | grep -qx 0"
expect_ok "similar with two groups" "$G" als similar --model "$D/m.gpurec" --items i1 --k 3 --include-self \
  --item-groups "$D/two.csv" --format jsonl --device cpu
check "an item's groups joined by |" "grep -q '\"similar_item\": \"i1\", \"score\": [0-9.]*, \"group\": \"a|b\"' '$WORK/out'"

# bad group files: a clear message, exit 1, no report left behind
printf 'item,topic\ni1,t1\ni2\n' > "$D/ragged.csv"
expect_fail "ragged group file" "ragged.csv:3:1: expected 2 fields" "$G" als eval --input "$D/all.csv" \
  --factors 8 --iterations 1 --device cpu --item-groups "$D/ragged.csv" --json "$D/bad.json"
check "no report after a bad group file" "[ ! -e '$D/bad.json' ]"
expect_fail "recommend with a bad group file" "ragged.csv:3:1" "$G" als recommend --model "$D/m.gpurec" \
  --users u1 --item-groups "$D/ragged.csv" --out "$D/bad_rec.csv" --device cpu
check "no recommendations after a bad group file" "[ ! -e '$D/bad_rec.csv' ]"
printf 'item,unit,region\ni1,a,r\n' > "$D/wide.csv"
expect_fail "ambiguous group column" "choose one with --group-col" "$G" als eval --input "$D/all.csv" \
  --factors 8 --iterations 1 --device cpu --item-groups "$D/wide.csv"
expect_ok "group column named" "$G" als eval --input "$D/all.csv" --factors 8 --iterations 1 --device cpu \
  --item-groups "$D/wide.csv" --group-col region
printf 'page,topic\nx1,t\n' > "$D/other.csv"
expect_fail "item column missing" "no item column 'item'" "$G" als eval --input "$D/all.csv" \
  --factors 8 --iterations 1 --device cpu --item-groups "$D/other.csv"
expect_fail "no model item listed" "none of the model's" "$G" als eval --input "$D/all.csv" \
  --factors 8 --iterations 1 --device cpu --item-groups "$D/other.csv" --group-item-col page
finish
