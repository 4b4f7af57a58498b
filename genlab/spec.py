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
    MIGRATIONS,
    RUN_PARAMS,
    SCHEMA_VERSION,
    migrate,
    pipeline_arguments,
    pipeline_to_spec,
    python_expression,
    save,
    to_python,
)

__all__ = [
    "FORMAT",
    "MIGRATIONS",
    "RUN_PARAMS",
    "SCHEMA_VERSION",
    "migrate",
    "pipeline_to_spec",
    "pipeline_from_spec",
    "pipeline_arguments",
    "save",
    "load",
    "to_python",
    "python_expression",
]


def pipeline_from_spec(spec: dict, *, index=None):
    """Rebuild a :class:`~genlab.pipeline.Pipeline` from a spec, checking everything in it."""
    return Pipeline.from_spec(spec, index=index)


def load(path: str | os.PathLike):
    """Read a spec file (JSON) and rebuild the pipeline. Never executes code from the file."""
    with open(path, encoding="utf-8") as f:
        try:
            spec = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{str(path)!r} is not valid JSON: {e}") from e
    return pipeline_from_spec(spec)
