"""The nxgov command line: a thin Typer layer over the SDK."""
