"""The extranet family: per site and plane, what the last ``nxgov net verify`` found (and when), sites by state,
when each device's configuration was last archived, and the devices needing attention. All from the state store:
:func:`nxgov.network.verify.latest`, :func:`nxgov.network.archive.last_archived`,
:func:`nxgov.network.attention.open_items`. Nothing is read from a device here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nxgov.monitor.samples import Samples
from nxgov.monitor.source import MonitorConfig, Snapshot, Source, StoreSource
from nxgov.network.archive import last_archived
from nxgov.network.attention import open_items
from nxgov.network.verify import SITE_STATES, latest
from nxgov.state import StateStore

UNVERIFIED = "unverified"
"""The state counted for a site of the estate that no verify has judged yet."""


def sources(config: MonitorConfig) -> list[Source]:
    return [ExtranetSource(config)] if config.estate.extranet is not None else []


class ExtranetSource(StoreSource):
    family = "extranet"

    def read(self) -> Snapshot:
        extranet = self.estate.extranet
        sites = [s.code for s in extranet.sites] if extranet else []
        planes = [p.name for p in extranet.planes] if extranet else []
        devices = [d.name for d in extranet.devices] if extranet else []
        with StateStore.open(self.state) as store:
            results = latest(store, self.estate.estate)
            archived = last_archived(store)
            attention = {item.device for item in open_items(store)}
        return ExtranetSnapshot(tuple(sites), tuple(planes), tuple(results),
                                {d: archived[d] for d in devices if d in archived},
                                len(attention & set(devices)))


@dataclass(frozen=True)
class ExtranetSnapshot:
    sites: tuple[str, ...]
    planes: tuple[str, ...]
    results: tuple[dict[str, Any], ...]
    """:func:`nxgov.network.verify.latest`'s rows."""
    archived: dict[str, str]
    attention: int

    def add_to(self, out: Samples) -> None:
        judged = {row["site"]: row for row in self.results if row["site"] in set(self.sites)}
        for code, row in judged.items():
            site = {"site": code}
            out.gauge("nxgov_extranet_verify_timestamp_seconds", "When the last nxgov net verify judged the site, "
                      "Unix time", _unix(row["checked"]), site)
            for plane in self.planes:
                state = row["planes"].get(plane, "unknown")
                if state != "unknown":
                    out.gauge("nxgov_extranet_plane_up", "The plane at the site as the last nxgov net verify found "
                              "it: 1 up, 0 down (absent when it could not tell); a site is down when every plane "
                              "it has is 0: max by (site) (nxgov_extranet_plane_up) == 0",
                              1.0 if state == "up" else 0.0, {**site, "plane": plane})
        counts = dict.fromkeys((*SITE_STATES, UNVERIFIED), 0)
        for code in self.sites:
            counts[judged[code]["state"] if code in judged else UNVERIFIED] += 1
        for state, count in counts.items():
            out.gauge("nxgov_extranet_sites", "The estate's sites by state of the last nxgov net verify "
                      f"({UNVERIFIED}: never verified)", count, {"state": state})
        for device, taken in sorted(self.archived.items()):
            out.gauge("nxgov_extranet_config_archived_timestamp_seconds", "When the device's newest archived "
                      "configuration was taken by nxgov net backup, Unix time (an unchanged configuration adds no "
                      "version: this is its last change seen)", _unix(taken), {"device": device})
        out.gauge("nxgov_extranet_devices_needing_attention", "Devices with an open attention record (a push or "
                  "rollback that could not finish; see nxgov net push)", self.attention)


def _unix(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()
