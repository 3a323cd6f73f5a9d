"""Migration of legacy systems onto the government cloud (issue 10).

:mod:`nxgov.migrate.assessment` holds what an assessment of a system's legacy host found and keeps it in the
state store; :mod:`nxgov.migrate.assess` collects it over SSH. :mod:`nxgov.migrate.lifecycle` is the state machine
each system goes through, :mod:`nxgov.migrate.status` where the campaign stands.
"""
