#!/usr/bin/env bash
# The work of `nxgov cloud apply` for bench/cloud.py's scaled estate, done with python-openstackclient the
# way an operator's script would: look each resource up, create it when missing (so a re-run is a no-op).
# The same resources as bench/peers/openstack_cloud.yml (see there what is and is not equivalent to nxgov);
# the server group and server are made with a token scoped to the department's project (--os-project-name).
# Usage: openstackclient.sh IDENTITY_ENTRY "CLOUD_ENTRY..." ADMIN_USER "CODE,IPV4,IPV6 ..." [SERVER_ENTRY]
# (SERVER_ENTRY: the entry that holds the servers, none if empty or absent; OS_CLIENT_CONFIG_FILE names the
# clouds.yaml; `openstack` comes from PATH.)
set -euo pipefail
identity=$1 clouds=$2 admin=$3 departments=$4 server_cloud=${5:-}

os() { openstack --os-cloud "$1" "${@:2}"; }
exists() { os "$1" "${@:2}" -f value -c id >/dev/null 2>&1; }
in_project() { openstack --os-cloud "$1" --os-project-name "$2" "${@:3}"; }

for dept in $departments; do
  IFS=, read -r code _ _ <<<"$dept"
  exists "$identity" project show "$code" || os "$identity" project create --domain default "$code" >/dev/null
  os "$identity" role add --project "$code" --user "$admin" member
done
for cloud in $clouds; do
  for dept in $departments; do
    IFS=, read -r code ipv4 ipv6 <<<"$dept"
    os "$cloud" quota set --cores 4 --ram 8192 --instances 4 --gigabytes 10 --volumes 20 --snapshots 20 \
      --networks 10 --routers 2 --secgroups 20 "$code"
    exists "$cloud" network show "$code-app" \
      || os "$cloud" network create --project "$code" "$code-app" >/dev/null
    exists "$cloud" subnet show "$code-app-v4" \
      || os "$cloud" subnet create --project "$code" --network "$code-app" --subnet-range "$ipv4" "$code-app-v4" >/dev/null
    exists "$cloud" subnet show "$code-app-v6" \
      || os "$cloud" subnet create --project "$code" --network "$code-app" --ip-version 6 --subnet-range "$ipv6" \
        "$code-app-v6" >/dev/null
    if ! exists "$cloud" router show "$code-router"; then
      os "$cloud" router create --project "$code" "$code-router" >/dev/null
      os "$cloud" router add subnet "$code-router" "$code-app-v4"
      os "$cloud" router add subnet "$code-router" "$code-app-v6"
    fi
    if ! exists "$cloud" security group show "$code-level2"; then
      os "$cloud" security group create --project "$code" "$code-level2" >/dev/null
      sg="$code-level2"
      os "$cloud" security group rule create --project "$code" --ethertype IPv6 --protocol tcp --dst-port 22 \
        --remote-ip 2001:db8:ffff:1::/64 "$sg" >/dev/null
      os "$cloud" security group rule create --project "$code" --ethertype IPv6 --protocol ipv6-icmp \
        --remote-ip 2001:db8:ffff:1::/64 "$sg" >/dev/null
      for port in 80 443; do
        os "$cloud" security group rule create --project "$code" --ethertype IPv4 --protocol tcp --dst-port "$port" \
          --remote-ip 0.0.0.0/0 "$sg" >/dev/null
        os "$cloud" security group rule create --project "$code" --ethertype IPv6 --protocol tcp --dst-port "$port" \
          --remote-ip ::/0 "$sg" >/dev/null
      done
    fi
  done
done
if [[ -n $server_cloud ]]; then
  for dept in $departments; do
    IFS=, read -r code _ _ <<<"$dept"
    group=$(in_project "$server_cloud" "$code" server group show "$code-web-web" -f value -c id 2>/dev/null) \
      || group=$(in_project "$server_cloud" "$code" server group create --policy anti-affinity "$code-web-web" \
        -f value -c id)
    in_project "$server_cloud" "$code" server show "$code-web-web-1" -f value -c id >/dev/null 2>&1 \
      || in_project "$server_cloud" "$code" server create --flavor m1.tiny --image cirros-lab --network "$code-app" \
        --security-group "$code-level2" --hint "group=$group" --wait "$code-web-web-1" >/dev/null
  done
fi
