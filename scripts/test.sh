#!/usr/bin/env bash
# Set up and run every check: ruff, mypy, and the whole test suite (lab tests included when root).
# As root, every Debian package and the OpenStack service venv the lab needs are installed first
# (`nxgov lab install`), so no test depends on what this machine happened to have installed before.
# With CI set, as root, a skipped test fails the run (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" -eq 0 ]; then
  .venv/bin/nxgov lab install
fi
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest -q "$@"
