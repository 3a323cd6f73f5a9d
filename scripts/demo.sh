#!/usr/bin/env bash
# The main job on the embedded default: set up, then validate and summarise the Ningxia estate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NXGOV_AUDIT_LOG="${NXGOV_AUDIT_LOG:-$PWD/.nxgov/audit.jsonl}" NXGOV_STATE="${NXGOV_STATE:-$PWD/.nxgov/state.db}"
.venv/bin/nxgov estate validate inventories/ningxia
.venv/bin/nxgov estate show inventories/ningxia
