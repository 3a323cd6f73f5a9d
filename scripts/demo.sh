#!/usr/bin/env bash
# The main job on the embedded default (the Ningxia estate), no root needed: set up, validate and summarise
# the estate, allocate the extranet's IPv6 plan, and render every router's configuration for review.
# State, audit log and rendered configurations go to ./.nxgov/ (override with NXGOV_STATE / NXGOV_AUDIT_LOG).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NXGOV_AUDIT_LOG="${NXGOV_AUDIT_LOG:-$PWD/.nxgov/audit.jsonl}" NXGOV_STATE="${NXGOV_STATE:-$PWD/.nxgov/state.db}"
nxgov=(.venv/bin/nxgov -e inventories/ningxia)
"${nxgov[@]}" estate validate
"${nxgov[@]}" estate show
"${nxgov[@]}" net ipv6 plan
"${nxgov[@]}" net render --out .nxgov/rendered
.venv/bin/nxgov audit verify
