"""No lab needed: IPv6 'auto' allocation, plan diff and JSON round trip, drift, and the retrying transport."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from nxgov.cloud import desired
from nxgov.cloud.actual import Actual, NodeFacts, next_link
from nxgov.cloud.desired import Context
from nxgov.cloud.drift import Drift, find
from nxgov.cloud.ipv6 import allocate
from nxgov.cloud.plan import Plan, diff
from nxgov.cloud.resources import Resource
from nxgov.cloud.transport import CallStats, RetryPolicy, install
from nxgov.errors import InputError
from nxgov.estate.model import Estate
from tests.cloud.conftest import lab_shape


def _estate(**changes: object) -> Estate:
    """The lab shape without server_access (its key is a lab file: test_server_access_units.py has its own)."""
    doc = lab_shape("unit")
    doc.pop("server_access")
    doc.update(changes)
    return Estate.model_validate(doc)


def test_ipv6_auto_is_stable_and_keeps_what_exists() -> None:
    estate = _estate()
    first = allocate(estate, estate.departments, {})
    again = allocate(estate, list(reversed(estate.departments)), {})
    assert first == again
    assert all(p.prefixlen == 64 and p.subnet_of(ipaddress.IPv6Network("2001:db8:6500::/40")) for p in first.values())
    kept = ipaddress.IPv6Network("2001:db8:6577:1::/64")
    assert allocate(estate, estate.departments, {("unitd", "app"): kept})[("unitd", "app")] == kept


def test_ipv6_exhausted_is_an_input_error() -> None:
    estate = _estate(cloud_ipv6="2001:db8:6500::/48")
    with pytest.raises(InputError, match="IPv6 allocation exhausted"):
        allocate(estate, estate.departments, {})


def _server(**attrs: object) -> Resource:
    base = {"flavor": "m1.tiny", "image": "cirros-lab", "network": "d-app", "security_groups": ["d-level3"],
            "status": "ACTIVE", "server_group": None, "tagged": True}
    return Resource(kind="server", node="yinchuan", department="d", name="s-1", attrs={**base, **attrs})


def test_diff_marks_replace_with_the_forcing_field_and_round_trips() -> None:
    actual = [_server().model_copy(update={"id": "x"})]
    image, _ = diff([_server(image="kylin-v10")], actual, prune=False, can_resize={"yinchuan": True})
    assert image[0].action == "replace" and image[0].reason.startswith("image: a new image means a new root disk")
    resize, _ = diff([_server(flavor="m1.small")], actual, prune=False, can_resize={"yinchuan": True})
    assert resize[0].action == "update"
    one_host, _ = diff([_server(flavor="m1.small")], actual, prune=False, can_resize={"yinchuan": False})
    assert one_host[0].action == "replace" and "one compute host" in one_host[0].reason
    stopped, _ = diff([_server(status="SHUTOFF")], actual, prune=False, can_resize={})
    assert stopped[0].action == "update" and stopped[0].fields == {"status": ["ACTIVE", "SHUTOFF"]}
    assert diff([], actual, prune=False, can_resize={}) == ([], 1)
    pruned, _ = diff([], actual, prune=True, can_resize={})
    assert pruned[0].action == "delete"
    plan = Plan(estate="lab", created="now", fingerprint="f" * 64, prune=False, nodes=["yinchuan"], changes=image)
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.to_json()["schema"] == "nxgov.cloud.plan/1"


def test_a_quota_is_set_before_what_it_counts_is_made() -> None:
    """A quota raised for a new network and the network, in one apply: the quota's wave comes first (in one wave
    they raced, and Neutron could refuse the network)."""
    def quota(kind: str, **attrs: int) -> Resource:
        return Resource(kind=kind, node="yinchuan", department="nxdrc", name="nxdrc", attrs=attrs)

    def made(kind: str, name: str) -> Resource:
        return Resource(kind=kind, node="yinchuan", department="nxdrc", name=name)

    desired = [quota("quota_network", networks=2, routers=1, security_groups=10),
               quota("quota_compute", cores=8, ram=8192, instances=4), quota("quota_volume", gigabytes=100),
               made("network", "nxdrc-net-2"), made("router", "nxdrc-router"), made("security_group", "nxdrc-l3"),
               made("volume", "nxdrc-oa-data"), made("server", "nxdrc-oa-app-1")]
    actual = [q.model_copy(update={"id": "p", "attrs": {k: 1 for k in q.attrs}}) for q in desired[:3]]
    changes, _ = diff(desired, actual, prune=False, can_resize={})
    waves = {c.resource.kind: c.wave for c in changes}
    assert {waves[k] for k in ("quota_network", "quota_compute", "quota_volume")} == {1}
    assert min(waves[k] for k in ("network", "router", "security_group", "volume", "server")) > 1


class _Flaky(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, dict[str, str]]]] = []
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        self.seen.append(self.command)
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def flaky() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Flaky.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _session(stats: CallStats) -> requests.Session:
    session = requests.Session()
    install(session, RetryPolicy(base_delay=0.01, max_delay=0.05), stats)
    return session


def test_retries_429_and_503_honouring_retry_after(flaky: str) -> None:
    _Flaky.answers[:] = [(429, {"Retry-After": "0"}), (503, {}), (200, {})]
    stats = CallStats()
    assert _session(stats).post(flaky).status_code == 200
    assert stats.calls == 3 and stats.retries == 2 and _Flaky.seen == ["POST"] * 3


def test_500_is_retried_for_get_but_not_for_post(flaky: str) -> None:
    _Flaky.answers[:] = [(500, {}), (200, {})]
    stats = CallStats()
    assert _session(stats).get(flaky).status_code == 200
    _Flaky.answers[:] = [(500, {})]
    assert _session(stats).post(flaky).status_code == 500
    assert stats.calls == 3 and stats.retries == 1


def test_retry_after_parses_seconds_and_dates_and_caps() -> None:
    policy = RetryPolicy(max_retry_after=5)
    assert policy.retry_after("1") == 1.0
    assert policy.retry_after("120") == 5.0
    assert policy.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert policy.retry_after(None) is None
    assert all(0 <= policy.backoff(n) <= policy.max_delay for n in range(1, 10))


def _drift_with_flavor_changed(compute_hosts: int) -> Drift:
    estate = _estate()
    context = Context(identity_node={"yinchuan": "yinchuan", "zhongwei": "yinchuan"},
                      users={"yinchuan": frozenset({"admin"})}, me={"yinchuan": "admin"})
    existing = [r.model_copy(update={"id": r.key}) for r in desired.build(estate, context).resources]
    target = next(r for r in existing if r.kind == "server" and r.node == "yinchuan"
                  and any(a.kind == "attachment" and a.attrs["server"] == r.name for a in existing))
    changed = target.model_copy(update={"attrs": {**target.attrs, "flavor": "m1.small"}})
    facts = NodeFacts(flavors={}, flavor_ids={}, images={}, compute_hosts=compute_hosts)
    actual = Actual([changed if r is target else r for r in existing], context,
                    {"yinchuan": facts, "zhongwei": facts})
    return find(estate, actual)


def test_drift_names_only_what_changed_and_how_the_node_can_fix_it() -> None:
    resizable = _drift_with_flavor_changed(compute_hosts=2)
    assert [(c.kind, c.detail) for c in resizable.changed] == [("server", "flavor: m1.small → m1.tiny")]
    single_host = _drift_with_flavor_changed(compute_hosts=1)
    assert [c.kind for c in single_host.changed] == ["server"], "its attachment is not drift"
    assert "one compute host" in single_host.changed[0].detail
    assert not resizable.orphans and not resizable.missing


def test_next_links_of_each_service_shape() -> None:
    nova = {"servers": [], "servers_links": [{"rel": "next", "href": "http://n/v2.1/servers/detail?marker=x"}]}
    assert next_link(nova, "servers") == "http://n/v2.1/servers/detail?marker=x"
    assert next_link({"servers": [], "servers_links": [{"rel": "prev", "href": "p"}]}, "servers") is None
    keystone = {"projects": [], "links": {"next": "http://k/v3/projects?page=2", "self": "s"}}
    assert next_link(keystone, "projects") == "http://k/v3/projects?page=2"
    assert next_link({"projects": [], "links": {"next": None}}, "projects") is None
    glance = {"images": [], "first": "/v2/images", "next": "/v2/images?marker=y"}
    assert next_link(glance, "images") == "/images?marker=y", "relative to the image endpoint (…/v2)"
    assert next_link({"images": [], "first": "/v2/images"}, "images") is None
