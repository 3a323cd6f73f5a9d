"""Small estates as YAML text, for tests that write an estate file and run the CLI on it."""

from __future__ import annotations

from pathlib import Path

_TINY = """\
estate: test
clouds:
  yinchuan: {cloud: nx-yinchuan, role: primary}
  zhongwei: {cloud: nx-zhongwei, role: primary}
  backup: {cloud: nx-backup, role: backup}
cloud_ipv6: 2001:db8:6500::/40
credentials:
  extranet: {file: CREDENTIALS}
departments:
  - code: nxdrc
    name: 发展改革委
    quotas: {cores: 8, ram_gb: 16, instances: 4}
    networks:
      - {name: app, ipv4: 10.64.1.0/24, ipv6: 2001:db8:6500:1::/64}
  - code: nxedu
    name: 教育厅
    quotas: {cores: 8, ram_gb: 16, instances: 4}
    networks:
      - {name: app, ipv4: 10.64.2.0/24}
systems:
  - code: nxdrc-oa
    department: nxdrc
    level: 3
    placement: {mode: active-standby, primary: yinchuan, standby: zhongwei}
    servers: [{name: web, flavor: m1.small, image: cirros}]
    backup: {rpo: 4h, retain: 14d}
extranet:
  prefix: 2001:db8:6400::/40
  planes: [{name: A, asn: 65101}, {name: B, asn: 65102}]
  sites:
    - {code: '640000', name: 宁夏回族自治区, level: region}
    - {code: '640100', name: 银川市, level: city, parent: '640000'}
    - {code: '640104', name: 兴庆区, level: county, parent: '640100'}
  devices:
"""


def tiny_estate(credentials: str | Path, devices: str) -> str:
    """A small valid estate: three clouds, two departments, one system, three extranet sites (region 640000, city
    640100, county 640104) whose credentials ``extranet`` are the file ``credentials``; ``devices`` is the
    extranet's device list, each item a ``    - {...}`` line."""
    return _TINY.replace("CREDENTIALS", str(credentials)) + devices


def one_site_estate(name: str, credentials: Path, *devices: str) -> str:
    """Estate ``name``: one cloud, one extranet site ('640000') and ``devices`` (see ``comware``), whose credentials
    ``extranet`` are the file ``credentials``."""
    return f"""estate: {name}
clouds: {{yinchuan: {{cloud: x, role: primary}}}}
credentials: {{extranet: {{file: {credentials}}}}}
extranet:
  prefix: 2001:db8:6400::/40
  planes: [{{name: A, asn: 65101}}, {{name: B, asn: 65102}}]
  sites: [{{code: '640000', name: 宁夏, level: region}}]
  devices:
""" + "".join(devices)


def comware(name: str, port: int, plane: str | None = None) -> str:
    """A device item for ``one_site_estate``: an H3C Comware router ``name`` at 127.0.0.1:``port``."""
    on_plane = f" plane: {plane}," if plane else ""
    return (f"    - {{name: {name}, site: '640000',{on_plane} platform: h3c_comware, host: 127.0.0.1, port: {port}, "
            "credentials: extranet}\n")
