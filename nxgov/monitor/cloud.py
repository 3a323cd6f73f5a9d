"""The cloud family: per node, capacity (Placement), servers and volumes by status, the departments' quotas and
use, and their networks without IPv6. One source per cloud node of the estate (the backup cloud included), each
with its own connection (:func:`nxgov.cloud.connect.node_clients`), so a node that stops answering is down alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from nxgov.cloud.connect import NodeClient, explain, node_clients
from nxgov.cloud.transport import RetryPolicy
from nxgov.monitor.cloudread import NodeReading, read_node
from nxgov.monitor.samples import Samples
from nxgov.monitor.source import MonitorConfig, Snapshot, Source

SERVER_STATUSES = ("ACTIVE", "BUILD", "ERROR", "HARD_REBOOT", "MIGRATING", "PASSWORD", "PAUSED", "REBOOT",
                   "REBUILD", "RESCUE", "RESIZE", "REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED", "SHUTOFF",
                   "SOFT_DELETED", "SUSPENDED", "UNKNOWN", "VERIFY_RESIZE")
"""Nova's server statuses: each gets a series (0 when no server has it)."""
VOLUME_STATUSES = ("available", "in-use", "creating", "attaching", "detaching", "deleting", "error",
                   "error_deleting", "error_extending", "extending", "maintenance", "reserved", "backing-up",
                   "restoring-backup", "error_restoring", "downloading", "uploading", "retyping",
                   "awaiting-transfer")
"""Cinder's volume statuses: each gets a series (0 when no volume has it)."""
RESOURCES = {"vcpus": ("vCPUs", ""), "memory": ("memory", "_bytes"), "disk": ("local disk", "_bytes")}
QUOTAS = {"cores": ("cores", ""), "memory": ("RAM", "_bytes"), "instances": ("instances", ""),
          "volume": ("volume storage", "_bytes")}


def sources(config: MonitorConfig) -> list[Source]:
    """A source per node. One retry per call (not ``nxgov cloud``'s five): a node that does not answer is
    reported down within one refresh instead of after minutes of backoff."""
    policy = RetryPolicy(attempts=2, max_delay=1.0, timeout=(5.0, config.timeout))
    clients = node_clients(dict(config.estate.clouds), config.estate_dir, policy)
    departments = {d.code for d in config.estate.departments}
    return [CloudSource(client, departments) for client in clients.values()]


class CloudSource(Source):
    family = "cloud"

    def __init__(self, client: NodeClient, departments: set[str]) -> None:
        self.client = client
        self.node = client.node
        self.departments = departments

    def read(self) -> Snapshot:
        try:
            return CloudSnapshot(read_node(self.client.conn, self.node, self.departments))
        except Exception as error:
            raise explain(error, self.client.node, self.client.entry) from error

    def api_calls(self) -> int:
        return self.client.stats.calls


@dataclass(frozen=True)
class CloudSnapshot:
    reading: NodeReading

    def add_to(self, out: Samples) -> None:
        r = self.reading
        node = {"node": r.node}
        for stem, use in r.resources.items():
            what, unit = RESOURCES[stem]
            out.gauge(f"nxgov_cloud_{stem}_capacity{unit}", f"{what} of the node's compute hosts in all "
                      "(Placement inventory total, summed over resource providers)", use.capacity, node)
            out.gauge(f"nxgov_cloud_{stem}_used{unit}", f"{what} allocated to servers (Placement usages)",
                      use.used, node)
            out.gauge(f"nxgov_cloud_{stem}_allocatable{unit}", f"{what} that can be allocated in all: (total - "
                      "reserved) x allocation ratio, summed over resource providers", use.allocatable, node)
        for status in dict.fromkeys((*SERVER_STATUSES, *sorted(r.servers))):
            out.gauge("nxgov_cloud_servers", "Servers on the node (every project) by Nova status",
                      r.servers[status], {**node, "status": status})
        for status in dict.fromkeys((*VOLUME_STATUSES, *sorted(r.volumes))):
            out.gauge("nxgov_cloud_volumes", "Volumes on the node (every project) by Cinder status",
                      r.volumes[status], {**node, "status": status})
        out.gauge("nxgov_cloud_volume_size_bytes", "Size of every volume on the node, summed", r.volume_bytes, node)
        for quota in r.quotas:
            what, unit = QUOTAS[quota.resource]
            labels = {**node, "department": quota.department}
            out.gauge(f"nxgov_cloud_quota_{quota.resource}_limit{unit}",
                      f"The department's {what} quota on the node (-1: unlimited)", quota.limit, labels)
            out.gauge(f"nxgov_cloud_quota_{quota.resource}_used{unit}",
                      f"The department's {what} in use on the node", quota.used, labels)
            if quota.limit > 0:
                out.gauge("nxgov_cloud_quota_usage_ratio", "Quota in use / quota limit (0-1) per department, "
                          "node and resource (cores, memory, instances, volume); absent when unlimited or 0",
                          quota.used / quota.limit, {**labels, "resource": quota.resource})
        for department, count in sorted(r.networks_without_ipv6.items()):
            out.gauge("nxgov_cloud_networks_without_ipv6", "The department's networks on the node that have no "
                      "IPv6 subnet (should be 0: every network is dual-stack)", count,
                      {**node, "department": department})
