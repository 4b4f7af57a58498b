"""Transforms you already train with (albumentations, torchvision v2) as genlab stages.

Bring a pipeline in with :func:`from_albumentations` / :func:`from_torchvision` (one stage per
transform, parameters declared from the library's own declarations), tune it in the lab next to
genlab's stages, and take it back with :func:`to_albumentations` / :func:`to_torchvision`.

A stage is named ``"<library>.<Class>"``; :func:`resolve` accepts only the library's public
transform classes (looked up among the classes of its namespace, never imported by path), so a
spec naming anything else is refused before anything runs. The libraries are imported only
when a foreign stage is used; a missing one is an ImportError naming the extra to install.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import registry
from ..registry import StageConfig
from .albumentations_adapter import AlbumentationsLibrary
from .stage import ForeignStageInfo, Library, checked_import, make_info
from .targets import albumentations_params
from .torchvision_adapter import TorchvisionLibrary

__all__ = [
    "resolve",
    "from_albumentations",
    "from_torchvision",
    "to_albumentations",
    "to_torchvision",
    "torchvision_snippet",
    "export_files",
    "ForeignStageInfo",
]

LIBRARIES: dict[str, Library] = {
    "albumentations": AlbumentationsLibrary(),
    "torchvision": TorchvisionLibrary(),
}


def resolve(name: str) -> ForeignStageInfo:
    """The stage of a library's transform class, ``"albumentations.HorizontalFlip"``.

    ValueError for anything that is not one of the library's public transform classes
    (``"albumentations.os"``, ``"torchvision.__import__"``, a dotted path), or a class genlab
    cannot run on image batches (one needing masks, boxes or keypoints), naming it. The entry
    is made once and kept in the registry (this module adds :func:`_make_info` as its resolver).
    """
    if not isinstance(name, str) or "." not in name:
        raise ValueError(f"{name!r} is not a library transform name like 'albumentations.Rotate'")
    return registry.get(name)


def _make_info(name: str) -> ForeignStageInfo:
    """The registry resolver: the entry of ``name``, checked to be a library's transform class."""
    prefix, _, class_name = str(name).partition(".")
    library = LIBRARIES.get(prefix)
    if library is None:
        raise ValueError(
            f"unknown stage {name!r}; registered stages: {registry.names()}, or a transform class of "
            f"{sorted(LIBRARIES)} named like 'albumentations.HorizontalFlip'"
        )
    cls = library.transform_classes().get(class_name)
    if cls is None:
        raise ValueError(
            f"{name!r} is not a public transform class of {prefix}; a spec may only name "
            f"{prefix}'s transform classes, like {prefix}.{_example(library)}"
        )
    reason = library.refusal(cls)
    if reason is not None:
        raise ValueError(f"{name}: {reason}")
    return make_info(name, library, cls)


registry.add_resolver(_make_info)


def _example(library: Library) -> str:
    return "HorizontalFlip" if library.prefix == "albumentations" else "RandomHorizontalFlip"


def _stage_configs(library: Library, transforms: Iterable[Any]) -> list:
    configs = []
    for t in transforms:
        name = library.stage_name(t)
        info = resolve(name)
        configs.append(StageConfig(name, info.params_of(t)))
    return configs


def _flatten(transform: Any, flat: tuple[type, ...], p_one: tuple[type, ...] = ()) -> list:
    if isinstance(transform, flat) or (isinstance(transform, p_one) and transform.p >= 1):
        return [leaf for t in transform.transforms for leaf in _flatten(t, flat, p_one)]
    return [transform]


def from_albumentations(transform: Any) -> list:
    """One genlab stage per transform of an ``A.Compose`` (or of one transform).

    Nested ``Compose`` and ``Sequential(p=1)`` are flattened; ``OneOf``, ``SomeOf``,
    ``Sequential(p<1)`` and the like become one stage holding their transforms. Returns
    :class:`~genlab.StageConfig` s to put in a :class:`~genlab.Pipeline` after ``read_images``.
    """
    library = LIBRARIES["albumentations"]
    A = checked_import(library)
    return _stage_configs(library, _flatten(transform, (A.Compose,), (A.Sequential,)))


def from_torchvision(transform: Any) -> list:
    """One genlab stage per transform of a ``v2.Compose`` (or of one transform).

    ``RandomApply``, ``RandomChoice`` and ``RandomOrder`` become one stage holding their
    transforms. Images reach the transforms as ``uint8`` ``C x H x W`` tensors.
    """
    library = LIBRARIES["torchvision"]
    v2 = checked_import(library)
    return _stage_configs(library, _flatten(transform, (v2.Compose,)))


def _foreign_stages(pipeline: Any, library: Library, caller: str) -> list:
    """The built transforms of ``library`` among the enabled stages, in order."""
    stages = pipeline.stages if hasattr(pipeline, "stages") else list(pipeline)
    built, left_out = [], []
    for config in stages:
        if not config.enabled:
            continue
        if config.name.startswith(library.prefix + "."):
            built.append(resolve(config.name).build(config.params))
        else:
            left_out.append(config.name)
    if left_out:
        warnings.warn(
            f"{caller}: stages {left_out} are not {library.prefix} transforms and are left out",
            stacklevel=3,
        )
    return built


def to_albumentations(pipeline: Any) -> Any:
    """An ``A.Compose`` of the pipeline's enabled albumentations stages, with their values.

    Other stages are left out with a warning naming them. ``A.save(result, path)`` writes
    albumentations' own JSON or YAML. A pipeline with targets gives the Compose the
    ``bbox_params`` / ``keypoint_params`` of its declared format, class ids in ``labels``.
    """
    A = checked_import(LIBRARIES["albumentations"])
    fmt, targets = getattr(pipeline, "target_format", None), {}
    if fmt is not None:  # boxes and keypoints as the pipeline declares them
        targets = albumentations_params(fmt, ["labels"], declared=True)
    stages = _foreign_stages(pipeline, LIBRARIES["albumentations"], "to_albumentations")
    return A.Compose(stages, **targets)


def to_torchvision(pipeline: Any) -> Any:
    """A ``v2.Compose`` of the pipeline's enabled torchvision stages, with their values.

    Other stages are left out with a warning naming them.
    """
    v2 = checked_import(LIBRARIES["torchvision"])
    return v2.Compose(_foreign_stages(pipeline, LIBRARIES["torchvision"], "to_torchvision"))


def _call_text(name: str, params: dict, defaults: dict, indent: str) -> str:
    args = []
    for key, value in params.items():
        if key != "transforms" and key in defaults and defaults[key] == value:
            continue
        if key == "transforms":
            inner = ",\n".join(
                indent
                + "    "
                + _call_text(
                    c["name"],
                    dict(c["params"]),
                    resolve(c["name"]).default_params(),
                    indent + "    ",
                ).strip()
                for c in value
            )
            args.append(f"transforms=[\n{inner},\n{indent}]")
        elif key == "dtype" and isinstance(value, str):
            args.append(f"dtype=torch.{value}")
        else:
            args.append(f"{key}={value!r}")
    return f"{indent}v2.{name.partition('.')[2]}({', '.join(args)})"


def torchvision_snippet(pipeline: Any) -> str:
    """Python code building the pipeline's torchvision stages as a ``v2.Compose``.

    Arguments equal to the class's defaults are left out; images must reach it as ``uint8``
    ``C x H x W`` tensors, as in genlab.
    """
    stages = pipeline.stages if hasattr(pipeline, "stages") else list(pipeline)
    lines = [
        "import torch",
        "from torchvision.transforms import v2",
        "",
        "transform = v2.Compose([",
    ]
    for config in stages:
        if config.enabled and config.name.startswith("torchvision."):
            info = resolve(config.name)
            lines.append(
                _call_text(config.name, config.params, info.default_params(), "    ") + ","
            )
    lines.append("])")
    return "\n".join(lines) + "\n"


def export_files(pipeline: Any, stem: str | os.PathLike) -> list[Path]:
    """Write the pipeline's foreign stages in their libraries' own forms next to ``stem``.

    ``stem.albumentations.json`` and ``.yaml`` (``A.save``) when it has albumentations stages,
    ``stem.torchvision.py`` when it has torchvision stages. Returns the paths written.
    """
    stem = Path(stem)
    names = [s.name for s in pipeline.stages if s.enabled]
    written = []
    if any(n.startswith("albumentations.") for n in names):
        A = checked_import(LIBRARIES["albumentations"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compose = to_albumentations(pipeline)
        for data_format in ("json", "yaml"):
            path = stem.with_name(f"{stem.name}.albumentations.{data_format}")
            A.save(compose, str(path), data_format=data_format)
            written.append(path)
    if any(n.startswith("torchvision.") for n in names):
        path = stem.with_name(f"{stem.name}.torchvision.py")
        path.write_text(torchvision_snippet(pipeline), encoding="utf-8")
        written.append(path)
    return written
