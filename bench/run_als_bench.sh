#!/usr/bin/env bash
# One command for the CPU ALS bench: gpurec vs the implicit package.
#   bench/run_als_bench.sh [als_vs_implicit.py options]   e.g. --scale medium --factors 64
# Sets up bench/.venv, checks the gpurec binary, runs bench/als_vs_implicit.py.
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
    -h|--help) exec "${PYTHON:-python3}" "$here/als_vs_implicit.py" --help ;;
  esac
done
if [[ ! -x "$gpurec" ]]; then
  echo "run_als_bench.sh: no gpurec binary at $gpurec" >&2
  echo "  build it first:  (cd $repo && make build)   or pass --gpurec PATH" >&2
  exit 1
fi

bash "$here/setup_venv.sh"
exec "$here/.venv/bin/python" "$here/als_vs_implicit.py" "$@"
