"""Connections to the cloud nodes, one per node, built from the node's clouds.yaml entry.

Each node's connection goes through :mod:`nxgov.cloud.transport` (retries, timeouts, call counting).
Servers, volumes and server groups can only be created by a token scoped to the department's
project, so :meth:`NodeClient.scoped` opens (and caches) a connection scoped to a project with the
same credentials; nxgov's own user gets the member role there (a planned role assignment).

Errors a node can raise while connecting are turned into operator messages naming the node, the
clouds.yaml entry and the fix (:func:`explain`).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nxgov.cloud.tokens import Tokens, default_cache
from nxgov.cloud.transport import CallStats, RetryPolicy, install
from nxgov.errors import InputError, NxgovError, OperationError

if TYPE_CHECKING:
    from nxgov.estate.model import CloudNode


@dataclass
class NodeClient:
    """One cloud node: its admin connection, project-scoped connections, and the API calls they made."""

    node: str
    entry: str
    region: str | None
    config_files: list[str]
    policy: RetryPolicy
    tokens: Tokens = field(default_factory=lambda: Tokens(None))
    stats: CallStats = field(default_factory=CallStats)
    _admin: Any = None
    _scoped: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def conn(self) -> Any:
        """The admin ``openstack.connection.Connection`` (authenticated on first use; typed Any because its
        service proxies are chosen at run time)."""
        return self.connect()

    def connect(self) -> Any:
        """Open (once) and return the admin connection."""
        with self._lock:
            if self._admin is None:
                self._admin = self._connect(None)
            return self._admin

    def scoped(self, project: str) -> Any:
        """A connection scoped to the project named ``project`` (domain Default)."""
        with self._lock:
            if project not in self._scoped:
                self._scoped[project] = self._connect(project)
            return self._scoped[project]

    def forget_scoped(self, project: str) -> None:
        """Drop the connection scoped to ``project`` and its cached token (the project was made or deleted)."""
        with self._lock:
            self._scoped.pop(project, None)
        region = self._region_config(project)
        self.tokens.forget(region.config.get("auth", {}), region.config.get("auth_type"))

    @property
    def auth_url(self) -> str:
        return str(self._region_config(None).config.get("auth", {}).get("auth_url", ""))

    @property
    def username(self) -> str:
        return str(self._region_config(None).config.get("auth", {}).get("username", ""))

    def _region_config(self, project: str | None) -> Any:
        from openstack import config as occ
        from openstack import exceptions as os_exc

        for files in (self.config_files, occ.loader.SECURE_FILES):
            _check_parseable(self.node, files)
        loader = occ.OpenStackConfig(config_files=self.config_files, load_envvars=False)
        extra: dict[str, Any] = {} if project is None else {"project_name": project, "project_id": None,
                                                             "project_domain_name": "Default"}
        try:
            return loader.get_one(cloud=self.entry, region_name=self.region, **extra)
        except os_exc.ConfigException as error:
            where = ", ".join(dict.fromkeys(self.config_files)) or "the default clouds.yaml locations"
            raise InputError(f"node {self.node}: clouds.yaml entry {self.entry!r} not found in {where} ({error})",
                             f"add an entry {self.entry!r} to clouds.yaml, point OS_CLIENT_CONFIG_FILE at the "
                             f"right file, or fix clouds.{self.node}.cloud in the estate") from error

    def _connect(self, project: str | None) -> Any:
        from openstack.connection import Connection

        region = self._region_config(project)
        conn = Connection(config=region)
        install(conn.session.session, self.policy, self.stats)
        self.tokens.attach(conn, region.config.get("auth", {}), region.config.get("auth_type"), on_disk=project is None)
        try:
            conn.authorize()
        except Exception as error:
            raise explain(error, self.node, self.entry, project) from error
        self.tokens.remember(conn)
        return conn


def _check_parseable(node: str, files: list[str]) -> None:
    """Refuse the file openstacksdk would read first (the first that exists and can be read) when it is not valid
    YAML (or JSON), naming where; openstacksdk would skip it, call the entry missing, and log its content."""
    for name in files:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        try:
            json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except json.JSONDecodeError as error:
            where = f" at line {error.lineno}, column {error.colno}"
        except yaml.YAMLError as error:
            where = _yaml_location(error)
        else:
            return
        raise InputError(f"node {node}: {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}{where}",
                         "fix the file's syntax there (e.g. an unclosed quote); its content is never shown, as it "
                         "holds passwords") from None


def _yaml_location(error: yaml.YAMLError) -> str:
    """Where a YAML error is (``" at line 3, column 1, in what starts at line 2, column 11"``), never what is there."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return ""
    problem, context = error.problem_mark, error.context_mark
    where = f" at line {problem.line + 1}, column {problem.column + 1}"
    if context is not None and (context.line, context.column) != (problem.line, problem.column):
        where += f", in what starts at line {context.line + 1}, column {context.column + 1}"
    return where


def node_clients(nodes: dict[str, CloudNode], estate_dir: Path, policy: RetryPolicy | None = None,
                 tokens: Tokens | None = None) -> dict[str, NodeClient]:
    """A (not yet connected) client per node. A node's ``clouds_yaml`` is relative to the estate. The nodes
    share ``tokens`` (by default: one token per identity, cached as :func:`tokens.default_cache` says)."""
    chosen = policy or RetryPolicy()
    shared = tokens or Tokens(default_cache())
    clients = {}
    for name, node in nodes.items():
        files: list[str] = []
        if node.clouds_yaml:
            files.append(str((estate_dir / node.clouds_yaml).resolve()))
        elif os.environ.get("OS_CLIENT_CONFIG_FILE"):
            files.append(os.environ["OS_CLIENT_CONFIG_FILE"])
        else:
            from openstack.config.loader import CONFIG_FILES

            files.extend(CONFIG_FILES)
        clients[name] = NodeClient(name, node.cloud, node.region, files, chosen, shared)
    return clients


def explain(error: Exception, node: str, entry: str, project: str | None = None) -> NxgovError:
    """An operator message for an error raised while talking to a node."""
    if isinstance(error, NxgovError):
        return error
    from keystoneauth1 import exceptions as ks_exc
    from openstack import exceptions as os_exc

    scope = f" (project {project})" if project else ""
    if isinstance(error, ks_exc.Unauthorized) or getattr(error, "http_status", None) == 401 \
            or "(HTTP 401)" in str(error):
        return OperationError(f"node {node}: Keystone refused the credentials of clouds.yaml entry {entry!r}{scope}",
                              "check username, password and project in clouds.yaml (or secure.yaml) for this entry"
                              + (f"; and that nxgov's user has a role on project {project}" if project else ""))
    if isinstance(error, ks_exc.ConnectFailure | ks_exc.ConnectTimeout | ks_exc.DiscoveryFailure) or any(
            marker in str(error) for marker in ("Connection refused", "Unable to establish connection")):
        return OperationError(f"node {node} is unreachable (clouds.yaml entry {entry!r}): {_first_line(error)}",
                              "check the node's auth_url and endpoints, and the network path to them; "
                              "nothing was changed on this node")
    if isinstance(error, os_exc.HttpException) and error.status_code is not None:
        detail = (error.details or "").strip() or _first_line(error)
        return OperationError(f"node {node}: HTTP {error.status_code} from {error.url!s}: {detail}",
                              _HTTP_HINTS.get(error.status_code, "apply again; nxgov converges from where it stopped"))
    if isinstance(error, ks_exc.EndpointNotFound | os_exc.EndpointNotFound):
        return OperationError(f"node {node}: a service endpoint is missing from the catalog ({_first_line(error)})",
                              f"check region_name of clouds.yaml entry {entry!r} against the node's region")
    return OperationError(f"node {node}: {type(error).__name__}: {_first_line(error)}",
                          "re-run the command; nxgov converges from wherever it stopped")


_HTTP_HINTS = {
    400: "the node refused the request as invalid: check the estate's values for this resource",
    403: "nxgov's user lacks a role for this: check its roles on the node",
    404: "it is gone: run plan again to see the current state",
    409: "the resource is busy or in use: apply again once it has settled",
    413: "a quota the node cannot grant: raise the department's quota, or ask for capacity on this node",
}


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
