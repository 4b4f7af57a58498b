"""Compare two settings: a pinned pipeline A beside the lab's pipeline B, on the same batch and draws.

:class:`Comparison` keeps A (pinned from the lab's pipeline) while the lab goes on tuning B. Both
run on the lab's source batch; A is run with B's draw (``augment_seed``), and every op draws from
a stream named by the op and its occurrence, so the ops the two chains share draw the same values
and only what differs changes the picture. :func:`parameter_diff` says what differs, in one line.
Widget-free.
"""

from __future__ import annotations

import os
from typing import Any

from genlab.batch import Batch
from genlab.lab.lab_files import ExportResult, export_pipeline
from genlab.lab.lab_model import LabModel, LabRun
from genlab.pipeline import Pipeline

__all__ = ["Comparison", "parameter_diff"]


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return "(" + ", ".join(_value(v) for v in value) + ")"
    return repr(value)


def _named(pipeline: Pipeline) -> dict[str, Any]:
    """The stages by name, a repeated name numbered (``hflip``, ``hflip#2``)."""
    seen: dict[str, int] = {}
    out = {}
    for config in pipeline.stages:
        seen[config.name] = seen.get(config.name, 0) + 1
        key = config.name if seen[config.name] == 1 else f"{config.name}#{seen[config.name]}"
        out[key] = config
    return out


def parameter_diff(a: Pipeline, b: Pipeline) -> list[str]:
    """What ``b`` changes from ``a``: source settings, stages added, removed, switched, moved,
    and parameters, one short item each (the draw, ``augment_seed``, is left out).

    >>> from genlab.pipeline import Pipeline
    >>> a = Pipeline.from_folder("photos", 8, stages=["read_images", "hflip"])
    >>> b = a.copy().set_params("hflip", p=0.8).add("vflip")
    >>> parameter_diff(a, b)
    ['hflip.p 0.5 → 0.8', '+ vflip']
    >>> parameter_diff(a, a.copy())
    []
    """
    items = []
    for name in ("batch_size", "shuffle"):
        if a.source.get(name) != b.source.get(name):
            items.append(f"{name} {_value(a.source.get(name))} → {_value(b.source.get(name))}")
    if a.seed != b.seed:
        items.append(f"seed {a.seed} → {b.seed}")
    stages_a, stages_b = _named(a), _named(b)
    for key, config in stages_b.items():
        old = stages_a.get(key)
        if old is None:
            items.append(f"+ {key}")
            continue
        if old.enabled != config.enabled:
            items.append(f"{key} {'on' if config.enabled else 'off'}")
        for param, value in config.params.items():
            if old.params.get(param) != value:
                items.append(f"{key}.{param} {_value(old.params.get(param))} → {_value(value)}")
    items.extend(f"− {key}" for key in stages_a if key not in stages_b)
    common_a = [k for k in stages_a if k in stages_b]
    common_b = [k for k in stages_b if k in stages_a]
    if common_a != common_b:
        items.append("order " + " → ".join(common_b))
    return items


class Comparison:
    """A pinned pipeline A beside the lab model's pipeline B.

    Parameters
    ----------
    model
        The lab's model; its pipeline is B.
    """

    def __init__(self, model: LabModel) -> None:
        self.model = model
        self.pinned: Pipeline | None = None

    @property
    def active(self) -> bool:
        """Whether an A is pinned."""
        return self.pinned is not None

    def pin(self) -> None:
        """Pin the lab's current settings as A."""
        self.pinned = self.model.pipeline.copy()

    def drop(self) -> None:
        """Forget A."""
        self.pinned = None

    def _need_a(self) -> Pipeline:
        if self.pinned is None:
            raise RuntimeError("nothing is pinned: pin the current settings as A first")
        return self.pinned

    def shown_a(self) -> Pipeline:
        """A as the compare view shows it: with B's draw (``augment_seed``)."""
        a = self._need_a().copy()
        a.augment_seed = self.model.pipeline.augment_seed
        return a

    def swap(self) -> LabRun:
        """Make A the lab's pipeline (tuned from now on) and pin what was B as A."""
        a = self.shown_a()
        b = self.model.pipeline.copy()
        run = self.model.use(a)
        self.pinned = b
        return run

    def run_a(self) -> LabRun:
        """A on the lab's preview batch, with B's draw."""
        return self.model.run_other(self.shown_a())

    def draws_a(self, n: int = 16, sample: int = 0) -> Batch:
        """One image under ``n`` draws of A (as :meth:`LabModel.draws` does for B)."""
        return self.model.draws(n, sample, pipeline=self.shown_a())

    def diff(self) -> list[str]:
        """What B changes from A (:func:`parameter_diff`)."""
        return parameter_diff(self._need_a(), self.model.pipeline)

    def export(self, which: str, stem: str | os.PathLike | None = None) -> ExportResult:
        """Export ``"A"`` or ``"B"`` as the compare view shows it (see :meth:`LabModel.export`)."""
        if which not in ("A", "B"):
            raise ValueError(f"which must be 'A' or 'B', got {which!r}")
        pipeline = self.shown_a() if which == "A" else self.model.pipeline
        return export_pipeline(pipeline, stem, self.model.epoch, self.model.batch_index)
