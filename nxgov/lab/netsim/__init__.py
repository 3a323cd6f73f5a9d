"""Simulated Huawei VRP and H3C Comware routers over SSH on loopback, many in one process.

netmiko's ``huawei`` and ``hp_comware`` drivers work against them unmodified. Start a simulator
with :meth:`NetsimProcess.start` (or ``python -m nxgov.lab.netsim``), describe its devices with
:class:`DeviceSpec` / :func:`write_spec`, and read what a device holds with :func:`read_config`.
"""

from nxgov.lab.netsim.process import NetsimProcess
from nxgov.lab.netsim.spec import DeviceSpec, SimSpec, free_loopback_ports, load_spec, write_spec
from nxgov.lab.netsim.store import read_config

__all__ = ["DeviceSpec", "NetsimProcess", "SimSpec", "free_loopback_ports", "load_spec", "read_config", "write_spec"]
