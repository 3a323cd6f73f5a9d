"""``nxgov estate``: validate, show and generate estates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nxgov.cli.context import settings
from nxgov.cli.output import console, emit_json
from nxgov.errors import InputError

if TYPE_CHECKING:
    from nxgov.estate.loader import LoadedEstate

app = typer.Typer(help="Validate, summarise and generate estates (the declarative source of truth).",
                  no_args_is_help=True)

PathArg = Annotated[Path | None, typer.Argument(help="Estate file or directory (default: --estate)")]


def _load(ctx: typer.Context, path: Path | None) -> LoadedEstate:
    from nxgov.estate import load_estate

    return load_estate(path or settings(ctx).estate)


@app.command()
def validate(ctx: typer.Context, path: PathArg = None) -> None:
    """Check the estate; report every problem with file, line, field and a hint (exit 2 when invalid)."""
    from nxgov.estate.source import display
    from nxgov.estate.summary import summarize

    loaded = _load(ctx, path)
    counts = summarize(loaded.estate).counts
    if settings(ctx).json:
        emit_json({"schema": "nxgov.estate.validate/1", "ok": True, "estate": loaded.estate.estate,
                   "path": str(loaded.path), "files": [display(f) for f in loaded.files], "counts": counts,
                   "problems": []})
        return
    listing = ", ".join(f"{n} {k}" for k, n in counts.items())
    console.print(f"[green]✓[/] estate [bold]{loaded.estate.estate}[/] is valid "
                  f"({len(loaded.files)} file{'s' if len(loaded.files) != 1 else ''}): {listing}")


@app.command()
def show(
    ctx: typer.Context,
    path: PathArg = None,
    sites: Annotated[bool, typer.Option("--sites", help="Also list every site: division code, name, level, parent")
                     ] = False,
    devices: Annotated[bool, typer.Option("--devices", help="Also list every device: name, site, plane, platform, "
                                                            "address")] = False,
) -> None:
    """Summarise the estate: departments, systems by level and placement, sites per level, devices per plane."""
    from nxgov.estate.summary import listings, summarize

    estate = _load(ctx, path).estate
    summary = summarize(estate)
    lists = listings(estate, sites=sites, devices=devices)
    if settings(ctx).json:
        emit_json({"schema": "nxgov.estate.show/1", **summary.as_dict(), **lists})
        return
    from nxgov.cli.estate_tables import render_listing, render_summary

    render_summary(summary)
    for title, rows in lists.items():
        render_listing(title.capitalize(), rows)


@app.command()
def generate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the estate into")],
    scale: Annotated[str, typer.Option(help="full (~3,000 sites, 6,000 devices, 1,000 systems), medium, region")] = (
        "full"),
    name: Annotated[str | None, typer.Option(help="The estate's name (default: ningxia-SCALE)")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite YAML files already in --out")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be written, write nothing")] = False,
) -> None:
    """Generate an estate of the region's shape at a given scale (for benchmarks and scale tests)."""
    from nxgov.estate.generate import SCALES, write
    from nxgov.estate.generate import generate as build

    if scale not in SCALES:
        raise InputError(f"unknown scale {scale!r}", f"use one of: {', '.join(SCALES)}")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is not a directory; nothing was written",
                         "give --out a directory (it is created when missing)")
    files = build(scale, name)
    existing = [out / rel for rel in files if (out / rel).exists()]
    if existing and not force and not dry_run:
        raise InputError(f"{existing[0]} already exists", "pass --force to overwrite, or choose another --out")
    plan = {rel: {k: len(v) for k, v in _lists(doc).items()} for rel, doc in files.items()}
    if not dry_run:
        from nxgov.cli.audit_trail import preflight

        preflight(ctx)
        try:
            write(files, out)
        except OSError as error:
            raise InputError(f"cannot write the estate to --out {out}: {error.strerror or error}",
                             "choose another --out directory") from error
        from nxgov.cli.audit_trail import record

        record(ctx, "estate generate", str(out), "changed", {"scale": scale, "files": sorted(files)})
    if settings(ctx).json:
        emit_json({"schema": "nxgov.estate.generate/1", "dry_run": dry_run, "out": str(out), "files": plan})
        return
    verb = "would write" if dry_run else "wrote"
    for rel, counts in plan.items():
        console.print(f"{verb} {out / rel}" + (f"  ({', '.join(f'{n} {k}' for k, n in counts.items())})"
                                              if counts else ""))


def _lists(document: dict[str, object]) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for key, value in document.items():
        if isinstance(value, list):
            found[key] = value
        elif isinstance(value, dict):
            found.update(_lists(value))
    return found
