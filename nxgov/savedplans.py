"""Reading a plan saved with ``--out`` back (``cloud apply PLAN``, ``apply PLAN``): every way the file can be wrong is
bad input naming the file and how to get a good one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from nxgov.errors import InputError

M = TypeVar("M", bound=BaseModel)


def read_saved(path: Path, schema: str, model: type[M], what: str, command: str) -> M:
    """The ``model`` saved at ``path`` by ``command`` (e.g. ``nxgov plan --out``): a JSON document of ``schema``.
    ``what`` names it for people (``an nxgov cloud plan``). The model's ``from_json`` reads it when it has one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the plan {path}: {error}", f"give a file written by `{command}`") from error
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise InputError(f"{path} is not {what} (schema {schema})", f"give a file written by `{command}`")
    reader: Any = getattr(model, "from_json", model.model_validate)
    try:
        found: M = reader(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"the plan {path} is damaged: {field}: {first['msg']}", f"make it again with {command}"
                         ) from None
    return found
