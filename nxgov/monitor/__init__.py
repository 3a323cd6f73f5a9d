"""Monitoring: the Prometheus exporter (``nxgov monitor serve``) and its one-scrape check (``nxgov monitor check``).

A metric family is one module (``cloud``, ``migration``, ``extranet``, ``auditlog``) registered in one place,
:data:`nxgov.monitor.families.FAMILIES`. Each module turns the estate's configuration into *sources*: things read
in the background every ``--refresh`` seconds (one per cloud node, one for the state store's migration data, ...),
each read giving a *snapshot*. A scrape never reads anything: the collector (:mod:`nxgov.monitor.collector`)
builds fresh metric families from the snapshots cached by the refreshers (:mod:`nxgov.monitor.refresh`).
"""
