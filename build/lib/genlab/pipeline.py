"""``Pipeline``: a reusable, configurable chain of stages over a dataset.

It is a small value object: its state is a source (its kind and parameters: class folders, a
table of paths and labels, or tar shards; see :mod:`genlab.sources.kinds`), a seed and a list of
:class:`StageConfig`. Each iteration is one epoch, run by fresh coroutines through
:class:`~genlab.stages.protocol.GeneratorPipeline`; the source is listed once.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import registry
from .batch import Batch
from .params import Int, validate_params
from .pipeline_sources import SourceConstructors
from .registry import StageConfig
from .report import RunReport
from .sources.kinds import source_kind as _source_kind
from .spec_format import (
    RUN_PARAMS,
    pipeline_arguments,
    pipeline_to_spec,
    python_expression,
    save,
    to_python,
)
from .stages.fused import fusable, read_and_crop
from .stages.protocol import GeneratorPipeline
from .stages.shuffle import shuffle_before_rescale
from .transforms.op import stream_name

__all__ = ["Pipeline", "StageConfig", "StageTrace", "DEFAULT_STAGES", "RUN_PARAMS"]


def _default_stages() -> list[StageConfig]:
    """The classic post's chain."""
    return [
        StageConfig("read_images", {"target_size": (224, 224)}),
        StageConfig("augment", {"rotate90": True}),
        StageConfig("rescale_images", {"mean": (103.939, 116.779, 123.68)}),
        StageConfig("shuffle_samples"),
    ]


DEFAULT_STAGES = ("read_images", "augment", "rescale_images", "shuffle_samples")


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
        from .memory import batch_nbytes  # psutil (~50 ms to import): only when tracing

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
        return StageConfig(
            item["name"], dict(item.get("params", {})), bool(item.get("enabled", True))
        )
    raise TypeError(f"a stage is a name, a (name, params) pair or a StageConfig, got {item!r}")


class Pipeline(SourceConstructors):
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
        augment_seed: int = 0,
        index: Any = None,
        source_kind: str = "dataset",
        worker_kind: str = RUN_PARAMS["worker_kind"].default,
    ):
        self._kind = _source_kind(source_kind)
        self.source = self._kind.validate(dict(source))
        self.stages = [
            _as_stage_config(s) for s in (_default_stages() if stages is None else stages)
        ]
        self.seed = Int(0, low=0, high=2**63 - 1).validate(seed, stage="pipeline", name="seed")
        self.augment_seed = Int(0, low=0, high=2**31 - 1).validate(
            augment_seed, stage="pipeline", name="augment_seed"
        )
        if not (isinstance(shard, (tuple, list)) and len(shard) == 2):
            raise ValueError(
                f"pipeline: parameter 'shard' must be an (index, count) pair, got {shard!r}"
            )
        given = {"num_workers": num_workers, "prefetch": prefetch, "shard_count": shard[1],
                 "worker_kind": worker_kind}  # fmt: skip
        run = validate_params("pipeline", RUN_PARAMS, given)
        self.num_workers, self.prefetch, self.shard_count = (
            run["num_workers"],
            run["prefetch"],
            run["shard_count"],
        )
        self.worker_kind = run["worker_kind"]
        self.shard_index = Int(0, low=0, high=self.shard_count - 1).validate(
            shard[0], stage="pipeline", name="shard_index"
        )
        self.epoch = 0
        self.report = RunReport()
        self._index = index

    # -- the dataset ---------------------------------------------------------------------
    @property
    def source_kind(self) -> str:
        """The kind of source: ``"dataset"`` (class folders), ``"table"`` or ``"shards"``."""
        return self._kind.name

    @property
    def index(self) -> Any:
        """The source listing, made on first use and kept (not redone every epoch).

        A :class:`~genlab.sources.discover.DatasetIndex` for folders and tables, a
        :class:`~genlab.sources.shards.ShardIndex` for shards.
        """
        if self._index is None:
            self._index = self._kind.listing(self.source)
        return self._index

    @property
    def class_names(self) -> tuple[str, ...]:
        """The dataset's class names, in the order of the one-hot columns."""
        return self.index.class_names

    @property
    def target_format(self) -> Any:
        """The :class:`~genlab.targets.TargetFormat` of an annotated source, None otherwise."""
        return getattr(self.index, "target_format", None)

    @property
    def multi_label(self) -> bool:
        """True when ``y`` holds multi-hot rows (a sample may carry several labels)."""
        return bool(self.index.multi_label)

    def set_source(self, **params: Any) -> Pipeline:
        """Change source settings (``batch_size``, ``shuffle``, ...); all are checked first."""
        listed = {
            k
            for k in params
            if k not in ("batch_size", "shuffle", "drop_last", "shuffle_buffer", "retry")
        }
        self.source = self._kind.validate({**self.source, **params})
        if listed:
            self._index = None  # what is listed changed: list again
        return self

    @property
    def batch_size(self) -> int:
        """Samples per batch (the source's ``batch_size``)."""
        return self.source["batch_size"]

    def __len__(self) -> int:
        """Batches per epoch (of this shard, when the pipeline is a shard)."""
        split = (self.shard_index, self.shard_count)
        return self._kind.n_batches(
            self.source, self.index, seed=self.seed, epoch=self.epoch, split=split
        )

    # -- running -------------------------------------------------------------------------
    def source_batches(self, epoch: int) -> Iterator[Batch]:
        """The source's ``(paths or bytes, labels)`` batches of ``epoch`` (of this shard), before any stage."""
        split = (self.shard_index, self.shard_count)
        return self._kind.batches(self.source, self.index, seed=self.seed, epoch=epoch, split=split)

    def shard(self, index: int, count: int) -> Pipeline:
        """A copy that runs shard ``index`` of ``count``.

        For folders and tables the unit is the batch (batches ``index, index + count, ...``):
        an epoch's batches are fixed by the seed, and every random draw derives from seed,
        epoch, batch and sample keys, so a batch comes out the same whichever process makes
        it. For tar shards the unit is the shard file: the copy streams every ``count``-th
        shard of the epoch's seeded shard order. Either way the parts are disjoint, together
        they are exactly the epoch, and each process or machine reads only its own files.
        """
        spec = self.to_spec()
        spec["run"]["shard"] = [index, count]
        part = Pipeline.from_spec(spec, index=self._index)
        part.epoch = self.epoch
        return part

    def stream_of(self, config: StageConfig) -> str:
        """The random stream of one of this pipeline's stages.

        It depends on the stage's name and on how many stages of that name come before it
        (so two ``color_jitter`` stages draw independently, and moving or switching off other
        stages changes no draw), and on :attr:`augment_seed` (the lab's "new draw").
        """
        position = next(i for i, s in enumerate(self.stages) if s is config)
        occurrence = sum(s.name == config.name for s in self.stages[:position])
        return stream_name(config.name, occurrence, self.augment_seed)

    def build(self, config: StageConfig):
        """A fresh generator for one of this pipeline's stages, drawing from its own stream."""
        return config.build(self.stream_of(config))

    def build_stages(self, *, fuse: bool = True) -> list:
        """Fresh generators for the enabled stages, in order.

        An enabled ``read_images`` directly followed by an enabled ``random_resized_crop``
        runs as one stage that decodes only the crop's box, with the same draws and records
        (:mod:`genlab.stages.fused`; ``read_images(fuse_crop=False)`` or ``fuse=False`` here
        keeps them apart). Its generator is named ``"read_images+random_resized_crop"``.
        """
        return self._steps([s for s in self.stages if s.enabled], fuse)

    def _run_steps(self) -> list:
        """:meth:`build_stages` for a run whose stages nobody watches one by one: the same
        bytes, with ``shuffle_samples`` moved before ``rescale_images`` when it follows it
        (see :func:`~genlab.stages.shuffle.shuffle_before_rescale`)."""
        return self._steps(shuffle_before_rescale([s for s in self.stages if s.enabled]), True)

    def _steps(self, enabled: list[StageConfig], fuse: bool) -> list:
        steps = []
        i = 0
        while i < len(enabled):
            if fuse and i + 1 < len(enabled) and fusable(enabled[i], enabled[i + 1]):
                crop = enabled[i + 1]
                steps.append(read_and_crop(enabled[i].params, crop.params, self.stream_of(crop)))
                i += 2
            else:
                steps.append(self.build(enabled[i]))
                i += 1
        return steps

    def run_stages(self, batch: Batch, observer=None, *, fuse: bool = True) -> Batch:
        """Run one source batch through fresh coroutines of the enabled stages (see :meth:`build_stages`)."""
        steps = self._run_steps() if fuse and observer is None else self.build_stages(fuse=fuse)
        with GeneratorPipeline(iter([batch]), *steps, observer=observer) as run:
            return next(run)

    def iter_epoch(self, epoch: int) -> Iterator[Batch]:
        """The batches of ``epoch`` (the same every time for the same seed).

        With workers, they start on this call, not on the first ``next()``: the first batches
        are made while the caller still builds its model. An error in starting them (a missing
        folder, ...) is raised by the first ``next()``, as without workers.
        """
        if self.num_workers == 0:
            return self._deliver(epoch, None, None)
        started = time.perf_counter()
        try:
            report = self._new_report()
            from .parallel import iter_parallel  # processes, psutil (~0.1 s): only with workers

            batches = iter_parallel(self, epoch)  # workers start, prefetch begins
        except Exception as e:
            return _raise_on_next(e)
        return self._deliver(epoch, (report, batches), started)

    def _new_report(self) -> RunReport:
        self.report = RunReport(ignored=list(self.index.ignored))
        return self.report

    def _deliver(self, epoch: int, running, started: float | None) -> Iterator[Batch]:
        if running is None:  # no workers: everything starts at the first next()
            started = time.perf_counter()
            report = self._new_report()
            batches = GeneratorPipeline(self.source_batches(epoch), *self._run_steps())
        else:
            report, batches = running
        try:
            for batch in batches:
                report.add_batch(batch, self._kind.describe_skip, self.index)
                report.seconds = time.perf_counter() - started
                if report.first_batch_seconds is None:
                    report.first_batch_seconds = report.seconds
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
        self.run_stages(
            batch,
            observer=lambda name, out, seconds: rows.append(StageTrace.of(name, out, seconds)),
        )
        return rows

    def memory_estimate(self):
        """The batch memory a run will hold (batch x prefetch x workers), known before it starts.

        See :func:`genlab.parallel.estimate_memory`; a run warns by itself when the figure
        exceeds the memory available.
        """
        from .parallel import estimate_memory  # as in iter_epoch: only when asked

        return estimate_memory(self)

    # -- editing between epochs --------------------------------------------------------
    def _position(self, stage: str | int) -> int:
        if isinstance(stage, int):
            if not -len(self.stages) <= stage < len(self.stages):
                raise IndexError(
                    f"no stage at position {stage}; the pipeline has {len(self.stages)}"
                )
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
        """Switch a stage (named or by position) on, or off with ``enabled=False``."""
        self.stage(stage).enabled = bool(enabled)
        return self

    def disable(self, stage: str | int) -> Pipeline:
        """Switch a stage off; it stays in the chain and in the spec."""
        return self.enable(stage, False)

    def move(self, stage: str | int, to: int) -> Pipeline:
        """Move a stage to position ``to``."""
        config = self.stages.pop(self._position(stage))
        self.stages.insert(to, config)
        return self

    def add(
        self, name: str, index: int | None = None, *, enabled: bool = True, **params: Any
    ) -> Pipeline:
        """Insert a registered stage (at the end by default)."""
        config = StageConfig(name, params, enabled)
        self.stages.insert(len(self.stages) if index is None else index, config)
        return self

    def remove(self, stage: str | int) -> Pipeline:
        """Take a stage (named or by position) out of the chain."""
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
        return pipeline_to_spec(self, manifest=manifest)

    @classmethod
    def from_spec(cls, spec: dict, *, index: Any = None, trusted: bool = True) -> Pipeline:
        """Rebuild a pipeline from a spec; ValueError names whatever is wrong in it.

        ``trusted=False`` confines a table source's paths to its root (see :func:`genlab.load`).
        """
        return cls(**pipeline_arguments(spec, index=index, trusted=trusted))

    def save(self, path: str, *, manifest: bool = False) -> str:
        """Write the spec as JSON to ``path``; ``manifest=True`` keeps the listing in it too."""
        return save(self, path, manifest=manifest)

    def to_python(self, path: str | None = None) -> str:
        """A standalone Python module that rebuilds this pipeline; written to ``path`` if given."""
        return to_python(self, path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return self.to_spec() == other.to_spec()

    __hash__ = None  # type: ignore[assignment]  # mutable between epochs

    def __reduce__(self):
        return (_rebuild, (self.to_spec(), self._index, self.epoch))

    def __repr__(self) -> str:
        return python_expression(self)


def _rebuild(spec: dict, index: Any, epoch: int) -> Pipeline:
    pipeline = Pipeline.from_spec(spec, index=index)
    pipeline.epoch = epoch
    return pipeline


def _raise_on_next(error: Exception) -> Iterator[Batch]:
    """An iterator whose first ``next()`` raises ``error`` (where a lazy start raises it)."""
    raise error
    yield  # a generator: nothing runs until next()
