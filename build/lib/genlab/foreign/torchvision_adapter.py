"""torchvision's ``transforms.v2`` as a genlab :class:`~genlab.foreign.stage.Library`.

Parameters are declared from each transform's ``__init__`` signature and defaults (with the
value a probe instance keeps, which torchvision normalises: ``degrees=15`` is kept as
``[-15.0, 15.0]``). Images go in as ``C x H x W`` tensors viewing genlab's ``H x W x C`` arrays,
and come out into a batch whose memory is ``N x C x H x W`` (seen as ``N x H x W x C``), so a
chain of torchvision stages hands each transform contiguous tensors, as the library's own loop.
Each sample's draws come from torch's global generator seeded from genlab's per-sample generator
inside ``torch.random.fork_rng``, so the caller's torch random state is left as it was.
torchvision does not expose what it drew: records say ``"not recorded"``.
"""

from __future__ import annotations

import enum
import inspect
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..params import Choice, Fixed, Float, Param
from .declare import declare, plain
from .stage import Library, checked_import
from .targets import torchvision_call

__all__ = ["TorchvisionLibrary", "DTYPES"]

DTYPES = ("float32", "float64", "float16", "bfloat16", "uint8")
_PROBE_ARGS = {
    "size": (64, 64),
    "degrees": 10.0,
    "mean": (0.5, 0.5, 0.5),
    "std": (0.5, 0.5, 0.5),
    "kernel_size": (3, 3),
    "transforms": [],
    "padding": 2,
    "sharpness_factor": 2.0,
    "bits": 4,
    "threshold": 128.0,
    "distortion_scale": 0.5,
}


def _probe_args() -> dict[str, Any]:
    import torch  # torch is an optional extra: only when a torchvision stage runs

    return {**_PROBE_ARGS, "dtype": torch.float32}


_REFUSED = {
    "Transform": "is a base class, not a transform",
    "Compose": "is a whole pipeline: genlab.from_torchvision(compose) gives one stage per transform",
    "Lambda": "holds a Python function, which a spec cannot store",
    "LinearTransformation": "holds tensors, which a spec cannot store",
    "CutMix": "mixes samples and labels of a batch; genlab stages transform images one by one",
    "MixUp": "mixes samples and labels of a batch; genlab stages transform images one by one",
    "FiveCrop": "gives several images per image; genlab stages give one",
    "TenCrop": "gives several images per image; genlab stages give one",
    "ToPILImage": "gives PIL images; genlab batches are arrays",
    "PILToTensor": "takes PIL images; genlab batches are arrays (tensors already)",
    "ToTensor": "takes PIL images or arrays; genlab hands tensors already (use ToDtype(scale=True))",
    "UniformTemporalSubsample": "works on videos; genlab batches carry images",
}
_NEEDS_ANNOTATIONS = ("BoundingBox", "KeyPoint", "Clamping", "RandomIoUCrop")


class TorchvisionLibrary(Library):
    """torchvision's ``transforms.v2`` image transforms as ``"torchvision.<Class>"`` stages.

    Installed with the ``torchvision`` extra; it runs channels first (see :attr:`channels_first`).
    """

    prefix = "torchvision"
    extra = "torchvision"
    channels_first = True

    def import_library(self) -> Any:
        """Import and return ``torchvision.transforms.v2``.

        Also registers a fork hook so that forked workers run torch ops on one thread.
        """
        from torchvision.transforms import v2  # torchvision is an optional extra

        os.register_at_fork(after_in_child=_one_thread_after_fork)
        return v2

    def transform_bases(self) -> tuple[type, ...]:
        """``v2.Transform``, the base class of every v2 transform and composition."""
        return (checked_import(self).Transform,)

    def refusal(self, cls: type) -> str | None:
        """Why genlab cannot run ``cls`` on image batches, or None.

        Refused by name: the base class, ``Compose``, classes holding functions or tensors,
        batch mixers (``CutMix``, ``MixUp``), crops giving several images, PIL converters and
        video transforms. Transforms of bounding boxes or keypoints run on batches with targets
        (:meth:`needs_targets`).
        """
        name = cls.__name__
        if name in _REFUSED:
            return _REFUSED[name]
        return None

    def needs_targets(self, cls: type) -> str | None:
        """What ``cls`` needs besides the image, or None: transforms of bounding boxes or
        keypoints run on batches with targets only."""
        if any(word in cls.__name__ for word in _NEEDS_ANNOTATIONS):
            return "works on bounding boxes or keypoints"
        return None

    def declare_class(self, cls: type) -> tuple[dict[str, Param], frozenset[str]]:
        """The declared parameters of ``cls`` and the names of the required ones.

        Each ``__init__`` argument is declared from its annotation, with the value a probe
        instance keeps (else the ``__init__`` default) as its default. ``p`` is a probability in
        ``[0, 1]``, interpolation modes and ``torch.dtype`` arguments are choices (of mode
        values and of :data:`DTYPES` names), a composition's ``transforms`` is a fixed list.
        """
        from torchvision.transforms import InterpolationMode  # as above

        probe = self.probe(cls, _probe_args())
        params: dict[str, Param] = {}
        required = set()
        for p in self.init_parameters(cls):
            is_required = p.default is inspect.Parameter.empty
            if is_required:
                required.add(p.name)
            text = str(p.annotation)
            if probe is not None and hasattr(probe, p.name):
                value = plain(getattr(probe, p.name))
            else:
                value = None if is_required else plain(p.default)
            if p.name == "transforms":
                params[p.name] = Fixed(None, optional=True, help="the transforms it chooses from")
            elif p.name == "p" and isinstance(value, float):
                params[p.name] = Float(value, low=0.0, high=1.0, help="probability of applying it")
            elif "InterpolationMode" in text:
                choices = tuple(m.value for m in InterpolationMode)
                params[p.name] = Choice(value, choices=choices, help="interpolation")
            elif "torch.dtype" in text and (value in DTYPES or is_required):
                params[p.name] = Choice(
                    None if is_required else value, choices=DTYPES, help="output dtype",
                    optional=is_required,
                )  # fmt: skip
            else:
                params[p.name] = declare(value, text, required=is_required, help=text)
        return params, frozenset(required)

    def build(self, cls: type, params: dict[str, Any]) -> Any:
        """``cls(**params)`` with a composition's children built, dtype names as torch dtypes and tuples as lists.

        ``scale`` and ``ratio`` stay tuples; torchvision checks some other sequences with
        ``isinstance(value, list)``.
        """
        import torch  # as above

        signature = inspect.signature(cls).parameters
        kwargs = {}
        for name, value in params.items():
            default = signature[name].default if name in signature else None
            if isinstance(default, enum.Enum) and not isinstance(value, enum.Enum):
                value = type(default)(value)  # declared by its plain value: "imagenet"
            if name == "transforms":
                value = self.build_children(value)
            elif name == "dtype" and isinstance(value, str):
                value = getattr(torch, value)
            elif isinstance(value, tuple) and name not in ("scale", "ratio"):
                value = list(value)  # torchvision checks some sequences with isinstance(list)
            kwargs[name] = value
        return cls(**kwargs)

    def run(
        self, transform: Any, images: np.ndarray, seeds: np.ndarray, targets=None, fmt=None
    ) -> Iterator[tuple[np.ndarray, dict, Any]]:
        """Yield ``(C x H x W image, record)`` per image, each drawing only from its own seed.

        Each image goes in as a ``C x H x W`` tensor viewing its ``H x W x C`` array (with its
        ``targets``, one per image or None, as tv_tensors: :mod:`genlab.foreign.targets`). torch's
        global generator is seeded per image inside ``torch.random.fork_rng``, under a lock
        that thread workers share, so the caller's torch random state is left as it was.
        torchvision does not expose what it drew: records say ``"not recorded"``.
        """
        import torch  # as above

        record = {"params": "not recorded"}
        # torchvision draws from torch's one global generator: thread workers take turns
        with _GLOBAL_GENERATOR, torch.random.fork_rng(devices=[]):
            for i, (img, seed) in enumerate(zip(images, seeds.tolist())):
                torch.default_generator.manual_seed(seed)  # not torch.manual_seed: no GPU seeding
                moved = None if targets is None else targets[i]
                tensor = torch.from_numpy(img).permute(2, 0, 1)
                if moved is None:
                    out = transform(tensor)
                else:  # as tv_tensors, with the same draws (genlab.foreign.targets)
                    out, moved = torchvision_call(transform, tensor, moved, fmt)
                yield out.as_subclass(torch.Tensor).numpy(), record, moved


_GLOBAL_GENERATOR = threading.Lock()  # held while a stage seeds and uses torch's global generator


def _one_thread_after_fork() -> None:
    """In a forked worker, run torch ops on one thread.

    An OpenMP thread pool started in the parent does not survive ``fork``: the child's first
    parallel torch op would wait forever. Workers are processes already; one thread each is
    what they want anyway.
    """
    import torch  # as above

    torch.set_num_threads(1)
