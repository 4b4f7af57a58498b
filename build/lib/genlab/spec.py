"""Pipelines as data: a versioned JSON spec, and a standalone Python module.

A spec is a plain dict naming the source, the seed, every stage with its parameters and the
run settings (the format: :mod:`genlab.spec_format`). Loading one never executes code from
it: stages are looked up in the registry by name and every parameter is checked against its
declaration; whatever is wrong is a ValueError naming it. Specs saved by earlier genlab
versions are upgraded by :func:`migrate` and give the batches they gave then.
"""

from __future__ import annotations

import json
import os

from .pipeline import Pipeline
from .spec_format import (
    FORMAT,
    MAX_SPEC_DEPTH,
    MIGRATIONS,
    RUN_PARAMS,
    SCHEMA_VERSION,
    check_depth,
    migrate,
    pipeline_arguments,
    pipeline_to_spec,
    python_expression,
    save,
    to_python,
)

__all__ = [
    "FORMAT",
    "MAX_SPEC_DEPTH",
    "MIGRATIONS",
    "RUN_PARAMS",
    "SCHEMA_VERSION",
    "check_depth",
    "migrate",
    "pipeline_to_spec",
    "pipeline_from_spec",
    "pipeline_arguments",
    "save",
    "load",
    "to_python",
    "python_expression",
]


def pipeline_from_spec(spec: dict, *, index=None, trusted: bool = True):
    """Rebuild a :class:`~genlab.pipeline.Pipeline` from a spec, checking everything in it.

    ``trusted=False`` (a spec from someone else) turns on a table source's ``confine_to_root``.
    """
    return Pipeline.from_spec(spec, index=index, trusted=trusted)


def load(path: str | os.PathLike, *, trusted: bool = True):
    """Read a spec file (JSON) and rebuild the pipeline. Never executes code from the file.

    ``trusted=False`` is for a spec from someone else: a table source's rows may then not leave
    its root (``confine_to_root``; see ``genlab.sources.table.index_table``).

    Whatever is wrong in the file is a ValueError that names it: not UTF-8, not JSON, nested
    deeper than ``MAX_SPEC_DEPTH``, or a spec error (the key and what was expected).
    """
    where = repr(str(path))
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{where} is not UTF-8 text (byte {e.start}); a spec is UTF-8 JSON"
        ) from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where} is not valid JSON: {e}") from e
    except RecursionError:
        raise ValueError(f"{where}: JSON nested deeper than {MAX_SPEC_DEPTH} levels") from None
    try:
        return pipeline_from_spec(spec, trusted=trusted)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e
