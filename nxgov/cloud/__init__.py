"""Provisioning on the cloud nodes: estate → desired resources, actual state, plan, apply, drift.

Modules: ``transport`` (retries, timeouts, API-call counting), ``connect`` (per-node connections),
``naming`` and ``ipv6`` (deterministic names, ownership tags, IPv6 'auto'), ``desired``, ``actual``,
``plan`` (typed changes, JSON), ``checks`` (preflight), ``planner`` (the plan entry point),
``provider`` (one change through openstacksdk), ``apply`` (waves through the runner), ``drift``,
``access`` (the login to the servers nxgov creates, ``server_access``) and ``servers`` (a system's servers as
the nodes have them, for code that logs in to them).
openstacksdk is imported only inside functions, so importing this package stays cheap.
"""
