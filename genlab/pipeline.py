"""``Pipeline``: a reusable, configurable chain of stages over a class-folder dataset.

It is a small value object: its state is a source configuration, a seed and a list of
:class:`StageConfig`. Each iteration is one epoch, run by fresh coroutines through
:class:`~genlab.stages.protocol.GeneratorPipeline`; the folder is listed once.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import registry
from .batch import Batch
from .params import Int, validate_params
from .report import RunReport
from .sources.dataset import SOURCE_PARAMS, dataset, n_batches
from .sources.discover import DatasetIndex, index_folder
from .stages.protocol import GeneratorPipeline

__all__ = ["Pipeline", "StageConfig", "StageTrace", "DEFAULT_STAGES"]


@dataclass
class StageConfig:
    """One stage of a :class:`Pipeline`: its registered name, parameters and on/off switch."""

    name: str
    params: dict = field(default_factory=dict)
    enabled: bool = True

    def __post_init__(self) -> None:
        self.params = registry.get(self.name).validate(dict(self.params))

    def build(self):
        """A fresh, unprimed two-yield generator for this stage."""
        return registry.get(self.name).factory(**self.params)

    def changed_params(self) -> dict:
        """The parameters that differ from the stage's declared defaults."""
        defaults = registry.get(self.name).default_params()
        return {k: v for k, v in self.params.items() if defaults.get(k) != v}

    def __repr__(self) -> str:
        args = [repr(self.name)]
        changed = self.changed_params()
        if changed:
            args.append(repr(changed))
        if not self.enabled:
            args.append("enabled=False")
        return f"StageConfig({', '.join(args)})"


def _default_stages() -> list[StageConfig]:
    """The classic post's chain."""
    return [
        StageConfig("read_images", {"target_size": (224, 224)}),
        StageConfig("augment", {"rotate90": True}),
        StageConfig("rescale_images", {"mean": (103.939, 116.779, 123.68)}),
        StageConfig("shuffle_samples"),
    ]


DEFAULT_STAGES = ("read_images", "augment", "rescale_images", "shuffle_samples")

RUN_PARAMS = {
    "num_workers": Int(0, low=0, high=256, help="worker processes (0 = in this process)"),
    "prefetch": Int(2, low=1, high=64, help="batches each worker may hold ready"),
    "shard_count": Int(1, low=1, high=2**31, help="the epoch's batches are split into this many shards"),
}


@dataclass(frozen=True)
class StageTrace:
    """What one stage did to one batch: output shape, dtype, bytes and time."""

    name: str
    shape: tuple
    dtype: str
    nbytes: int
    seconds: float

    @classmethod
    def of(cls, name: str, batch: Any, seconds: float) -> StageTrace:
        """The trace row of ``batch`` as ``name`` left it (x's shape, dtype and bytes)."""
        from .memory import batch_nbytes

        x = batch[0]
        shape = tuple(getattr(x, "shape", (len(x),)))
        dtype = str(getattr(x, "dtype", "paths"))
        return cls(name, shape, dtype, batch_nbytes(x), seconds)


def _as_stage_config(item: Any) -> StageConfig:
    if isinstance(item, StageConfig):
        return StageConfig(item.name, dict(item.params), item.enabled)
    if isinstance(item, str):
        return StageConfig(item)
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 2:
        return StageConfig(item[0], dict(item[1]) if len(item) == 2 else {})
    if isinstance(item, dict):
        return StageConfig(item["name"], dict(item.get("params", {})), bool(item.get("enabled", True)))
    raise TypeError(f"a stage is a name, a (name, params) pair or a StageConfig, got {item!r}")


class Pipeline:
    """A reusable image pipeline: iterate it once per epoch.

    >>> import genlab, tempfile
    >>> root = genlab.make_sample_data(tempfile.mkdtemp() + "/digits", n_per_class=4)
    >>> p = Pipeline.from_folder(root, batch_size=16, seed=1, stages=[
    ...     ("read_images", {"target_size": (32, 32)}), "augment", "rescale_images"])
    >>> len(p), p.class_names[:3]
    (3, ('0', '1', '2'))
    >>> x, y = next(iter(p))
    >>> x.shape, x.dtype.name, y.shape
    ((16, 32, 32, 3), 'float32', (16, 10))
    """

    def __init__(
        self,
        source: dict,
        stages: Sequence[Any] | None = None,
        *,
        seed: int = 0,
        num_workers: int = 0,
        prefetch: int = 2,
        shard: tuple[int, int] = (0, 1),
        index: DatasetIndex | None = None,
    ):
        self.source = validate_params("dataset", SOURCE_PARAMS, dict(source))
        if not self.source["root"]:
            raise ValueError("dataset: parameter 'root' is required")
        self.stages = [_as_stage_config(s) for s in (_default_stages() if stages is None else stages)]
        self.seed = Int(0, low=0, high=2**63 - 1).validate(seed, stage="pipeline", name="seed")
        if not (isinstance(shard, (tuple, list)) and len(shard) == 2):
            raise ValueError(f"pipeline: parameter 'shard' must be an (index, count) pair, got {shard!r}")
        given = {"num_workers": num_workers, "prefetch": prefetch, "shard_count": shard[1]}
        run = validate_params("pipeline", RUN_PARAMS, given)
        self.num_workers, self.prefetch, self.shard_count = run["num_workers"], run["prefetch"], run["shard_count"]
        self.shard_index = Int(0, low=0, high=self.shard_count - 1).validate(
            shard[0], stage="pipeline", name="shard_index"
        )
        self.epoch = 0
        self.report = RunReport()
        self._index = index

    @classmethod
    def from_folder(
        cls,
        root: str,
        batch_size: int = 32,
        *,
        seed: int = 0,
        stages: Sequence[Any] | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
        num_workers: int = 0,
        prefetch: int = 2,
    ) -> Pipeline:
        """A pipeline over a class-folder dataset; ``stages=None`` gives the post's chain."""
        source = {"root": str(root), "batch_size": batch_size, "shuffle": shuffle, "drop_last": drop_last}
        return cls(source, stages, seed=seed, num_workers=num_workers, prefetch=prefetch)

    # -- the dataset ---------------------------------------------------------------------
    @property
    def index(self) -> DatasetIndex:
        """The dataset listing, made on first use and kept (not redone every epoch)."""
        if self._index is None:
            self._index = index_folder(self.source["root"])
        return self._index

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.index.class_names

    @property
    def batch_size(self) -> int:
        return self.source["batch_size"]

    def __len__(self) -> int:
        """Batches per epoch (of this shard, when the pipeline is a shard)."""
        total = n_batches(len(self.index), self.source["batch_size"], self.source["drop_last"])
        return len(range(self.shard_index, total, self.shard_count))

    # -- running -------------------------------------------------------------------------
    def source_batches(self, epoch: int) -> Iterator[Batch]:
        """The source's ``(paths, labels)`` batches of ``epoch`` (of this shard), before any stage runs."""
        s = self.source
        batches = dataset(
            s["root"], s["batch_size"], shuffle=s["shuffle"], drop_last=s["drop_last"],
            seed=self.seed, epoch=epoch, index=self.index,
        )  # fmt: skip
        if self.shard_count == 1:
            return batches
        return itertools.islice(batches, self.shard_index, None, self.shard_count)

    def shard(self, index: int, count: int) -> Pipeline:
        """A copy that runs shard ``index`` of ``count``: batches ``index, index + count, ...``.

        The unit is the batch: an epoch's batches are fixed by the seed, and every random
        draw derives from seed, epoch, batch and sample keys, so a batch comes out the same
        whichever process makes it. Shards are disjoint, together they are exactly the
        epoch, and each of several processes or machines reads only its own files.
        """
        spec = self.to_spec()
        spec["run"]["shard"] = [index, count]
        part = Pipeline.from_spec(spec, index=self._index)
        part.epoch = self.epoch
        return part

    def build_stages(self) -> list:
        """Fresh generators for the enabled stages, in order."""
        return [s.build() for s in self.stages if s.enabled]

    def run_stages(self, batch: Batch, observer=None) -> Batch:
        """Run one source batch through fresh coroutines of the enabled stages."""
        with GeneratorPipeline(iter([batch]), *self.build_stages(), observer=observer) as run:
            return next(run)

    def iter_epoch(self, epoch: int) -> Iterator[Batch]:
        """The batches of ``epoch`` (the same every time for the same seed)."""
        report = RunReport(ignored=list(self.index.ignored))
        self.report = report
        started = time.perf_counter()
        if self.num_workers > 0:
            from .parallel import iter_parallel

            batches = iter_parallel(self, epoch)
        else:
            batches = GeneratorPipeline(self.source_batches(epoch), *self.build_stages())
        try:
            for batch in batches:
                report.add_batch(batch)
                report.seconds = time.perf_counter() - started
                yield batch
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator[Batch]:
        """One epoch; each new iteration runs the next epoch, reshuffled from the seed."""
        epoch, self.epoch = self.epoch, self.epoch + 1
        return self.iter_epoch(epoch)

    def source_batch(self, batch_index: int, epoch: int = 0) -> Batch:
        """Source batch number ``batch_index`` of ``epoch`` (paths and labels, before any stage)."""
        if batch_index < 0:
            raise IndexError(f"batch_index {batch_index} out of range for {len(self)} batches")
        batch = next(itertools.islice(self.source_batches(epoch), batch_index, None), None)
        if batch is None:
            raise IndexError(f"batch_index {batch_index} out of range for {len(self)} batches")
        return batch

    def trace(self, batch_index: int = 0, epoch: int = 0) -> list[StageTrace]:
        """Run one batch and say what each stage produced: shape, dtype, bytes, seconds."""
        batch = self.source_batch(batch_index, epoch)
        rows = [StageTrace.of("dataset", batch, 0.0)]
        self.run_stages(batch, observer=lambda name, out, seconds: rows.append(StageTrace.of(name, out, seconds)))
        return rows

    def memory_estimate(self):
        """The batch memory a run will hold (batch x prefetch x workers), known before it starts.

        See :func:`genlab.parallel.estimate_memory`; a run warns by itself when the figure
        exceeds the memory available.
        """
        from .parallel import estimate_memory

        return estimate_memory(self)

    # -- editing between epochs --------------------------------------------------------
    def _position(self, stage: str | int) -> int:
        if isinstance(stage, int):
            if not -len(self.stages) <= stage < len(self.stages):
                raise IndexError(f"no stage at position {stage}; the pipeline has {len(self.stages)}")
            return stage % len(self.stages)
        for i, s in enumerate(self.stages):
            if s.name == stage:
                return i
        raise ValueError(f"no stage named {stage!r}; stages: {[s.name for s in self.stages]}")

    def stage(self, stage: str | int) -> StageConfig:
        """The configuration of a stage, by name (the first with that name) or position."""
        return self.stages[self._position(stage)]

    def set_params(self, stage: str | int, **params: Any) -> Pipeline:
        """Change some parameters of a stage; all are checked before any is changed."""
        config = self.stage(stage)
        config.params = registry.get(config.name).validate({**config.params, **params})
        return self

    def enable(self, stage: str | int, enabled: bool = True) -> Pipeline:
        self.stage(stage).enabled = bool(enabled)
        return self

    def disable(self, stage: str | int) -> Pipeline:
        return self.enable(stage, False)

    def move(self, stage: str | int, to: int) -> Pipeline:
        """Move a stage to position ``to``."""
        config = self.stages.pop(self._position(stage))
        self.stages.insert(to, config)
        return self

    def add(self, name: str, index: int | None = None, *, enabled: bool = True, **params: Any) -> Pipeline:
        """Insert a registered stage (at the end by default)."""
        config = StageConfig(name, params, enabled)
        self.stages.insert(len(self.stages) if index is None else index, config)
        return self

    def remove(self, stage: str | int) -> Pipeline:
        del self.stages[self._position(stage)]
        return self

    def copy(self) -> Pipeline:
        """An independent pipeline with the same configuration (sharing the listing)."""
        return Pipeline.from_spec(self.to_spec(), index=self._index)

    # -- export --------------------------------------------------------------------------
    def to_spec(self, *, manifest: bool = False) -> dict:
        """The JSON-friendly spec that rebuilds this pipeline (see :mod:`genlab.spec`).

        ``manifest=True`` records the dataset listing too, so loading it does not list again.
        """
        from .spec import pipeline_to_spec

        return pipeline_to_spec(self, manifest=manifest)

    @classmethod
    def from_spec(cls, spec: dict, *, index: DatasetIndex | None = None) -> Pipeline:
        """Rebuild a pipeline from a spec; ValueError names whatever is wrong in it."""
        from .spec import pipeline_from_spec

        return pipeline_from_spec(spec, index=index)

    def save(self, path: str, *, manifest: bool = False) -> str:
        """Write the spec as JSON to ``path``; ``manifest=True`` keeps the listing in it too."""
        from .spec import save

        return save(self, path, manifest=manifest)

    def to_python(self, path: str | None = None) -> str:
        """A standalone Python module that rebuilds this pipeline; written to ``path`` if given."""
        from .spec import to_python

        return to_python(self, path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return self.to_spec() == other.to_spec()

    __hash__ = None  # type: ignore[assignment]  # mutable between epochs

    def __reduce__(self):
        return (_rebuild, (self.to_spec(), self._index, self.epoch))

    def __repr__(self) -> str:
        from .spec import python_expression

        return python_expression(self)


def _rebuild(spec: dict, index: DatasetIndex | None, epoch: int) -> Pipeline:
    pipeline = Pipeline.from_spec(spec, index=index)
    pipeline.epoch = epoch
    return pipeline
