#!/usr/bin/env bash
# Set up tc0lab in ./.venv on a fresh machine: CPU torch first (a bare `torch` requirement
# would pull a multi-GB CUDA build), then the package with its probe and test extras.
# Safe to re-run: an existing .venv is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# drop pip's notices about missing local index folders (machine config), keep everything else
quiet() { grep -v "is ignored: it is neither a file nor a directory" || true; }
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0" 2>&1 | quiet
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[probe,test]" 2>&1 | quiet
# derive the zoo's symbolic formulas once (interpolated from small circuits, about 20 s; kept in
# ~/.cache/tc0lab under the package source), so that the first `tc0lab compile` is fast
.venv/bin/tc0lab compile --formula --n 8 > /dev/null
