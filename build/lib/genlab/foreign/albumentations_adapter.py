"""albumentations (the MIT-licensed 2.0 line) as a genlab :class:`~genlab.foreign.stage.Library`.

Parameters are declared from each transform's pydantic ``InitSchema`` (annotations, bounds,
``Literal`` choices) and its ``__init__`` defaults. Each sample's draws come from its own seed
(:func:`genlab.seeding.sample_seeds`), set into the numpy and Python generators the transform was
given with ``set_random_state``; what was drawn is the transform's own record of its applied
parameters (``transform.params``).
"""

from __future__ import annotations

import functools
import inspect
import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..params import Fixed, Float, Param
from ..seeding import Reseeder
from .declare import declare, literal_choices, plain, record_value
from .stage import Library
from .targets import albumentations_call, albumentations_compose

__all__ = ["AlbumentationsLibrary"]

#: Values for required arguments, used only to build a probe instance when declaring a class.
_PROBE_ARGS = {"height": 64, "width": 64, "size": (64, 64), "transforms": []}
_ANNOTATION_WORDS = ("BBox", "Bbox", "Mask", "Keypoint")
_BOUND_ATTRS = (("ge", "low"), ("gt", "low"), ("le", "high"), ("lt", "high"))


def _bounds(metadata: list) -> dict[str, float]:
    """The ``low``/``high`` bounds a schema field declares: pydantic's ``ge``/``gt``/``le``/``lt``,
    or for tuples albumentations' ``AfterValidator(check_range_bounds(min_val, max_val))``, read
    from the validator's closure without calling it. Exclusive bounds are kept as given: a
    value at one is refused by albumentations' own check, which names the parameter."""
    out = {}
    for item in metadata:
        for attr, key in _BOUND_ATTRS:
            if getattr(item, attr, None) is not None:
                out[key] = getattr(item, attr)
        func = getattr(item, "func", None)
        if getattr(func, "__qualname__", "").startswith("check_range_bounds"):
            closure = inspect.getclosurevars(func).nonlocals
            for name, key in (("min_val", "low"), ("max_val", "high")):
                if closure.get(name) is not None:
                    out[key] = closure[name]
    return out


def _is_interval(metadata: list) -> bool:
    """Whether a schema field requires ``low <= high`` (``AfterValidator(nondecreasing)``)."""
    return any(
        getattr(getattr(m, "func", None), "__name__", "") == "nondecreasing" for m in metadata
    )


class AlbumentationsLibrary(Library):
    """albumentations' image transforms and compositions as ``"albumentations.<Class>"`` stages.

    Installed with the ``albumentations`` extra; images stay ``H x W x C`` arrays.
    """

    prefix = "albumentations"
    extra = "albumentations"

    def import_library(self) -> Any:
        """Import and return the ``albumentations`` package, whose namespace holds the transform classes."""
        import albumentations  # albumentations is an optional extra: only when its stages are used

        return albumentations

    def init_signature(self, cls: type) -> inspect.Signature:
        """The signature of ``cls.__init__`` (``self`` is left out by :meth:`init_parameters`)."""
        return inspect.signature(cls.__init__)

    def transform_bases(self) -> tuple[type, ...]:
        """``BasicTransform`` and ``BaseCompose``: single transforms and compositions such as ``OneOf``."""
        from albumentations.core.composition import BaseCompose  # as above
        from albumentations.core.transforms_interface import BasicTransform  # as above

        return (BasicTransform, BaseCompose)

    def refusal(self, cls: type) -> str | None:
        """Why genlab cannot run ``cls`` on image batches, or None.

        Refused: the base classes, ``Compose`` and its subclasses (whole pipelines), ``Lambda``
        (Python functions) and 3D (volume) transforms. Transforms that need masks, boxes or
        keypoints are accepted and run on batches with targets (:meth:`needs_targets`).
        """
        from albumentations.core.composition import BaseCompose, Compose  # as above
        from albumentations.core.transforms_interface import (
            BasicTransform,
            DualTransform,
            ImageOnlyTransform,
        )

        name = cls.__name__
        if cls in (BasicTransform, DualTransform, ImageOnlyTransform, BaseCompose):
            return "is a base class, not a transform"
        if issubclass(cls, Compose):
            return "is a whole pipeline: genlab.from_albumentations(compose) gives one stage per transform"
        if name == "Lambda":
            return "holds Python functions, which a spec cannot store"
        if "3D" in name:
            return "needs volumes; genlab batches carry images"
        return None

    @functools.cache  # noqa: B019  (one library object, a few classes)
    def needs_targets(self, cls: type) -> str | None:
        """What ``cls`` needs besides the image (masks, boxes, keypoints), or None: it runs on
        batches with targets only (classes named for them, or with ``targets_as_params``)."""
        if any(word in cls.__name__ for word in _ANNOTATION_WORDS):
            return "needs masks, bounding boxes or keypoints"
        probe = self.probe(cls, _PROBE_ARGS)
        needs = [t for t in getattr(probe, "targets_as_params", []) if t != "image"]
        return f"needs {needs} besides the image" if needs else None

    def declare_class(self, cls: type) -> tuple[dict[str, Param], frozenset[str]]:
        """The declared parameters of ``cls`` and the names of the required ones.

        Each ``__init__`` argument is declared from its ``InitSchema`` field (annotation,
        bounds, ``Literal`` choices, whether a pair must be nondecreasing), with the value a
        probe instance keeps (else the ``__init__`` default) as its default. ``p`` is a
        probability in ``[0, 1]``; a composition's ``transforms`` is a fixed list; arguments the
        schema no longer declares (deprecated) are left out.
        """
        schema = getattr(cls, "InitSchema", None)
        fields = schema.model_fields if schema is not None else {}
        probe = self.probe(cls, _PROBE_ARGS)
        params: dict[str, Param] = {}
        required = set()
        for p in self.init_parameters(cls):
            field = fields.get(p.name)
            if fields and field is None:
                continue  # a deprecated argument the schema no longer declares
            is_required = p.default is inspect.Parameter.empty
            if is_required:
                required.add(p.name)
            if p.name == "transforms":
                params[p.name] = Fixed(None, optional=True, help="the transforms it chooses from")
                continue
            annotation = field.annotation if field is not None else p.annotation
            if probe is not None and hasattr(probe, p.name) and self.keeps(cls, p.name, probe):
                value = plain(getattr(probe, p.name))
            else:
                value = None if is_required else plain(p.default)
            bounds = _bounds(field.metadata) if field is not None else {}
            if p.name == "p":
                params[p.name] = Float(value, low=0.0, high=1.0, help="probability of applying it")
                continue
            params[p.name] = declare(
                value,
                annotation,
                required=is_required,
                choices=literal_choices(annotation),
                interval=field is not None and _is_interval(field.metadata),
                help=_annotation_text(annotation),
                **bounds,
            )
        return params, frozenset(required)

    def keeps(self, cls: type, name: str, probe: Any) -> bool:
        """Whether the value ``probe`` keeps for ``name`` is kept again when given back.

        Most normalisations are (``limit=30`` is kept as ``(-30, 30)``, which gives ``(-30, 30)``
        again), but ``ShiftScaleRotate`` adds 1 to ``scale_limit`` every time: there the
        ``__init__`` default is the declared default, not the value kept.
        """
        kept = plain(getattr(probe, name))
        again = self.probe(cls, _PROBE_ARGS, {name: kept})
        if again is None:
            return False
        return plain(getattr(again, name, None)) == kept

    def build(self, cls: type, params: dict[str, Any]) -> Any:
        """``cls(**params)``, a composition's children built first; any error becomes a one-line ValueError."""
        kwargs = dict(params)
        if "transforms" in kwargs:
            kwargs["transforms"] = self.build_children(kwargs["transforms"])
        try:
            return cls(**kwargs)
        except Exception as e:  # pydantic's ValidationError names the field
            raise ValueError(str(e).replace("\n", " ")) from e

    def run(
        self, transform: Any, images: np.ndarray, seeds: np.ndarray, targets=None, fmt=None
    ) -> Iterator[tuple[np.ndarray, dict, Any]]:
        """Yield ``(image, record, targets)`` per image, each drawing only from its own seed.

        The transform is given one numpy and one Python generator (``set_random_state``), both
        reseeded from each image's seed before it runs. A single transform's record says whether
        it applied and the parameters it drew; a composition's lists the transforms that applied,
        each with its drawn parameters. ``targets`` (one per image, or None) go through it with
        the image (:mod:`genlab.foreign.targets`), with the same draws.
        """
        children = list(_leaves(transform))
        single = getattr(transform, "transforms", None) is None
        numpy_random, python_random = Reseeder(), random.Random()
        compose = None if targets is None else albumentations_compose(transform, fmt)
        transform.set_random_state(numpy_random.generator, python_random)
        for i, (img, seed) in enumerate(zip(images, seeds.tolist())):
            numpy_random.seed(seed)
            python_random.seed(seed)
            for child in children:
                child.params = {}
            moved = None if targets is None else targets[i]
            if moved is None:
                out = transform(image=img)["image"]
            else:
                out, moved = albumentations_call(compose, transform, img, moved, fmt)
            if single:
                record = {"applied": bool(transform.params), "params": _record(transform.params)}
            else:
                record = {
                    "applied": [
                        {"transform": type(c).__name__, "params": _record(c.params)}
                        for c in children
                        if c.params
                    ]
                }
            yield out, record, moved


def _record(params: dict) -> dict:
    return {k: record_value(v) for k, v in params.items() if k != "shape"}


def _leaves(transform: Any) -> Iterator[Any]:
    inner = getattr(transform, "transforms", None)
    if inner is None:
        yield transform
        return
    for t in inner:
        yield from _leaves(t)


def _annotation_text(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or repr(annotation)
    return text.replace("typing.", "")
