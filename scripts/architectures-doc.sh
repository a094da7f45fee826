#!/usr/bin/env bash
# Regenerate docs/ARCHITECTURES.md, the classification table of the zoo's architectures
# (tc0lab check --arch all --markdown); tests/test_architectures_doc.py fails when it is stale.
# PYTHON defaults to the environment scripts/setup.sh creates.
set -euo pipefail
cd "$(dirname "$0")/.."
"${PYTHON:-.venv/bin/python}" -m tc0lab.check.table
