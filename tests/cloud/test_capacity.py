"""A quota the node cannot grant (above what it has in all) is refused before any change.

The arithmetic runs on hand-built inventories, pools and capacities; one test runs the CLI against the
lab, whose fake Nova driver reports 1000 VCPU (allocation ratio 4) and 800000 MEMORY_MB (512 reserved)
per node and whose Cinder pools report an infinite capacity.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nxgov.cloud.capacity import Room, from_inventories, from_pools
from nxgov.cloud.checks import Ask, capacity_asks, quotas_over_capacity
from nxgov.cloud.plan import Change
from nxgov.cloud.resources import Kind, Resource
from tests.cloud.conftest import LabEstate, Run


def _inventory(total: int, reserved: int = 0, ratio: float = 1.0) -> dict[str, Any]:
    return {"total": total, "reserved": reserved, "allocation_ratio": ratio}


def test_placement_capacity_is_total_less_reserved_times_ratio_summed() -> None:
    providers = [{"VCPU": _inventory(16, 2, 4.0), "MEMORY_MB": _inventory(65536, 512, 1.5)},
                 {"VCPU": _inventory(8, 0, 16.0), "MEMORY_MB": _inventory(32768, 0, 1.0)},
                 {"DISK_GB": _inventory(1000)}]
    capacity = from_inventories(providers)
    assert capacity["cores"].amount == 14 * 4 + 8 * 16
    assert capacity["ram"].amount == int(65024 * 1.5) + 32768
    assert capacity["cores"].how == ("Placement VCPU over 2 resource providers: (24 total - 2 reserved) x "
                                     "allocation ratio 4, 16")
    assert from_inventories([])["cores"] == Room(0, "no resource provider in Placement has VCPU inventory")


def test_cinder_capacity_counts_reserve_and_thin_over_subscription() -> None:
    thick = {"total_capacity_gb": 1000, "reserved_percentage": 10}
    thin = {"total_capacity_gb": 500.0, "reserved_percentage": 0, "thin_provisioning_support": True,
            "max_over_subscription_ratio": "20.0"}
    room = from_pools([thick, thin])["gigabytes"]
    assert room.amount == 900 + 10000
    assert room.how == ("Cinder total_capacity_gb over 2 volume pools: (1000 GiB - 10% reserved) + "
                        "(500 GiB - 0% reserved, x 20 over-subscription)")
    assert from_pools([thick, {"total_capacity_gb": "infinite"}]) == {}
    assert from_pools([{**thin, "max_over_subscription_ratio": "auto"}]) == {}
    assert from_pools([]) == {}


def _quota(kind: Kind, **attrs: int) -> Resource:
    return Resource(kind=kind, node="yinchuan", department="d", name="d", attrs=attrs)


def test_asks_are_the_quota_values_a_plan_sets() -> None:
    created = Change(action="create", reason="new", desired=_quota("quota_compute", cores=64, ram=8192, instances=9))
    updated = Change(action="update", reason="r", fields={"gigabytes": [100, 200]},
                     desired=_quota("quota_volume", gigabytes=200, volumes=10, snapshots=10))
    unlimited = Change(action="update", reason="r", fields={"cores": [8, -1]},
                       desired=_quota("quota_compute", cores=-1, ram=8192, instances=9))
    network = Change(action="create", reason="new", desired=_quota("quota_network", networks=10))
    assert capacity_asks([created, updated, unlimited, network]) == [
        Ask("d", "yinchuan", "cores", 64), Ask("d", "yinchuan", "ram", 8192), Ask("d", "yinchuan", "gigabytes", 200)]


def test_over_capacity_names_department_node_field_amounts_and_fix() -> None:
    capacity = {"yinchuan": {"cores": Room(40, "Placement VCPU ..."), "ram": Room(102400, "Placement MEMORY_MB ...")}}
    asks = [Ask("d", "yinchuan", "cores", 64), Ask("d", "yinchuan", "ram", 102400),
            Ask("d", "yinchuan", "gigabytes", 10**6), Ask("e", "zhongwei", "cores", 10**6)]
    assert quotas_over_capacity(asks, capacity) == [
        "department d on node yinchuan: quotas.cores 64 is more than the node has in all (40 = Placement VCPU ...); "
        "lower quotas.cores for department d, or add capacity on node yinchuan"]
    ram = quotas_over_capacity([Ask("d", "yinchuan", "ram", 204800)], capacity)
    assert ram[0].startswith("department d on node yinchuan: quotas.ram_gb 200 is more than the node has in all "
                             "(100 GiB = 102400 MiB = Placement MEMORY_MB ...)")


@pytest.mark.lab
def test_quota_above_node_capacity_refused_before_any_change(cli: Callable[..., Run], estate: LabEstate,
                                                             lab_clouds: Path) -> None:
    d = f"{estate.name}d"
    estate.doc["departments"][0]["quotas"].update(cores=100000, ram_gb=100000, volumes_gb=10**7)
    estate.write()
    run = cli("cloud", "plan", estate=estate.path)
    assert run.code == 2, run.out + run.err
    text = " ".join(run.err.split())
    for node in ("yinchuan", "zhongwei"):
        assert (f"department {d} on node {node}: quotas.cores 100000 is more than the node has in all (4000 = "
                "Placement VCPU over 1 resource provider: (1000 total - 0 reserved) x allocation ratio 4); "
                f"lower quotas.cores for department {d}, or add capacity on node {node}") in text
        assert (f"department {d} on node {node}: quotas.ram_gb 100000 is more than the node has in all (780.75 GiB "
                "= 799488 MiB = Placement MEMORY_MB over 1 resource provider: (800000 total - 512 reserved)") in text
    assert text.startswith("error: 4 quotas the nodes cannot grant: ")
    assert "quotas.volumes_gb" not in text, "the lab's Cinder pools report an infinite capacity"
    assert "nothing was changed" in text and "Traceback" not in run.err
    assert _projects(lab_clouds, estate.name) == []


def _projects(clouds: Path, estate: str) -> list[str]:
    """The lab's projects that belong to the estate (named after one of its departments, or tagged for it)."""
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    conn: Any = Connection(config=OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one(
        cloud="nxlab-yinchuan", region_name="yinchuan"))
    return [p.name for p in conn.identity.projects() if p.name.startswith(estate) or
            f"nxgov-estate-{estate}" in (p.tags or [])]
