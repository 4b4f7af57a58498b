"""Pipelines as data: a versioned JSON spec, and a standalone Python module.

A spec is a plain dict::

    {"format": "genlab.pipeline", "schema_version": 2, "genlab_version": "0.1.0",
     "seed": 0,
     "source": {"name": "dataset", "params": {"root": "...", "batch_size": 32, ...}},
     "stages": [{"name": "read_images", "enabled": true, "params": {...}}, ...],
     "run": {"num_workers": 0, "worker_kind": "thread", "prefetch": 2, "shard": [0, 1]},
     "manifest": {...}}       # optional: the dataset listing, so a run need not list again

Older specs are upgraded on load by :func:`migrate`, one function per version step, so a
spec saved by genlab 0.1 (schema 1) rebuilds the pipeline it described, with the same batches.

Loading a spec never executes code from it: stages are looked up in the registry by name,
and every parameter is checked against its declaration. Whatever is wrong is a
ValueError naming it.
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import __version__, registry
from .sources.manifest import index_from_manifest, index_to_manifest

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "pipeline_to_spec",
    "pipeline_from_spec",
    "save",
    "load",
    "migrate",
    "to_python",
    "python_expression",
]

FORMAT = "genlab.pipeline"
SCHEMA_VERSION = 2
_TOP_KEYS = {"format", "schema_version", "genlab_version", "seed", "source", "stages", "run", "manifest"}
_RUN_KEYS = {"num_workers", "worker_kind", "prefetch", "shard"}


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
        "source": {"name": "dataset", "params": _jsonable(pipeline.source)},
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
        spec["manifest"] = index_to_manifest(pipeline.index)
    return spec


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"invalid genlab spec: {message}")


def _v1_to_v2(spec: dict) -> dict:
    """Schema 1 -> 2: ``read_images`` gained ``decoder`` (default "turbo"); 0.1 decoded with Pillow."""
    stages = spec.get("stages")
    if not isinstance(stages, list):
        return spec
    upgraded = []
    for item in stages:
        params = item.get("params", {}) if isinstance(item, dict) else None
        if isinstance(params, dict) and item.get("name") == "read_images" and "decoder" not in params:
            item = {**item, "params": {**params, "decoder": "pillow"}}
        upgraded.append(item)
    return {**spec, "stages": upgraded}


_MIGRATIONS = {1: _v1_to_v2}
"""``version -> function`` upgrading a spec of that schema version to the next one."""


def migrate(spec: dict) -> dict:
    """A copy of ``spec`` upgraded step by step to :data:`SCHEMA_VERSION` (unknown versions untouched).

    Examples
    --------
    >>> old = {"format": FORMAT, "schema_version": 1, "stages": [{"name": "read_images"}]}
    >>> new = migrate(old)
    >>> new["schema_version"], new["stages"][0]["params"], old["schema_version"]
    (2, {'decoder': 'pillow'}, 1)
    """
    if not isinstance(spec, dict):
        return spec
    version = spec.get("schema_version")
    while isinstance(version, int) and version in _MIGRATIONS:
        version += 1
        spec = {**_MIGRATIONS[version - 1](spec), "schema_version": version}
    return spec


def pipeline_from_spec(spec: dict, *, index=None):
    """Rebuild a :class:`~genlab.pipeline.Pipeline` from a spec, checking everything in it."""
    from .pipeline import RUN_PARAMS, Pipeline, StageConfig

    _require(isinstance(spec, dict), f"expected a JSON object, got {type(spec).__name__}")
    _require(spec.get("format") == FORMAT, f"'format' must be {FORMAT!r}, got {spec.get('format')!r}")
    spec = migrate(spec)
    version = spec.get("schema_version")
    _require(
        isinstance(version, int) and 1 <= version <= SCHEMA_VERSION,
        f"'schema_version' {version!r} is not supported (this genlab reads 1 to {SCHEMA_VERSION}; "
        f"upgrade genlab to read newer specs)",
    )
    unknown = sorted(set(spec) - _TOP_KEYS)
    _require(not unknown, f"unknown key {unknown[:1]!r}; known keys: {sorted(_TOP_KEYS)}")
    source = spec.get("source")
    _require(isinstance(source, dict), "'source' must be an object")
    _require(source.get("name") == "dataset", f"unknown source {source.get('name')!r}; known: ['dataset']")
    stages = spec.get("stages", [])
    _require(isinstance(stages, list), "'stages' must be a list")
    configs = []
    for i, item in enumerate(stages):
        _require(isinstance(item, dict) and isinstance(item.get("name"), str), f"stage {i} needs a 'name'")
        extra = sorted(set(item) - {"name", "enabled", "params"})
        _require(not extra, f"stage {i} ({item['name']!r}) has unknown key {extra[:1]!r}")
        params = item.get("params", {})
        _require(isinstance(params, dict), f"stage {i} ({item['name']!r}): 'params' must be an object")
        enabled = item.get("enabled", True)
        _require(isinstance(enabled, bool), f"stage {i} ({item['name']!r}): 'enabled' must be true or false")
        configs.append(StageConfig(item["name"], params, enabled))  # registry checks name and params
    run = spec.get("run", {})
    _require(isinstance(run, dict), "'run' must be an object")
    extra = sorted(set(run) - _RUN_KEYS)
    _require(not extra, f"'run' has unknown key {extra[:1]!r}; known keys: {sorted(_RUN_KEYS)}")
    source_params = source.get("params", {})
    _require(isinstance(source_params, dict), "'source.params' must be an object")
    shard = run.get("shard", [0, 1])
    _require(isinstance(shard, list) and len(shard) == 2, f"'run.shard' must be [index, count], got {shard!r}")
    if index is None and spec.get("manifest") is not None:
        index = index_from_manifest(str(source_params.get("root", "")), spec["manifest"])
    return Pipeline(
        source_params, configs, seed=spec.get("seed", 0), index=index,
        num_workers=run.get("num_workers", 0), prefetch=run.get("prefetch", 2),
        shard=tuple(shard), worker_kind=run.get("worker_kind", RUN_PARAMS["worker_kind"].default),
    )  # fmt: skip


def save(pipeline, path: str | os.PathLike, *, manifest: bool = False) -> str:
    """Write a pipeline's spec as indented JSON; returns the path."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(pipeline_to_spec(pipeline, manifest=manifest), f, indent=2)
        f.write("\n")
    return str(path)


def load(path: str | os.PathLike):
    """Read a spec file (JSON) and rebuild the pipeline. Never executes code from the file."""
    with open(path, encoding="utf-8") as f:
        try:
            spec = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{str(path)!r} is not valid JSON: {e}") from e
    return pipeline_from_spec(spec)


def python_expression(pipeline, prefix: str = "") -> str:
    """The Python call that builds ``pipeline`` (its repr, and the body of :func:`to_python`)."""
    from .pipeline import RUN_PARAMS

    s = pipeline.source
    lines = [f"{prefix}Pipeline.from_folder(", f"    {s['root']!r},", f"    batch_size={s['batch_size']},"]
    lines.append(f"    seed={pipeline.seed},")
    if not s["shuffle"]:
        lines.append("    shuffle=False,")
    if s["drop_last"]:
        lines.append("    drop_last=True,")
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


