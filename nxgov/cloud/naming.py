"""Deterministic names and the ownership marker of everything nxgov creates.

A resource is found again by its name inside its department's project, so a re-run after a crash
finds what the crashed run made instead of making it twice. Names:

==================  =====================================  ==========================================
kind                name                                   example
==================  =====================================  ==========================================
project             ``<dept>``                             ``labdrc``
role assignment     ``<dept>/<user>/<role>``               ``labdrc/alice/member``
quotas              ``<dept>``                             ``labdrc``
network             ``<dept>-<network>``                   ``labdrc-app``
subnet              ``<dept>-<network>-v4`` / ``-v6``      ``labdrc-app-v6``
router              ``<dept>-router``                      ``labdrc-router``
router interface    ``<router>/<subnet>``                  ``labdrc-router/labdrc-app-v4``
security group      ``<dept>-level3`` / ``<dept>-level2``  (baseline of levels 3-5 / 1-2)
server group        ``<system>-<server>``                  ``labedu-portal-web``
server              ``<system>-<server>-<i>``              ``labdrc-web-web-1``
volume              ``<server>-data<k>``                   ``labdrc-web-web-1-data1``
attachment          ``<server>/<volume>``
==================  =====================================  ==========================================

Ownership: projects carry the tags ``nxgov`` and ``nxgov-estate-<estate>`` (:func:`estate_tag`);
networks, subnets, routers, security groups and servers carry the tag ``nxgov``; volumes carry the
metadata key ``nxgov`` (Cinder volumes have no tags). ``--prune`` deletes only marked resources; drift
reports unmarked ones in nxgov's projects as found by hand.
"""

from __future__ import annotations

TAG = "nxgov"
MEMBER_ROLE = "member"


def estate_tag(estate: str) -> str:
    """The second tag of an nxgov project: which estate owns it. Plan and prune only see their own estate's
    projects, so two estates (or a test estate) sharing a cloud never touch each other's departments."""
    return f"nxgov-estate-{estate}"


def network(dept: str, net: str) -> str:
    return f"{dept}-{net}"


def subnet(dept: str, net: str, version: int) -> str:
    return f"{dept}-{net}-v{version}"


def router(dept: str) -> str:
    return f"{dept}-router"


def router_interface(router_name: str, subnet_name: str) -> str:
    return f"{router_name}/{subnet_name}"


def security_group(dept: str, level: int) -> str:
    return f"{dept}-level{baseline(level)}"


def baseline(level: int) -> int:
    """The security baseline of a protection level: 3 for levels 3-5, 2 for levels 1-2."""
    return 3 if level >= 3 else 2


def server_group(system: str, server: str) -> str:
    return f"{system}-{server}"


def server(system: str, name: str, index: int) -> str:
    return f"{system}-{name}-{index}"


def volume(server_name: str, index: int) -> str:
    return f"{server_name}-data{index}"


def attachment(server_name: str, volume_name: str) -> str:
    return f"{server_name}/{volume_name}"


def role_assignment(dept: str, user: str, role: str) -> str:
    return f"{dept}/{user}/{role}"
