"""A library's transform class as a genlab stage: declared parameters, per-sample seeding, records.

:class:`Library` is what genlab needs from a transform library (its transform classes, how to
declare, build, read back, and run one on a batch's images with given per-sample seeds);
:class:`ForeignStageInfo` is the registry entry of one of its classes, so that specs, pipelines
and the lab handle ``"albumentations.HorizontalFlip"`` like ``"augment"``.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import registry
from ..batch import Batch
from ..params import Param, validate_params
from ..registry import StageInfo
from ..seeding import sample_seeds
from ..stages.protocol import two_yield_stage
from ..transforms.op import stream_name
from .declare import plain

__all__ = ["ForeignStageInfo", "Library"]


class Library:
    """The parts of a transform library genlab uses; one subclass per library.

    Subclasses import the library inside their methods, never at module import.
    """

    prefix: str = ""  # the stage name prefix: "albumentations"
    extra: str = ""  # the pip extra that installs it
    #: ``run`` yields ``C x H x W`` images; the batch is then an ``N x H x W x C`` view of
    #: ``N x C x H x W`` memory, so the library's next transform gets contiguous tensors.
    channels_first: bool = False

    def import_library(self) -> Any:
        """Import the library and return the namespace its transform classes are looked up in.

        Called through :func:`checked_import`, which turns an ImportError into one naming the
        pip extra to install.
        """
        raise NotImplementedError

    def needs_targets(self, cls: type) -> str | None:
        """What ``cls`` needs besides the image (``"needs masks, bounding boxes or keypoints"``),
        or None; such a transform refuses batches without targets, naming itself."""
        return None

    def transform_bases(self) -> tuple[type, ...]:
        """The library's transform base classes (imports the library)."""
        raise NotImplementedError

    @functools.cache  # noqa: B019  (one object per library, for the life of the process)
    def transform_classes(self) -> dict[str, type]:
        """The library's public transform classes by name: the only classes a spec may name.

        Found among the classes of the library's namespace that subclass its transform base
        classes; nothing is ever imported by a name given in a spec.
        """
        namespace = checked_import(self)
        bases = self.transform_bases()
        return {
            name: value
            for name, value in vars(namespace).items()
            if isinstance(value, type) and not name.startswith("_") and issubclass(value, bases)
        }

    def refusal(self, cls: type) -> str | None:
        """Why genlab cannot run ``cls`` on image batches, or None."""
        raise NotImplementedError

    def declare_class(self, cls: type) -> tuple[dict[str, Param], frozenset[str]]:
        """The declared parameters of ``cls`` and the names of the required ones."""
        raise NotImplementedError

    def build(self, cls: type, params: dict[str, Any]) -> Any:
        """An instance of ``cls`` built from checked parameters, in the library's own argument types.

        A composition's ``transforms`` come as ``[{"name": ..., "params": {...}}, ...]`` and are
        built too. Bad values raise ValueError or TypeError, which the stage prefixes with its name.
        """
        raise NotImplementedError

    def init_signature(self, cls: type) -> inspect.Signature:
        """The signature the arguments of ``cls`` are read from (by default ``inspect.signature(cls)``)."""
        return inspect.signature(cls)

    def init_parameters(self, cls: type) -> list[inspect.Parameter]:
        """The named arguments of ``cls`` (no ``*args``, ``**kwargs``, ``strict``)."""
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return [
            p
            for p in self.init_signature(cls).parameters.values()
            if p.name not in ("self", "strict") and p.kind in kinds
        ]

    def probe(
        self, cls: type, probe_args: dict[str, Any], given: dict[str, Any] | None = None
    ) -> Any:
        """An instance built with ``probe_args`` for required arguments and ``given``, or None.

        Only used to read the normalised values of a class when declaring it.
        """
        args = {
            p.name: probe_args[p.name]
            for p in self.init_parameters(cls)
            if p.default is inspect.Parameter.empty and p.name in probe_args
        }
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return cls(**{**args, **(given or {})})
        except Exception:
            return None

    def read_back(self, transform: Any) -> dict[str, Any]:
        """The parameters ``transform`` holds, as plain data (before declaration checks)."""
        held = {}
        for p in self.init_parameters(type(transform)):
            if p.name == "transforms":
                held["transforms"] = tuple(
                    {"name": self.stage_name(t), "params": self.child_params(t)}
                    for t in transform.transforms
                )
            elif hasattr(transform, p.name):
                held[p.name] = plain(getattr(transform, p.name))
        return held

    def build_children(self, children: Any) -> list:
        """The transforms of a composition, from ``[{"name": ..., "params": {...}}, ...]``."""
        built = []
        for child in children or ():
            name = child.get("name") if isinstance(child, dict) else None
            if not (isinstance(name, str) and name.startswith(self.prefix + ".")):
                raise ValueError(
                    f"a {self.prefix} composition can only hold {self.prefix} transforms "
                    f"given as {{'name': ..., 'params': ...}}, got {child!r}"
                )
            info = registry.get(name)
            built.append(info.build(info.validate(dict(child.get("params", {})))))
        return built

    def run(
        self, transform: Any, images: np.ndarray, seeds: np.ndarray, targets=None, fmt=None
    ) -> Iterator[tuple[np.ndarray, dict, Any]]:
        """Yield ``(image, record, targets)`` per image, each drawing only from its own seed
        (``uint64``); ``targets`` (one :class:`~genlab.targets.Targets` or None per image, or
        None) move with the image, as ``fmt`` (a :class:`~genlab.targets.TargetFormat`) says."""
        raise NotImplementedError

    def stage_name(self, transform: Any) -> str:
        """The genlab stage name of ``transform``: the prefix and its class name (``"albumentations.Rotate"``)."""
        return f"{self.prefix}.{type(transform).__name__}"

    def child_params(self, transform: Any) -> dict[str, Any]:
        """The checked parameters of a transform (used for the children of a composition)."""
        return registry.get(self.stage_name(transform)).params_of(transform)


def _missing(library: Library) -> ImportError:
    return ImportError(
        f"genlab's {library.prefix} stages need {library.prefix}: "
        f"pip install genlab[{library.extra}]"
    )


@dataclass(frozen=True)
class ForeignStageInfo(StageInfo):
    """The registry entry of a library's transform class (``"albumentations.Rotate"``).

    Validating parameters builds the transform once, so the library checks the values too, and
    returns the values the transform keeps (``limit=30`` comes back as ``(-30.0, 30.0)``).
    """

    library: Library | None = field(default=None, compare=False, repr=False)
    cls: type | None = None
    required: frozenset = frozenset()

    def validate(self, given: dict[str, Any]) -> dict[str, Any]:
        """Complete and check ``given``, then return the values the built transform keeps.

        A required parameter left out (or None) is a ValueError naming it. The checked values
        build the transform once, so the library checks them too; what it normalised comes back
        (``limit=30`` as ``(-30.0, 30.0)``), or the checked value where a kept one does not fit
        the declaration.
        """
        missing = [
            name for name in self.params if name in self.required and given.get(name) is None
        ]
        if missing:
            raise ValueError(f"{self.name}: parameter {missing[0]!r} is required")
        values = validate_params(self.name, self.params, given)
        kept = self.params_of(self.build(values), values)
        if kept == values:
            return kept
        # a normalisation the library's own output does not survive (ShiftScaleRotate adds 1 to
        # scale_limit each time) would drift a little on every reload of a spec: keep the given
        # value wherever building from the kept one does not keep it again
        again = self.params_of(self.build(kept), kept)
        return {
            name: value if again[name] == value else values[name] for name, value in kept.items()
        }

    def default_params(self) -> dict[str, Any]:
        """The declared default of every parameter (None for a required one), without building a transform.

        Some classes cannot be built from their defaults alone (``albumentations.CropAndPad``
        wants ``px`` or ``percent``), so unlike :meth:`validate` this builds nothing. The
        declared defaults were read from an instance built with defaults where there was one,
        so they are in the library's normalised form.
        """
        return {name: p.default for name, p in self.params.items()}

    def build(self, values: dict[str, Any]) -> Any:
        """The library's transform built with ``values``; ValueError names the stage."""
        try:
            return self.library.build(self.cls, values)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{self.name}: {type(e).__name__}: {e}") from e

    def params_of(self, transform: Any, fallback: dict[str, Any] | None = None) -> dict[str, Any]:
        """The declared parameters that ``transform`` holds (normalised by the library)."""
        held = self.library.read_back(transform)
        out = {}
        for name, decl in self.params.items():
            value = held.get(name, (fallback or {}).get(name, decl.default))
            try:
                out[name] = decl.validate(value, stage=self.name, name=name)
            except ValueError:
                out[name] = (fallback or {}).get(name, decl.default)
        return out

    def apply(self, transform: Any, batch: Batch, stream: str | None = None) -> Batch:
        """Run ``transform`` on every image of ``batch``, each from its own per-sample seed.

        ``stream`` is set by :class:`~genlab.pipeline.Pipeline` from the stage's place, as for
        genlab's own ops (:func:`genlab.transforms.stream_name`); without it (the classic
        ``GeneratorPipeline`` form) the occurrence is counted in the batch's records, so two
        ``Rotate`` stages draw differently either way.
        """
        x = batch.x
        if not isinstance(x, np.ndarray) or x.ndim != 4:
            got = f"array of shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
            raise TypeError(
                f"{self.name} works on N x H x W x C image arrays (put it after read_images), got {got}"
            )
        n = len(x)
        if n == 0:
            return batch
        if stream is None:
            prior = batch.info.with_applied([()] * n)[0]  # the first sample's records so far
            occurrence = sum(1 for r in prior if r.get("op") == self.name)
            stream = stream_name(self.name, occurrence)
        seeds = sample_seeds(batch.info, stream, n)
        targets = batch.info.targets
        needs = self.library.needs_targets(type(transform))
        if needs and (targets is None or all(t is None for t in targets)):
            raise ValueError(
                f"{self.name} {needs}; this batch has none (read a dataset with annotations)"
            )
        out = None
        records, moved = [], []
        fmt = batch.info.target_format
        for i, (img, record, t) in enumerate(self.library.run(transform, x, seeds, targets, fmt)):
            if out is None:
                out = np.empty((n, *img.shape), img.dtype)
            elif img.shape != out.shape[1:]:
                first, this = (
                    _hwc(s, self.library.channels_first) for s in (out.shape[1:], img.shape)
                )
                raise ValueError(
                    f"{self.name} gave images of different sizes ({first} and {this}): "
                    f"its output size varies from image to image; follow it with a fixed-size "
                    f"transform (albumentations.Resize, torchvision.Resize with two sizes, a crop)"
                )
            out[i] = img
            records.append({"op": self.name, **record})
            moved.append(t)
        if self.library.channels_first:  # N x H x W x C over C x H x W memory: no interleaving copy
            out = out.transpose(0, 2, 3, 1)
        applied = batch.info.with_applied([(r,) for r in records])
        if targets is None:
            return batch.replace(x=out, applied=applied)
        return batch.replace(x=out, applied=applied, targets=tuple(moved))


def _hwc(shape: tuple, channels_first: bool) -> tuple:
    return (*shape[1:], shape[0]) if channels_first else shape


def make_info(name: str, library: Library, cls: type) -> ForeignStageInfo:
    """The registry entry of ``cls`` (already checked to be one of the library's classes)."""
    params, required = library.declare_class(cls)
    summary = next(iter((cls.__doc__ or "").strip().splitlines()), "")
    holder: list[ForeignStageInfo] = []

    def factory(*, stream: str | None = None, **given: Any):
        info = holder[0]
        transform = info.build(info.validate(given))
        return two_yield_stage(lambda batch: info.apply(transform, batch, stream), name)

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = cls.__doc__
    info = ForeignStageInfo(
        name=name, factory=factory, params=params, help=f"{library.prefix}: {summary}",
        kind=library.prefix, streamed=True, library=library, cls=cls, required=required,
    )  # fmt: skip
    holder.append(info)
    return info


@functools.cache
def checked_import(library: Library) -> Any:
    try:
        return library.import_library()
    except ImportError as e:
        raise _missing(library) from e
