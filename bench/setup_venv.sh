#!/usr/bin/env bash
# Creates bench/.venv with the benchmark peers pinned in bench/requirements.txt
# (implicit, numpy, scipy, threadpoolctl; pandas, scikit-learn, imbalanced-learn).
# Idempotent: a venv whose installed pins match requirements.txt is left alone.
# PYTHON picks the interpreter (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
   "$venv/bin/python" -c 'import implicit, numpy, scipy, threadpoolctl, pandas, sklearn, imblearn' 2>/dev/null; then
  echo "bench venv is up to date: $venv"
  exit 0
fi

if ! command -v "$python" >/dev/null; then
  echo "setup_venv.sh: $python not found; install Python 3.11 (or set PYTHON=...)" >&2
  exit 1
fi
if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv"
  if ! "$python" -m venv "$venv"; then
    echo "setup_venv.sh: '$python -m venv' failed; on Debian: apt-get install python3-venv" >&2
    rm -rf "$venv"
    exit 1
  fi
fi

echo "installing $(grep -cEv '^\s*(#|$)' "$req") pinned packages into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --only-binary=:all: -r "$req"
"$venv/bin/python" -c 'import implicit, numpy, scipy, threadpoolctl, pandas, sklearn, imblearn'
echo "$want" > "$stamp"
echo "bench venv ready: $venv"
