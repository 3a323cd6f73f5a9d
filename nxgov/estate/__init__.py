"""The estate: the declarative source of truth for clouds, departments, systems and the extranet."""

from nxgov.estate.loader import LoadedEstate, load_estate
from nxgov.estate.model import Department, Device, Estate, Plane, Site, System

__all__ = ["Department", "Device", "Estate", "LoadedEstate", "Plane", "Site", "System", "load_estate"]
