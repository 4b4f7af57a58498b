"""The state behind :class:`genlab.lab.PipelineLab`, kept free of widgets so it can be tested.

A :class:`LabModel` holds the last good :class:`~genlab.pipeline.Pipeline` and which source batch
the preview shows (``epoch`` and ``batch_index``). Every edit is tried on a copy and run on that
same source batch; only an edit that runs is kept, so a bad value leaves the last good state.

Stages run one at a time, each through its own :class:`~genlab.stages.protocol.GeneratorPipeline`
(the same two-yield driver, the same results as :meth:`Pipeline.run_stages`), so the output of an
unchanged prefix of the chain is reused: moving an ``augment`` slider does not read the files again.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genlab import memory, registry
from genlab.batch import Batch
from genlab.lab.lab_files import ExportResult, export_pipeline, read_position
from genlab.pipeline import Pipeline, StageConfig, StageTrace
from genlab.sample_data import ensure_sample_data
from genlab.sources.hf import pipeline_for_target
from genlab.spec import load as load_spec
from genlab.spec import pipeline_from_spec
from genlab.stages.protocol import GeneratorPipeline

__all__ = [
    "LabModel",
    "LabRun",
    "MemoryFigures",
    "ExportResult",
    "ORIGINAL_STAGES",
    "PHOTO_STAGES",
    "lab_pipeline",
    "photo_pipeline",
]

#: Stages kept for the "original" side of the original-vs-augmented view.
ORIGINAL_STAGES = ("read_images",)
#: Stages a new op is placed before: they end the chain (floats, then the order of samples).
LATE_STAGES = ("rescale_images", "shuffle_samples")
_CACHE_SIZE = 24

#: The lab's default chain on photographs: the ImageNet training recipe, op by op.
PHOTO_STAGES: tuple = (
    ("read_images", {"target_size": (300, 225)}),  # the photos are 4:3
    ("random_resized_crop", {"size": (224, 224), "scale": (0.25, 1.0)}),
    "hflip",
    ("color_jitter", {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.05}),
    (
        "rescale_images",
        {"scale": 1 / 255, "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)},
    ),
    "shuffle_samples",
)


def photo_pipeline(batch_size: int = 16, seed: int = 0, stages: Sequence | None = None) -> Pipeline:
    """The lab's default: the ``photos`` sample set (written once) under :data:`PHOTO_STAGES`.

    Photographs show what colour, blur and geometry ops do far better than digit scans.
    """
    root = ensure_sample_data("photos")
    return Pipeline.from_folder(
        root, batch_size, seed=seed, stages=list(PHOTO_STAGES if stages is None else stages)
    )


def lab_pipeline(
    pipeline_or_folder: Pipeline | str | os.PathLike | None, batch_size: int = 16, seed: int = 0
) -> Pipeline:
    """The pipeline a lab opens: the one given, the photos for None, else the post's chain on a
    folder, Parquet files or a ``datasets`` object (``genlab.sources.hf.pipeline_for_target``
    chooses)."""
    if isinstance(pipeline_or_folder, Pipeline):
        return pipeline_or_folder
    if pipeline_or_folder is None:
        return photo_pipeline(batch_size, seed)
    return pipeline_for_target(Pipeline, pipeline_or_folder, batch_size=batch_size, seed=seed)


@dataclass(frozen=True)
class LabRun:
    """The preview batch after the enabled stages and what each stage did to it."""

    batch: Batch
    rows: tuple[StageTrace, ...]
    seconds: float


@dataclass(frozen=True)
class MemoryFigures:
    """What the configured pipeline costs: streaming versus loading the whole dataset."""

    n_images: int
    batch_bytes: int
    largest_stage_bytes: int
    streaming_bytes: int
    eager_bytes: int
    eager_shape: tuple[int, ...]
    eager_dtype: str
    rss_bytes: int

    def summary(self) -> str:
        """One line with the main figures."""
        f = memory.format_bytes
        return (
            f"streaming holds {f(self.streaming_bytes)} of batches; loading all "
            f"{self.n_images} images eagerly as {self.eager_dtype} {self.eager_shape[1:]} "
            f"takes {f(self.eager_bytes)}; process RSS {f(self.rss_bytes)}"
        )


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _stage_key(config: StageConfig, stream: str) -> tuple:
    """What a stage's output depends on: its name, its parameters and, only for a stage that
    draws (``streamed``), its random stream; so a new draw does not read the files again."""
    drawn = stream if registry.get(config.name).streamed else ""
    return (config.name, _freeze(config.params), drawn)


def _reusable(config: StageConfig) -> bool:
    """Whether a stage's output can serve every draw (an original stage that draws nothing)."""
    return config.name in ORIGINAL_STAGES and not registry.get(config.name).streamed


def _stack(batches: list[Batch]) -> Batch:
    """One batch of the samples of ``batches`` (one sample each), records kept per sample."""
    infos = [b.info for b in batches]
    keys = [i.keys for i in infos]
    info = dataclasses.replace(
        infos[0],
        keys=None if any(k is None for k in keys) else np.concatenate(keys),
        paths=None if any(i.paths is None for i in infos) else sum((i.paths for i in infos), ()),
        applied=tuple(i.applied[0] if i.applied else () for i in infos),
    )
    x = np.concatenate([b.x for b in batches])
    return Batch(x, np.concatenate([b.y for b in batches]), info)


class LabModel:
    """The pipeline being tuned, the preview batch, and every action of the lab.

    Parameters
    ----------
    pipeline
        The pipeline to tune. The lab works on its own copy; :meth:`export` hands one back.
    epoch, batch_index
        Which source batch the preview shows.
    """

    def __init__(self, pipeline: Pipeline, epoch: int = 0, batch_index: int = 0) -> None:
        if not isinstance(pipeline, Pipeline):
            raise TypeError(f"expected a genlab.Pipeline, got {pipeline!r}")
        self.pipeline = pipeline.copy()
        self.epoch = epoch
        self.batch_index = batch_index
        self.sampler = memory.MemorySampler(max_samples=500)
        self._outputs: OrderedDict[tuple, tuple[Batch, StageTrace]] = OrderedDict()
        self._source: tuple[tuple, Batch] | None = None
        self.last: LabRun = self._run(self.pipeline)
        self.sampler.sample()

    @classmethod
    def from_folder(cls, root: str | os.PathLike, **kwargs: Any) -> LabModel:
        """A model over ``Pipeline.from_folder(root, **kwargs)``."""
        return cls(Pipeline.from_folder(str(root), **kwargs))

    # -- running ------------------------------------------------------------------------
    def _source_key(self, pipeline: Pipeline) -> tuple:
        return (_freeze(pipeline.source), pipeline.seed, self.epoch, self.batch_index)

    def source_batch(self, pipeline: Pipeline | None = None) -> Batch:
        """The source batch the preview shows (paths and labels, before any stage)."""
        pipeline = pipeline or self.pipeline
        key = self._source_key(pipeline)
        if self._source is None or self._source[0] != key:
            self._source = (key, pipeline.source_batch(self.batch_index, self.epoch))
        return self._source[1]

    def _run_chain(
        self, pipeline: Pipeline, configs: list[StageConfig]
    ) -> tuple[Batch, Batch, list[StageTrace]]:
        """Run the source batch through ``configs``, reusing outputs of an unchanged prefix."""
        batch = source = self.source_batch(pipeline)
        prefix: tuple = (self._source_key(pipeline),)
        rows = []
        for config in configs:
            prefix = (*prefix, _stage_key(config, pipeline.stream_of(config)))
            cached = self._outputs.get(prefix)
            if cached is None:
                started = time.perf_counter()
                with GeneratorPipeline(iter([batch]), pipeline.build(config)) as run:
                    out = next(run)
                cached = (out, StageTrace.of(config.name, out, time.perf_counter() - started))
                self._outputs[prefix] = cached
                while len(self._outputs) > _CACHE_SIZE:
                    self._outputs.popitem(last=False)
            else:
                self._outputs.move_to_end(prefix)
            batch = cached[0]
            rows.append(cached[1])
        return source, batch, rows

    def run_other(self, pipeline: Pipeline) -> LabRun:
        """``pipeline`` (not the lab's) run on the preview batch, sharing the cache of outputs."""
        return self._run(pipeline)

    def _run(self, pipeline: Pipeline) -> LabRun:
        started = time.perf_counter()
        source, batch, rows = self._run_chain(pipeline, [s for s in pipeline.stages if s.enabled])
        rows.insert(0, StageTrace.of("dataset", source, 0.0))
        return LabRun(batch, tuple(rows), time.perf_counter() - started)

    # -- editing ------------------------------------------------------------------------
    def apply(self, edit: Callable[[Pipeline], Any]) -> LabRun:
        """Apply ``edit`` to a copy of the pipeline and run the preview batch through it.

        The edit is kept only if it validates and runs; otherwise the exception propagates and
        the model still holds the last good pipeline and preview.
        """
        candidate = self.pipeline.copy()
        edit(candidate)
        return self._keep(candidate)

    def _keep(self, candidate: Pipeline) -> LabRun:
        """Run ``candidate`` on the preview batch and, if it runs, keep it."""
        run = self._run(candidate)
        self.pipeline, self.last = candidate, run
        self.sampler.sample()
        return run

    def set_params(self, stage: int | str, **params: Any) -> LabRun:
        """Change parameters of a stage (by position or name)."""
        return self.apply(lambda p: p.set_params(stage, **params))

    def enable(self, stage: int | str, enabled: bool = True) -> LabRun:
        """Switch a stage on or off."""
        return self.apply(lambda p: p.enable(stage, enabled))

    def move(self, stage: int | str, to: int) -> LabRun:
        """Move a stage to position ``to``."""
        last = len(self.pipeline.stages) - 1
        if not 0 <= to <= last:
            raise IndexError(f"cannot move a stage to position {to}; positions are 0 to {last}")
        return self.apply(lambda p: p.move(stage, to))

    def add(self, name: str, index: int | None = None, **params: Any) -> LabRun:
        """Insert a registered stage at ``index``, by default where it belongs (:meth:`place_for`)."""
        at = self.place_for(name) if index is None else index
        return self.apply(lambda p: p.add(name, at, **params))

    def place_for(self, name: str) -> int:
        """Where a new stage goes by default.

        A per-image op goes after the chain's last per-image op (or after the
        :data:`ORIGINAL_STAGES` when there is none), and always before batch mixing
        (``cutmix``, ``mixup``), ``rescale_images`` and ``shuffle_samples``; a mixing op goes
        after the last op of any kind; a pipeline stage goes at the end.
        """
        stages = self.pipeline.stages
        kind = registry.get(name).kind
        if kind == "stage":
            return len(stages)
        kinds = [registry.get(s.name).kind for s in stages]
        anchors = [
            i for i, k in enumerate(kinds) if k != "stage" and (kind == "mixing" or k != "mixing")
        ]
        originals = [i for i, s in enumerate(stages) if s.name in ORIGINAL_STAGES]
        at = (anchors or originals or [len(stages) - 1])[-1] + 1
        start = originals[-1] + 1 if originals else 0
        blockers = [
            i
            for i, (s, k) in enumerate(zip(stages, kinds))
            if i >= start and (s.name in LATE_STAGES or (k == "mixing" and kind != "mixing"))
        ]
        return min([at, *blockers])

    def use(self, pipeline: Pipeline) -> LabRun:
        """Show ``pipeline`` (a whole other chain, say the compare view's A) on the same batch."""
        return self._keep(pipeline.copy())

    def remove(self, stage: int | str) -> LabRun:
        """Remove a stage."""
        return self.apply(lambda p: p.remove(stage))

    def set_source(self, **params: Any) -> LabRun:
        """Change source settings (``batch_size``, ``shuffle``); the preview restarts at batch 0."""
        old = (self.epoch, self.batch_index)
        self.epoch = self.batch_index = 0

        unknown = sorted(set(params) - {"batch_size", "shuffle", "drop_last"})
        if unknown:
            raise ValueError(f"dataset: parameter {unknown[0]!r} cannot be changed in the lab")

        def edit(p: Pipeline) -> None:
            p.set_source(**params)

        try:
            return self.apply(edit)
        except Exception:
            self.epoch, self.batch_index = old
            raise

    def next_batch(self) -> LabRun:
        """Show the next source batch (the first of the next epoch after the last)."""
        self.batch_index += 1
        if self.batch_index >= len(self.pipeline):
            self.epoch, self.batch_index = self.epoch + 1, 0
        self.last = self._run(self.pipeline)
        self.sampler.sample()
        return self.last

    def new_draw(self) -> LabRun:
        """Draw the random augmentations anew on the same images.

        Raises the pipeline's ``augment_seed`` (mixed into the draws of every op) and the
        ``seed`` parameter of a classic ``augment`` stage: the source batch stays the same,
        and the exported pipeline carries the new values, so it rebuilds exactly this batch.
        With no random stage at all, the pipeline seed moves on instead (which also reorders
        a shuffled dataset).
        """

        def edit(p: Pipeline) -> None:
            streamed = any(registry.get(s.name).streamed for s in p.stages)
            classic = [i for i, s in enumerate(p.stages) if s.name == "augment"]
            if streamed:
                p.augment_seed += 1
            for i in classic:
                p.set_params(i, seed=p.stages[i].params["seed"] + 1)
            if not (streamed or classic):
                p.seed += 1

        return self.apply(edit)

    def load(
        self,
        spec_or_path: dict | str | os.PathLike,
        epoch: int | None = None,
        batch_index: int | None = None,
    ) -> LabRun:
        """Replace the pipeline by one loaded from a spec dict or a JSON spec file.

        The preview shows batch ``batch_index`` of epoch ``epoch``: by default the position
        an export saved beside the file (:mod:`genlab.lab.lab_files`), else batch 0 of epoch 0;
        with the spec's ``augment_seed`` this is the grid that was exported.
        """
        if isinstance(spec_or_path, dict):
            pipeline = pipeline_from_spec(copy.deepcopy(spec_or_path))
            saved = None
        else:
            pipeline = load_spec(spec_or_path)
            saved = read_position(spec_or_path)
        saved_epoch, saved_batch = saved or (0, 0)
        old = (self.pipeline, self.epoch, self.batch_index)
        self.epoch = saved_epoch if epoch is None else epoch
        self.batch_index = saved_batch if batch_index is None else batch_index
        try:
            run = self._run(pipeline)
        except Exception:
            self.pipeline, self.epoch, self.batch_index = old
            raise
        self.pipeline, self.last = pipeline, run
        return run

    # -- views ----------------------------------------------------------------------------
    def original(self) -> Batch:
        """The preview's source batch through the :data:`ORIGINAL_STAGES` only (no augmentation)."""
        configs = [s for s in self.pipeline.stages if s.enabled and s.name in ORIGINAL_STAGES]
        return self._run_chain(self.pipeline, configs)[1]

    def original_pairs(self) -> tuple[Batch, Batch]:
        """The original and the processed preview batch, aligned sample by sample by their keys."""
        original, processed = self.original(), self.last.batch
        keys_o, keys_p = original.info.keys, processed.info.keys
        if keys_o is None or keys_p is None:
            n = min(original.size, processed.size)
            return original.select(np.arange(n)), processed.select(np.arange(n))
        position = {int(k): i for i, k in enumerate(keys_o)}
        keep = [i for i, k in enumerate(keys_p) if int(k) in position]
        return original.select([position[int(keys_p[i])] for i in keep]), processed.select(keep)

    def draws(self, n: int = 16, sample: int = 0, pipeline: Pipeline | None = None) -> Batch:
        """One sample of the source batch under ``n`` draws (seeds ``seed`` .. ``seed + n - 1``).

        The enabled chain (of ``pipeline``, by default the lab's) runs ``n`` times; the leading
        :data:`ORIGINAL_STAGES` (reading, which draws nothing) run once and are reused.
        """
        pipeline = pipeline or self.pipeline
        configs = [s for s in pipeline.stages if s.enabled]
        lead = 0
        while lead < len(configs) and _reusable(configs[lead]):
            lead += 1
        batch = self._run_chain(pipeline, configs[:lead])[1]
        return self._draw_runs(batch, configs[lead:], n, sample, pipeline)

    def op_draws(self, stage: int | str, n: int = 16, sample: int = 0) -> Batch:
        """One sample of the preview under one stage alone, ``n`` draws: what this op does.

        The image is the sample as the :data:`ORIGINAL_STAGES` leave it (read, not augmented);
        the stage (enabled or not, by position or name) runs alone on it from its own random
        stream, with the batch seed moved through ``seed`` .. ``seed + n - 1`` as in
        :meth:`draws`. ``info.applied`` holds, per draw, the records it added (empty when the
        op was not applied). A stage that mixes samples (MixUp) gets the whole batch, so
        its partners are the preview's other images.
        """
        config = self.pipeline.stage(stage)
        if config.name in ORIGINAL_STAGES:
            batch = self.source_batch()
        else:
            batch = self.original()
        return self._draw_runs(batch, [config], n, sample)

    def _draw_runs(
        self,
        batch: Batch,
        configs: list[StageConfig],
        n: int,
        sample: int,
        pipeline: Pipeline | None = None,
    ) -> Batch:
        """Sample ``sample`` of ``batch`` through ``configs``, ``n`` times with seeds seed + k."""
        if not 0 <= sample < batch.size:
            raise IndexError(f"sample {sample} out of range for a batch of {batch.size}")
        key = None if batch.info.keys is None else int(batch.info.keys[sample])
        whole = any(registry.get(c.name).kind == "mixing" for c in configs)
        if not whole:
            batch, sample = batch.select([sample]), 0
        pipeline = pipeline or self.pipeline
        outputs = []
        for k in range(n):
            seeded = batch.replace(seed=pipeline.seed + k)
            with GeneratorPipeline(iter([seeded]), *[pipeline.build(c) for c in configs]) as run:
                out = next(run)
            keys = out.info.keys
            at = sample if key is None or keys is None else [int(v) for v in keys].index(key)
            outputs.append(out.select([at]))
        return _stack(outputs)

    def class_counts(self) -> dict[str, float]:
        """How many samples of each class the preview batch holds (every class listed).

        A sample counts once for each of its labels; a soft label (batch mixing) counts its
        fraction, so the counts add up to the batch size. Whole counts are ``int``.
        """
        names = self.pipeline.class_names
        counts = np.asarray(self.last.batch.y, dtype=np.float64).sum(axis=0)
        return {
            name: int(c) if float(c).is_integer() else round(float(c), 2)
            for name, c in zip(names, counts)
        }

    def memory_figures(self) -> MemoryFigures:
        """The cost of the configured pipeline, measured on the preview batch."""
        batch = self.last.batch
        x = batch.x
        rows = self.last.rows
        n_images = len(self.pipeline.index)
        if isinstance(x, np.ndarray) and x.ndim == 4:
            eager_shape = (n_images, *x.shape[1:])
            eager_dtype = str(x.dtype)
            eager = memory.eager_cost(n_images, x.shape[1:3], x.shape[3], x.dtype)
            workers = self.pipeline.num_workers
            streaming = memory.streaming_footprint(
                x.shape, x.dtype, prefetch=self.pipeline.prefetch if workers else 1, workers=workers
            )
        else:
            eager_shape, eager_dtype, eager, streaming = (n_images,), "paths", 0, 0
        return MemoryFigures(
            n_images=n_images,
            batch_bytes=rows[-1].nbytes,
            largest_stage_bytes=max(r.nbytes for r in rows),
            streaming_bytes=streaming,
            eager_bytes=eager,
            eager_shape=eager_shape,
            eager_dtype=eager_dtype,
            rss_bytes=self.sampler.samples()[-1].rss if self.sampler.samples() else 0,
        )

    # -- export ---------------------------------------------------------------------------
    def export(self, stem: str | os.PathLike | None = None) -> ExportResult:
        """Return a copy of the pipeline and, given ``stem``, write ``stem.json`` and ``stem.py``
        (:func:`~genlab.lab.lab_files.export_pipeline`).

        Iterating the returned (or reloaded) pipeline over epoch ``epoch`` gives, as batch
        ``batch_index``, exactly the preview batch; :meth:`load` of ``stem.json`` shows it again.
        """
        return export_pipeline(self.pipeline, stem, self.epoch, self.batch_index)
