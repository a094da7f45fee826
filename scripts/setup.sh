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
# derive every zoo architecture's symbolic formulas once (interpolated from small circuits, one
# process per core; kept in ~/.cache/tc0lab under the package source, refusals included), so that
# the first `tc0lab compile` of any architecture is fast
.venv/bin/python -c "from tc0lab.formulas.general import warm_zoo_cache; warm_zoo_cache()"
