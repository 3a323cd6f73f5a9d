#!/usr/bin/env bash
# The main job. As root on Debian 12: rehearse the whole region on the lab, end to end. Install what the lab needs,
# bring it up (OpenStack regions yinchuan, zhongwei and backup; FRR routers and simulated VRP/Comware devices on two
# planes; legacy hosts), then `nxgov plan` and `nxgov apply` on the lab estate: both nodes provisioned, the IPv6 plan
# allocated and pushed, both planes verified, labdrc-web migrated from its legacy host, its backups synced and a
# restore drill run; then the exporter and a Prometheus scraping it, `nxgov status`, and where to look next.
# Run it again: it changes nothing and says so.
# Not root: the offline part (validate and summarise the Ningxia estate, allocate its IPv6 plan, render every
# router's configuration into .nxgov/rendered/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
nx=(.venv/bin/nxgov)

if [ "$(id -u)" -ne 0 ]; then
  echo "not root: the lab needs root, so this runs the offline part on the Ningxia estate" \
       "(as root, bash scripts/demo.sh rehearses the whole region on the lab)" >&2
  export NXGOV_AUDIT_LOG="${NXGOV_AUDIT_LOG:-$PWD/.nxgov/audit.jsonl}" NXGOV_STATE="${NXGOV_STATE:-$PWD/.nxgov/state.db}"
  "${nx[@]}" -e inventories/ningxia estate validate
  "${nx[@]}" -e inventories/ningxia estate show
  "${nx[@]}" -e inventories/ningxia net ipv6 plan
  "${nx[@]}" -e inventories/ningxia net render --out .nxgov/rendered
  "${nx[@]}" audit verify
  exit 0
fi

started=$(date +%s)
demo="$PWD/.nxgov/lab"
export NXGOV_ESTATE="$PWD/inventories/lab" NXGOV_STATE="$demo/state.db" NXGOV_AUDIT_LOG="$demo/audit.jsonl" \
       NXGOV_KNOWN_HOSTS="$demo/known_hosts"
if ! "${nx[@]}" lab status >/dev/null 2>&1 && [ -e "$demo" ]; then
  # A lab that starts afresh has empty clouds, bare routers and new host keys: its rehearsal record starts afresh
  # too. The old one (audit log included) is kept beside it, never deleted.
  mv "$demo" "$demo.$(date -u +%Y%m%dT%H%M%SZ)"
  echo "the lab was not running: the previous rehearsal's state and audit log moved aside" >&2
fi
mkdir -p "$demo"
"${nx[@]}" lab install
"${nx[@]}" lab up
eval "$("${nx[@]}" lab env)"
"${nx[@]}" plan --migrate labdrc-web --out "$demo/plan.json"
"${nx[@]}" apply "$demo/plan.json"
"${nx[@]}" lab up --only monitoring
code=0
"${nx[@]}" status || code=$?
[ "$code" -eq 0 ] || [ "$code" -eq 3 ]    # 3: something needs attention (listed above); not a failure of the demo
"${nx[@]}" audit verify
cat <<EOF

rehearsal done in $(( $(date +%s) - started )) s. Where to look next:
  exporter     http://127.0.0.1:8790/metrics      Prometheus  http://127.0.0.1:9090/targets (alerts: /alerts)
  audit log    $NXGOV_AUDIT_LOG   (nxgov audit show; nxgov audit verify)
  state store  $NXGOV_STATE       (nxgov status; nxgov migrate status; nxgov backup status)
  the lab      eval "\$(.venv/bin/nxgov lab env)" sets this session's variables; .venv/bin/nxgov lab down removes it all
EOF
