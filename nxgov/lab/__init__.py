"""The rehearsal lab: real OpenStack regions, dual-plane routers and legacy hosts on one machine."""
