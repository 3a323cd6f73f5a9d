"""Read the nodes, build the desired state, check it, and compute the plan: the one entry point of ``plan``."""

from __future__ import annotations

from dataclasses import dataclass

from nxgov.cloud import actual as actual_state
from nxgov.cloud import capacity, checks, desired
from nxgov.cloud.actual import Actual
from nxgov.cloud.connect import NodeClient
from nxgov.cloud.plan import Plan, diff, now
from nxgov.errors import InputError
from nxgov.estate.model import Estate


@dataclass
class Planned:
    plan: Plan
    actual: Actual


def managed_nodes(estate: Estate) -> list[str]:
    """The nodes nxgov provisions: the primary nodes (systems run there; the backup node holds copies)."""
    return estate.primary_nodes()


def make_plan(estate: Estate, clients: dict[str, NodeClient], *, prune: bool = False) -> Planned:
    """The plan for ``estate`` against the nodes of ``clients``. Raises InputError for what would surely fail."""
    actual = actual_state.read(clients, estate.estate, {d.code for d in estate.departments})
    wanted = desired.build(estate, actual.context)
    checks.raise_unknown(wanted.resources, actual.facts)
    changes, unpruned = diff(wanted.resources, actual.resources, prune=prune, can_resize=actual.can_resize())
    asks = checks.capacity_asks(changes)
    room = capacity.read(clients, {(ask.node, ask.field) for ask in asks})
    refused = [*checks.quotas_below_usage(changes, actual.resources, actual.facts),
               *checks.quotas_over_capacity(asks, room)]
    if refused:
        raise InputError(f"{len(refused)} quota{'s' if len(refused) > 1 else ''} the nodes cannot grant: "
                         + "; ".join(refused), "nothing was changed")
    warnings = [*wanted.warnings, *checks.quota_warnings(wanted.resources, actual.facts),
                *checks.keypair_warnings(changes, actual.resources)]
    plan = Plan(estate=estate.estate, created=now(), fingerprint=actual.fingerprint(), prune=prune,
                nodes=list(clients), changes=changes, warnings=warnings, unpruned=unpruned)
    return Planned(plan, actual)
