#!/usr/bin/env bash
# One command for the logistic-regression bench: gpurec logreg (L-BFGS and
# Newton) vs scikit-learn's LogisticRegression (lbfgs and newton-cholesky) on
# wide numeric CSVs, from the file to the coefficients.
#   bench/run_logreg_bench.sh --gpurec PATH --out bench/results/FILE.md [--rows N --features D]
# Sets up bench/.venv and runs bench/logreg_vs_sklearn.py. Exits non-zero only on errors.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gpurec=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --gpurec) gpurec="${args[$((i + 1))]:-}" ;;
    --gpurec=*) gpurec="${args[$i]#--gpurec=}" ;;
    -h|--help) exec "${PYTHON:-python3}" "$here/logreg_vs_sklearn.py" --help ;;
  esac
done
if [[ ! -x "$gpurec" ]] || ! "$gpurec" logreg --help 2>&1 | grep -q -- --solver; then
  echo "run_logreg_bench.sh: --gpurec PATH must name a gpurec binary with 'logreg --solver'" >&2
  exit 1
fi
bash "$here/setup_venv.sh"
exec "$here/.venv/bin/python" "$here/logreg_vs_sklearn.py" "$@"
