#!/usr/bin/env bash
# Set up and run every check: ruff, mypy, and the whole test suite (lab tests included when root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest -q "$@"
