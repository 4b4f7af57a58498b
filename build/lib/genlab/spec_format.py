"""The spec's format: a pipeline as a versioned JSON-friendly dict, and as a Python module.

This module knows the format and turns a pipeline into data and data into the arguments of a
:class:`~genlab.pipeline.Pipeline`; it sits below :mod:`genlab.pipeline`, so that a pipeline's
own ``to_spec``, ``save`` and ``repr`` need nothing above it. :mod:`genlab.spec` is the public
module (``load``, ``pipeline_from_spec`` and everything here).

A spec is a plain dict::

    {"format": "genlab.pipeline", "schema_version": 2, "genlab_version": "0.2.0",
     "seed": 0, "augment_seed": 0,
     "source": {"name": "dataset", "params": {"root": "...", "batch_size": 32, ...}},
                 # or {"name": "table", ...} / {"name": "shards", ...}; "retry" only when set
     "stages": [{"name": "read_images", "enabled": true, "params": {...}}, ...],
     "run": {"num_workers": 0, "worker_kind": "thread", "prefetch": 2, "shard": [0, 1]},
     "manifest": {...}}       # optional: the dataset listing, so a run need not list again

Loading a spec never executes code from it: stages are looked up in the registry by name,
and every parameter is checked against its declaration. Whatever is wrong is a
ValueError naming it.

Specs saved by earlier versions are users' saved work: :func:`migrate` upgrades them one
schema version at a time (one function per step), so that a spec saved by genlab 0.1
(schema 1) loads and gives the batches it gave then.
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import registry
from ._version import __version__
from .params import Choice, Int
from .registry import StageConfig
from .sources.kinds import SOURCE_KINDS
from .sources.manifest import index_from_manifest, index_to_manifest

__all__ = [
    "FORMAT",
    "MAX_SPEC_DEPTH",
    "check_depth",
    "SCHEMA_VERSION",
    "RUN_PARAMS",
    "migrate",
    "pipeline_to_spec",
    "pipeline_arguments",
    "save",
    "to_python",
    "python_expression",
]

#: The declared run settings of a pipeline (the spec's ``"run"`` object).
RUN_PARAMS = {
    "num_workers": Int(
        0, low=0, high=256, help="workers making batches (0 = none, all in the loop)"
    ),
    "worker_kind": Choice(
        "thread",
        choices=("thread", "process"),
        help="workers are threads of this process or forked processes (same batches either way)",
    ),
    "prefetch": Int(2, low=1, high=64, help="batches each worker may hold ready"),
    "shard_count": Int(
        1, low=1, high=2**31, help="the epoch's batches are split into this many shards"
    ),
}

FORMAT = "genlab.pipeline"
SCHEMA_VERSION = 2
_TOP_KEYS = {
    "format", "schema_version", "genlab_version", "seed", "augment_seed", "source", "stages",
    "run", "manifest",
}  # fmt: skip
_RUN_KEYS = {"num_workers", "worker_kind", "prefetch", "shard"}
MAX_SPEC_DEPTH = 64
"""Specs nest at most this many JSON levels (the top object is level 1; a nested op group such as
``one_of`` takes 3, so about 19 groups nest); deeper ones are refused with a ValueError."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def pipeline_to_spec(pipeline, *, manifest: bool = False) -> dict:
    """The spec of a pipeline (plain JSON types only); ``manifest`` adds the dataset listing."""
    spec = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "genlab_version": __version__,
        "seed": pipeline.seed,
        "augment_seed": pipeline.augment_seed,
        "source": {
            "name": pipeline.source_kind,
            "params": _jsonable(pipeline._kind.spec_params(pipeline.source)),
        },
        "stages": [
            {"name": s.name, "enabled": s.enabled, "params": _jsonable(s.params)}
            for s in pipeline.stages
        ],
        "run": {
            "num_workers": pipeline.num_workers,
            "worker_kind": pipeline.worker_kind,
            "prefetch": pipeline.prefetch,
            "shard": [pipeline.shard_index, pipeline.shard_count],
        },
    }
    if manifest:
        if pipeline.source_kind != "dataset":
            raise ValueError(
                f"manifest=True records a class-folder listing; a {pipeline.source_kind!r} source "
                f"is listed from its own parameters"
            )
        spec["manifest"] = index_to_manifest(pipeline.index)
    return spec


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"invalid genlab spec: {message}")


def check_depth(value: Any, limit: int = MAX_SPEC_DEPTH) -> None:
    """Raise ValueError naming the first key nested deeper than ``limit`` levels (no recursion).

    >>> check_depth({"a": [[[1]]]}, limit=3)
    Traceback (most recent call last):
    ...
    ValueError: invalid genlab spec: nested deeper than 3 levels at 'a[0][0]'
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, where, depth = stack.pop()
        if not isinstance(item, (dict, list, tuple)):
            continue
        if depth > limit:
            raise ValueError(
                f"invalid genlab spec: nested deeper than {limit} levels at {where[:200]!r}"
            )
        if isinstance(item, dict):
            stack.extend(
                (v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in item.items()
            )
        else:
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(item))


def _v1_to_v2(spec: dict) -> dict:
    """Schema 2 (genlab 0.2): ``read_images`` gained ``decoder`` (default "turbo") where 0.1
    decoded with Pillow, and the pipeline gained ``augment_seed`` (0 keeps 0.1's draws)."""
    upgraded = []
    for item in spec.get("stages", []) if isinstance(spec.get("stages"), list) else []:
        params = item.get("params", {}) if isinstance(item, dict) else None
        if (
            isinstance(params, dict)
            and item.get("name") == "read_images"
            and "decoder" not in params
        ):
            item = {**item, "params": {**params, "decoder": "pillow"}}
        upgraded.append(item)
    stages = {"stages": upgraded} if isinstance(spec.get("stages"), list) else {}
    return {**spec, **stages, "schema_version": 2, "augment_seed": 0}


#: ``MIGRATIONS[v]`` turns a schema ``v`` spec into a schema ``v + 1`` spec.
MIGRATIONS = {1: _v1_to_v2}


def migrate(spec: dict) -> dict:
    """Upgrade a spec saved by an earlier genlab to the current schema, one version at a time.

    The spec given is not modified. A spec from a newer genlab is refused with a ValueError.

    >>> migrate({"format": FORMAT, "schema_version": 1})["augment_seed"]
    0
    """
    _require(isinstance(spec, dict), f"expected a JSON object, got {type(spec).__name__}")
    _require(
        spec.get("format") == FORMAT, f"'format' must be {FORMAT!r}, got {spec.get('format')!r}"
    )
    version = spec.get("schema_version")
    _require(
        isinstance(version, int) and 1 <= version <= SCHEMA_VERSION,
        f"'schema_version' {version!r} is not supported (this genlab reads 1 to {SCHEMA_VERSION}; "
        f"upgrade genlab to read newer specs)",
    )
    while spec["schema_version"] < SCHEMA_VERSION:
        spec = MIGRATIONS[spec["schema_version"]](spec)
    return spec


def pipeline_arguments(spec: dict, *, index=None, trusted: bool = True) -> dict:
    """The arguments of :class:`~genlab.pipeline.Pipeline` that rebuild ``spec``, all checked.

    ``Pipeline(**pipeline_arguments(spec))`` is :func:`genlab.spec.pipeline_from_spec`;
    ``trusted=False`` (a spec from someone else) turns on a table source's ``confine_to_root``.
    """
    check_depth(spec)
    spec = migrate(spec)
    unknown = sorted(set(spec) - _TOP_KEYS)
    _require(not unknown, f"unknown key {unknown[:1]!r}; known keys: {sorted(_TOP_KEYS)}")
    source = spec.get("source")
    _require(isinstance(source, dict), "'source' must be an object")
    _require(
        isinstance(source.get("name"), str) and source["name"] in SOURCE_KINDS,
        f"unknown source {source.get('name')!r}; known source kinds: {sorted(SOURCE_KINDS)}",
    )
    stages = spec.get("stages", [])
    _require(isinstance(stages, list), "'stages' must be a list")
    configs = []
    for i, item in enumerate(stages):
        _require(
            isinstance(item, dict) and isinstance(item.get("name"), str),
            f"stage {i} needs a 'name'",
        )
        extra = sorted(set(item) - {"name", "enabled", "params"})
        _require(not extra, f"stage {i} ({item['name']!r}) has unknown key {extra[:1]!r}")
        params = item.get("params", {})
        _require(
            isinstance(params, dict), f"stage {i} ({item['name']!r}): 'params' must be an object"
        )
        enabled = item.get("enabled", True)
        _require(
            isinstance(enabled, bool),
            f"stage {i} ({item['name']!r}): 'enabled' must be true or false",
        )
        try:  # the registry checks the name and every parameter (nested op lists too)
            configs.append(StageConfig(item["name"], params, enabled))
        except ValueError as e:
            raise ValueError(f"invalid genlab spec: stage {i} ({item['name']!r}): {e}") from None
    run = spec.get("run", {})
    _require(isinstance(run, dict), "'run' must be an object")
    extra = sorted(set(run) - _RUN_KEYS)
    _require(not extra, f"'run' has unknown key {extra[:1]!r}; known keys: {sorted(_RUN_KEYS)}")
    source_params = source.get("params", {})
    _require(isinstance(source_params, dict), "'source.params' must be an object")
    if not trusted and source["name"] == "table":
        source_params = {**source_params, "confine_to_root": True}
    shard = run.get("shard", [0, 1])
    _require(
        isinstance(shard, list) and len(shard) == 2,
        f"'run.shard' must be [index, count], got {shard!r}",
    )
    if index is None and spec.get("manifest") is not None:
        _require(source["name"] == "dataset", "'manifest' is only for a 'dataset' source")
        index = index_from_manifest(str(source_params.get("root", "")), spec["manifest"])
    return dict(
        source=source_params, stages=configs, seed=spec.get("seed", 0), index=index,
        augment_seed=spec.get("augment_seed", 0),
        num_workers=run.get("num_workers", 0), prefetch=run.get("prefetch", 2),
        shard=tuple(shard), source_kind=source["name"],
        worker_kind=run.get("worker_kind", RUN_PARAMS["worker_kind"].default),
    )  # fmt: skip


def _check_saveable(pipeline) -> None:
    reason = pipeline._kind.unsaveable(pipeline.source)
    if reason is not None:
        raise ValueError(reason)


def save(pipeline, path: str | os.PathLike, *, manifest: bool = False) -> str:
    """Write a pipeline's spec as indented JSON; returns the path."""
    _check_saveable(pipeline)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(pipeline_to_spec(pipeline, manifest=manifest), f, indent=2)
        f.write("\n")
    return str(path)


def python_expression(pipeline, prefix: str = "") -> str:
    """The Python call that builds ``pipeline`` (its repr, and the body of :func:`to_python`)."""
    s = pipeline.source
    kind = pipeline._kind
    lines = [
        f"{prefix}Pipeline.{kind.method}(",
        f"    {s[kind.positional]!r},",
        f"    batch_size={s['batch_size']},",
    ]
    lines.append(f"    seed={pipeline.seed},")
    if pipeline.augment_seed:
        lines.append(f"    augment_seed={pipeline.augment_seed},")
    if not s["shuffle"]:
        lines.append("    shuffle=False,")
    if s["drop_last"]:
        lines.append("    drop_last=True,")
    defaults = {name: param.default for name, param in kind.params.items()}
    for name, value in s.items():
        if (
            name not in ("batch_size", "shuffle", "drop_last", kind.positional)
            and value != defaults[name]
        ):
            lines.append(f"    {name}={value!r},")
    if pipeline.num_workers:
        lines.append(f"    num_workers={pipeline.num_workers},")
    if pipeline.worker_kind != RUN_PARAMS["worker_kind"].default:
        lines.append(f"    worker_kind={pipeline.worker_kind!r},")
    if pipeline.prefetch != 2:
        lines.append(f"    prefetch={pipeline.prefetch},")
    lines.append("    stages=[")
    for config in pipeline.stages:
        lines.append(f"        {prefix}{config!r},")
    lines.append("    ],")
    lines.append(")")
    if pipeline.shard_count > 1:
        lines[-1] += f".shard({pipeline.shard_index}, {pipeline.shard_count})"
    return "\n".join(lines)


_MODULE_TEMPLATE = '''"""A genlab pipeline, exported by genlab {version}.

Run it with no Jupyter at all:  python {filename}
or import it:                   from {module} import pipeline
"""

import genlab
{imports}
pipeline = {expression}


if __name__ == "__main__":
    for epoch in range(1):
        for x, y in pipeline:
            pass
        print(f"epoch {{epoch}}:", pipeline.report.summary())
'''


def to_python(pipeline, path: str | os.PathLike | None = None) -> str:
    """A standalone, readable module that rebuilds ``pipeline`` importing only genlab.

    Stages registered by the user's own importable modules are imported by the module;
    a stage registered in ``__main__`` (a notebook cell) cannot be, and is named in an
    error instead of being exported into a module that would fail later.
    """
    _check_saveable(pipeline)
    modules = set()
    for config in pipeline.stages:
        module = registry.get(config.name).factory.__module__
        if module.startswith("genlab."):
            continue
        if module in ("__main__", "builtins"):
            raise ValueError(
                f"stage {config.name!r} is defined in {module} (a notebook or script); move it "
                f"into an importable module so the exported file can register it"
            )
        modules.add(module)
    imports = "".join(f"import {m}  # registers its stages\n" for m in sorted(modules))
    filename = os.path.basename(str(path)) if path else "pipeline.py"
    text = _MODULE_TEMPLATE.format(
        version=__version__,
        filename=filename,
        module=os.path.splitext(filename)[0],
        imports=imports,
        expression=python_expression(pipeline, prefix="genlab."),
    )
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return text
