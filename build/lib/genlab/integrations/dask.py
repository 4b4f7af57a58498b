"""Dataset-wide passes on a ``dask.distributed`` cluster: statistics, validation, materialized shards.

Every pass cuts the dataset into tasks (lists of source batches or of files), runs them on the
cluster's workers, and combines the answers in dataset order, so the result equals what the same
pass gives in this process (``client=False``) for the same seed. The ``client`` argument of each
pass is a ``distributed.Client``, a scheduler address (``"tcp://10.0.0.5:8786"``), ``None`` for a
temporary ``LocalCluster`` on this machine, or ``False`` to run here without Dask.

``progress`` is ``None``, ``True`` (a tqdm bar) or a callable ``progress(done, total)`` called in
this process as tasks finish (the lab's statistics button uses it).

dask[distributed] is an optional extra, imported when a pass runs on a cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..batch import Batch, BatchInfo
from ..targets import TargetFormat
from ..targets_io import targets_from_json, targets_to_json
from ..validate import ValidationReport, check_file
from .parquet import write_parquet_task
from .shard_files import stored_samples, write_shard

__all__ = [
    "ChannelStats",
    "channel_stats",
    "validate_files",
    "materialize",
    "read_shard_manifest",
    "iter_shards",
    "local_client",
]

Progress = Callable[[int, int], Any]
SHARDS_FORMAT = "genlab.shards"
MANIFEST_NAME = "manifest.json"


# --- running tasks ------------------------------------------------------------------------------


@contextlib.contextmanager
def local_client(n_workers: int | None = None, **cluster_options: Any) -> Iterator[Any]:
    """A ``Client`` of a new ``LocalCluster`` (processes, one thread each), closed on exit."""
    from distributed import (
        Client,
        LocalCluster,
    )  # dask.distributed is heavy: only when a cluster is used

    options = {"processes": True, "threads_per_worker": 1, "dashboard_address": None}
    options.update(cluster_options)
    with LocalCluster(n_workers=n_workers, **options) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _client_for(client: Any) -> Iterator[Any]:
    if client is False:
        yield None
    elif client is None:
        with local_client() as new:
            yield new
    elif isinstance(client, str):
        from distributed import Client  # as above

        with Client(client) as new:
            yield new
    else:
        yield client


def _progress_callback(progress: bool | Progress | None, total: int, what: str) -> Progress:
    if progress is None or progress is False:
        return lambda done, total: None
    if progress is True:
        from tqdm.auto import tqdm  # only when a progress bar is shown

        bar = tqdm(total=total, desc=what, unit="task")

        def update(done: int, total: int) -> None:
            bar.update(done - bar.n)
            if done == total:
                bar.close()

        return update
    if not callable(progress):
        raise TypeError(f"progress must be None, True or a callable(done, total), got {progress!r}")
    return progress


def _run(
    func: Callable, shared: Any, tasks: Sequence[Any], client: Any, progress, what: str
) -> list:
    """``[func(shared, task) for task in tasks]``, on the cluster when ``client`` is one."""
    report = _progress_callback(progress, len(tasks), what)
    results: list = [None] * len(tasks)
    report(0, len(tasks))
    if client is None:
        for i, task in enumerate(tasks):
            results[i] = func(shared, task)
            report(i + 1, len(tasks))
        return results
    from distributed import as_completed  # as above

    # hash=False: equal data scattered by an earlier pass must not share (and lose) its key
    [shared_future] = client.scatter([shared], broadcast=True, hash=False)
    futures = [client.submit(func, shared_future, task, pure=False) for task in tasks]
    position = {future.key: i for i, future in enumerate(futures)}
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            results[position[future.key]] = future.result()
            report(done, len(tasks))
    finally:
        client.cancel(futures)
    return results


def _chunks(items: Sequence, size: int) -> list[list]:
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size!r}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


# --- per-channel statistics ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel mean and standard deviation of a dataset's pixels (population std)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    n_images: int
    n_pixels: int
    skipped: tuple[tuple[str, str], ...] = ()

    def rescale_params(self, scale: float = 1.0) -> dict:
        """``mean``/``std`` for ``rescale_images`` with that ``scale`` (it subtracts after scaling)."""
        return {
            "mean": tuple(m * scale for m in self.mean),
            "std": tuple(max(s * scale, 1e-6) for s in self.std),
        }

    def apply_to(self, pipeline, stage: str = "rescale_images"):
        """Set the mean and std of the pipeline's ``rescale_images`` stage from these numbers."""
        scale = pipeline.stage(stage).params.get("scale", 1.0)
        return pipeline.set_params(stage, **self.rescale_params(scale))


def _stats_pipeline(pipeline, until: str, skip: Sequence[str]):
    """A copy of ``pipeline`` that stops before ``until`` and leaves out the ``skip`` stages."""
    stats = pipeline.copy()
    names = [s.name for s in stats.stages]
    if until in names:
        del stats.stages[names.index(until) :]
    for config in stats.stages:
        if config.name in skip:
            config.enabled = False
    return stats


def _stats_task(pipeline, batches: list[Batch]) -> list[tuple]:
    partials = []
    for source in batches:
        batch = pipeline.run_stages(source)
        x = np.asarray(batch.x)
        if x.ndim != 4:
            raise ValueError(
                f"channel_stats: stages before the statistics must give N x H x W x C images, "
                f"got shape {x.shape!r}"
            )
        exact = np.issubdtype(x.dtype, np.integer)
        wide = x.astype(np.int64 if exact else np.float64)
        partials.append((
            x.shape[0], x.shape[0] * x.shape[1] * x.shape[2],
            wide.sum(axis=(0, 1, 2)), (wide * wide).sum(axis=(0, 1, 2)),
            tuple(batch.info.skipped) if isinstance(batch, Batch) else (),
        ))  # fmt: skip
    return partials


def channel_stats(
    pipeline,
    *,
    client: Any = None,
    until: str = "rescale_images",
    skip: Sequence[str] = ("augment",),
    epoch: int = 0,
    batches_per_task: int = 4,
    progress: bool | Progress | None = None,
) -> ChannelStats:
    """Per-channel mean and std of the images as ``rescale_images`` would receive them.

    The enabled stages before ``until`` run, except those named in ``skip`` (augmentation, by
    default, so the numbers describe the data and not the random jitter). Integer pixels are summed
    exactly in int64, so the result does not depend on how the work was split.

    Parameters
    ----------
    pipeline : Pipeline
    client : Client, str, None or False
        Where to run (see the module docstring).
    until, skip
        Which stages the statistics see.
    epoch : int
        The epoch whose batches are read (they only differ in order, and in ``skip``-ed stages).
    batches_per_task : int
        Source batches per Dask task.
    progress : None, True or callable(done, total)

    Returns
    -------
    ChannelStats
        ``.apply_to(pipeline)`` fills ``rescale_images`` with the numbers.
    """
    stats_pipeline = _stats_pipeline(pipeline, until, skip)
    tasks = _chunks(list(stats_pipeline.source_batches(epoch)), batches_per_task)
    with _client_for(client) as running:
        results = _run(_stats_task, stats_pipeline, tasks, running, progress, "channel stats")
    partials = [p for result in results for p in result]
    n_images = sum(p[0] for p in partials)
    n_pixels = sum(p[1] for p in partials)
    if n_pixels == 0:
        raise ValueError(f"channel_stats: no image of {pipeline.source['root']!r} could be read")
    total, total_sq = partials[0][2], partials[0][3]
    for p in partials[1:]:  # in dataset order, so float sums equal the single-process ones
        total, total_sq = total + p[2], total_sq + p[3]
    mean = total / n_pixels
    variance = np.maximum(total_sq / n_pixels - mean * mean, 0.0)
    skipped = tuple(s for p in partials for s in p[4])
    return ChannelStats(
        tuple(float(m) for m in mean), tuple(float(s) for s in np.sqrt(variance)),
        n_images, n_pixels, skipped,
    )  # fmt: skip


# --- validation ------------------------------------------------------------------------------


def _validate_task(max_pixels: int | None, paths: list[str]) -> list[str | None]:
    return [check_file(path, max_pixels) for path in paths]


def validate_files(
    pipeline,
    *,
    client: Any = None,
    max_pixels: int | None = None,
    files_per_task: int = 64,
    progress: bool | Progress | None = None,
) -> ValidationReport:
    """Decode every file of the pipeline's dataset once and list the ones that fail, with reasons.

    The same report as :func:`genlab.validate.validate_dataset`, bad files in dataset order.
    """
    index = pipeline.index
    tasks = _chunks(list(index.paths), files_per_task)
    with _client_for(client) as running:
        results = _run(_validate_task, max_pixels, tasks, running, progress, "validate")
    report = ValidationReport(index.root, ignored=list(index.ignored))
    for paths, reasons in zip(tasks, results, strict=True):
        report.checked += len(paths)
        report.bad.extend((p, r) for p, r in zip(paths, reasons, strict=True) if r is not None)
    return report


# --- materialized shards -------------------------------------------------------------------


@dataclass
class _ShardJob:
    dest: str
    storage_options: dict = field(default_factory=dict)
    class_names: tuple[str, ...] = ()
    multi_label: bool = False


def _tar_member(tar, name: str, data: bytes) -> None:
    import tarfile  # only for tar shards

    member = tarfile.TarInfo(name)
    member.size, member.mtime, member.mode = len(data), 0, 0o644  # fixed: the same bytes every run
    tar.addfile(member, io.BytesIO(data))


def _tar_task(shared: tuple, task: tuple[int, list[Batch]]) -> list[dict]:
    """Write one WebDataset shard of the source batches ``task``; its manifest record."""
    import tarfile  # only for tar shards

    _pipeline, job = shared
    number, batches = task
    buffer, n, skipped = io.BytesIO(), 0, []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for batch in batches:
            for i, _path, data, ext in stored_samples(batch, skipped):
                key = (
                    f"{int(batch.info.keys[i]):012d}"
                    if batch.info.keys is not None
                    else f"{number:06d}-{n:06d}"
                )
                row = np.asarray(batch.y[i])
                targets = batch.info.targets[i] if batch.info.targets is not None else None
                if job.multi_label or targets is not None:
                    names = [job.class_names[j] for j in np.flatnonzero(row)]
                    record = {"labels": names} if job.multi_label else {"label": int(row.argmax())}
                    if targets is not None:  # xyxy pixels of the stored image
                        record["targets"] = targets_to_json(targets, TargetFormat())
                    label = (".json", json.dumps(record).encode())
                else:
                    label = (".cls", str(int(row.argmax())).encode())
                _tar_member(tar, f"{key}.{ext}", data)
                _tar_member(tar, key + label[0], label[1])
                n += 1
    return write_shard(job, f"shard-{number:06d}.tar", buffer.getvalue(), n, skipped)


def _shard_name(number: int) -> str:
    return f"batch-{number:06d}.npz"


def _materialize_task(shared: tuple, batches: list[Batch]) -> list[dict]:
    import fsspec  # as above

    pipeline, job = shared
    records = []
    for source in batches:
        batch = pipeline.run_stages(source)
        buffer = io.BytesIO()
        keys = batch.info.keys if batch.info.keys is not None else np.zeros(0, np.int64)
        np.savez_compressed(buffer, x=np.asarray(batch.x), y=np.asarray(batch.y), keys=keys)
        data = buffer.getvalue()
        if batch.info.targets is not None:  # beside it: one targets record per sample
            size = tuple(np.shape(batch.x)[1:3])
            records_json = [targets_to_json(t, TargetFormat(), size) for t in batch.info.targets]
            name = _shard_name(batch.info.index).replace(".npz", ".targets.json")
            with fsspec.open(posixpath.join(job.dest, name), "w", **job.storage_options) as f:
                json.dump(records_json, f)
        name = _shard_name(batch.info.index)
        with fsspec.open(posixpath.join(job.dest, name), "wb", **job.storage_options) as f:
            f.write(data)
        records.append({
            "file": name, "batch": batch.info.index, "n": len(batch.y),
            "x_shape": list(np.shape(batch.x)), "x_dtype": str(np.asarray(batch.x).dtype),
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "skipped": [list(s) for s in batch.info.skipped],
        })  # fmt: skip
    return records


def materialize(
    pipeline,
    dest: str,
    *,
    client: Any = None,
    epoch: int = 0,
    storage_options: dict | None = None,
    batches_per_task: int = 4,
    progress: bool | Progress | None = None,
    format: str = "npz",  # noqa: A002 - the word users know
) -> dict:
    """Run one epoch and write it under ``dest``: processed ``.npz`` batches, tar shards or Parquet.

    ``dest`` is any fsspec URL the workers can write to (a shared folder, ``s3://bucket/prefix``).

    ``format="npz"``: each batch, through the stages, as a compressed ``.npz`` holding ``x``,
    ``y`` and the sample ``keys``.

    ``format="tar"``: WebDataset shards ``shard-000000.tar``, ... of ``batches_per_task`` source
    batches each, in the epoch's (shuffled) order: every sample's image file as it is stored (no
    decode, no re-encode) and its label (``.cls``, a class index; multi-label: ``.json`` with the
    label names). The stages run when the shards are read back with ``Pipeline.from_shards(dest)``;
    a file that cannot be read is left out and listed in the shard's ``skipped``.

    ``manifest.json`` beside them records the pipeline's spec, the epoch, the class names and, per
    file, its sample count, size and SHA-256 (npz: also batch number, shape and dtype). Returns it.
    """
    import fsspec  # as above

    if format not in ("npz", "tar", "parquet"):
        raise ValueError(f"materialize: format must be 'npz', 'tar' or 'parquet', got {format!r}")
    options = dict(storage_options or {})
    fs, root = fsspec.core.url_to_fs(dest, **options)
    fs.makedirs(root, exist_ok=True)
    job = _ShardJob(dest.rstrip("/"), options)
    batches = list(pipeline.source_batches(epoch))
    if format == "tar":
        job.class_names, job.multi_label = tuple(pipeline.class_names), pipeline.multi_label
        tasks = list(enumerate(_chunks(batches, batches_per_task)))
        task = _tar_task
    elif format == "parquet":
        job.class_names, job.multi_label = tuple(pipeline.class_names), pipeline.multi_label
        chunks = _chunks(batches, batches_per_task)
        tasks, task = [(i, len(chunks), c) for i, c in enumerate(chunks)], write_parquet_task
    else:
        tasks, task = _chunks(batches, batches_per_task), _materialize_task
    with _client_for(client) as running:
        results = _run(task, (pipeline, job), tasks, running, progress, "materialize")
    shards = [record for result in results for record in result]
    manifest = {
        "format": SHARDS_FORMAT,
        "kind": format,
        "multi_label": pipeline.multi_label,
        "version": 1,
        "spec": pipeline.to_spec(),
        "epoch": epoch,
        "class_names": list(pipeline.class_names),
        **({"target_format": fmt.to_dict()} if (fmt := pipeline.target_format) is not None else {}),
        "n_batches": len(shards),
        "n_samples": sum(s["n"] for s in shards),
        "skipped": [s for record in shards for s in record["skipped"]],
        "shards": shards,
    }
    with fsspec.open(posixpath.join(job.dest, MANIFEST_NAME), "w", **options) as f:
        json.dump(manifest, f, indent=1)
    return manifest


def read_shard_manifest(dest: str, storage_options: dict | None = None) -> dict:
    """The manifest :func:`materialize` wrote under ``dest``."""
    import fsspec  # as above

    url = posixpath.join(dest.rstrip("/"), MANIFEST_NAME)
    with fsspec.open(url, "r", **(storage_options or {})) as f:
        manifest = json.load(f)
    if manifest.get("format") != SHARDS_FORMAT:
        raise ValueError(
            f"{url!r} is not a genlab shard manifest (format {manifest.get('format')!r})"
        )
    return manifest


def iter_shards(
    dest: str, storage_options: dict | None = None, *, verify: bool = True
) -> Iterator[Batch]:
    """Read back the batches :func:`materialize` wrote, in batch order.

    With ``verify`` each shard's SHA-256 is checked against the manifest; a mismatch is a
    ``ValueError`` naming the file.
    """
    import fsspec  # as above

    manifest = read_shard_manifest(dest, storage_options)
    if manifest.get("kind", "npz") != "npz":
        raise ValueError(
            f"{dest!r} holds tar shards: read them with genlab.Pipeline.from_shards({dest!r})"
        )
    class_names = tuple(manifest["class_names"])
    for record in manifest["shards"]:
        url = posixpath.join(dest.rstrip("/"), record["file"])
        with fsspec.open(url, "rb", **(storage_options or {})) as f:
            data = f.read()
        if verify and hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise ValueError(f"shard {url!r} does not match its SHA-256 in the manifest")
        with np.load(io.BytesIO(data)) as arrays:
            x, y, keys = arrays["x"], arrays["y"], arrays["keys"]
        info = BatchInfo(
            manifest["spec"].get("seed", 0), manifest["epoch"], record["batch"], keys,
            class_names=class_names,
        )  # fmt: skip
        if "target_format" in manifest:
            url = url.replace(".npz", ".targets.json")
            with fsspec.open(url, "r", **(storage_options or {})) as f:
                records = json.load(f)
            fmt = TargetFormat.from_dict(manifest["target_format"])
            targets = tuple(targets_from_json(r, TargetFormat()) for r in records)
            info = dataclasses.replace(info, targets=targets, target_format=fmt)
        yield Batch(x, y, info)
