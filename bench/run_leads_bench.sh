#!/usr/bin/env bash
# One command for the leads bench: gpurec's leads engine vs the Python pipeline
# (pandas, scikit-learn KMeans, imbalanced-learn SMOTE, LogisticRegression per cluster).
#   bench/run_leads_bench.sh [leads_vs_sklearn.py options]   e.g. --rows 50000
# Sets up bench/.venv, checks the gpurec binary, runs bench/leads_vs_sklearn.py.
# Reports go to bench/results/. Exits non-zero only on errors, not on missed targets.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

# The binary the bench will run: --gpurec PATH / --gpurec=PATH, else build/gpurec.
gpurec="$repo/build/gpurec"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --gpurec) gpurec="${args[$((i + 1))]:-}" ;;
    --gpurec=*) gpurec="${args[$i]#--gpurec=}" ;;
    -h|--help) exec "${PYTHON:-python3}" "$here/leads_vs_sklearn.py" --help ;;
  esac
done
if [[ ! -x "$gpurec" ]]; then
  echo "run_leads_bench.sh: no gpurec binary at $gpurec" >&2
  echo "  build it first:  (cd $repo && make build)   or pass --gpurec PATH" >&2
  exit 1
fi
if ! "$gpurec" gen market --help >/dev/null 2>&1; then
  echo "run_leads_bench.sh: $gpurec has no 'gen market' (rebuild it from this tree)" >&2
  exit 1
fi

bash "$here/setup_venv.sh"
exec "$here/.venv/bin/python" "$here/leads_vs_sklearn.py" "$@"
