"""The OpenStack part of the rehearsal lab: real Keystone, Nova, Neutron, Glance, Cinder and Placement
from PyPI, three regions (yinchuan, zhongwei, backup) on 127.0.0.1.

``OpenStackLab`` is the facade the ``nxgov lab`` commands call.
"""

from __future__ import annotations

from nxgov.lab.openstack.install import default_lab_dir, ensure_installed
from nxgov.lab.openstack.lab import OpenStackLab

__all__ = ["OpenStackLab", "default_lab_dir", "ensure_installed"]
