"""openstack.cloud 2.5 reads ``openstack.version.__version__`` after a bare ``import openstack``, which
openstacksdk 4.x no longer imports itself: bench/cloud.py puts this directory on the modules' PYTHONPATH."""

import openstack.version  # noqa: F401
