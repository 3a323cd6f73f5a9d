"""nxgov: operate Ningxia's e-government cloud nodes, backup cloud and dual-plane extranet."""

__version__ = "0.1.0"
