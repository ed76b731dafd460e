#!/usr/bin/env bash
# CSV ingestion speed: reads a generated interactions file with `gpurec stats`
# (parse, intern ids, store events; one core) and reports MB/s against the
# 100 MB/s-per-core target. Usage: bench/parse_speed.sh [--scale lastfm] [--repeats 3]
set -euo pipefail
cd "$(dirname "$0")/.."
scale=lastfm
repeats=3
gpurec=build/gpurec
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --gpurec) gpurec="$2"; shift 2 ;;
    *) echo "usage: $0 [--scale S] [--repeats N] [--gpurec PATH]" >&2; exit 2 ;;
  esac
done
[ -x "$gpurec" ] || { echo "no $gpurec: run make build first" >&2; exit 1; }
mkdir -p "bench/work/$scale" bench/results
data="bench/work/$scale/data.csv"
[ -s "$data" ] || "$gpurec" gen interactions --scale "$scale" --seed 7 --out "$data"
best=0
runs=""
for _ in $(seq "$repeats"); do
  mbps=$("$gpurec" stats --input "$data" | awk '/^read/ {print $(NF-4)}')
  runs="$runs $mbps"
  best=$(awk -v a="$best" -v b="$mbps" 'BEGIN {print (b > a) ? b : a}')
done
size=$(du -m "$data" | cut -f1)
verdict=$(awk -v b="$best" 'BEGIN {print (b >= 100) ? "PASS" : "FAIL"}')
out="bench/results/parse_${scale}_$(date +%F).md"
{
  echo "# CSV ingestion speed, scale $scale"
  echo
  echo "Date: $(date -Iseconds). Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores."
  echo "File: \`$data\` (${size} MB, user,item,event,timestamp with event weights)."
  echo "Command: \`$gpurec stats --input $data\` ($repeats runs; one core: parse, UTF-8 check, id interning, event weights)."
  echo
  echo "| runs (MB/s) | best | target | verdict |"
  echo "|---|---:|---:|:---:|"
  echo "|$runs | $best MB/s | 100 MB/s per core | $verdict |"
} > "$out"
cat "$out"
