"""Tar shards in the WebDataset layout as a streaming dataset (local, HTTP, S3, any fsspec URL).

``shards`` is a brace pattern (``"s3://bucket/train-{000000..000099}.tar"``), a list of URLs, or
a folder (its ``*.tar`` files, sorted). Each sample is an image member (``.jpg``, ``.png``,
``.webp``, ...) and a label member: ``.cls`` (a class index or name), ``.txt`` (a name, or names
joined by ``label_separator``) or ``.json`` (a number, a name, a list of names, or an object with
a ``"label"`` / ``"labels"`` entry). A ``.json`` object may also hold the sample's
``"targets"`` (boxes, masks, keypoints: :func:`genlab.targets_io.targets_to_json`, ``xyxy``
pixels, as ``materialize`` writes them), and a ``.mask.png`` member its semantic class-id mask;
batches then carry them in ``info.targets``.

An epoch streams the shards once, in an order reshuffled per epoch from the seed, through a
bounded sample buffer (``shuffle_buffer`` samples: memory is bounded by it; the mixing is
approximate, as it must be for a stream). A split of the pipeline (``Pipeline.shard``, a torch
DataLoader worker, a rank) takes every ``count``-th shard of the epoch's order, so the same seed,
shard list and split give the same batches. A sample's key is ``shard position * 2**32 + sample
number in the shard``: stable across epochs, processes and splits.

The class names and per-shard sample counts come from ``class_names`` when given, from the
``manifest.json`` that :func:`genlab.integrations.dask.materialize` writes beside its shards, or
else from one scanning pass over the shards (made once, when first needed).
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..batch import Batch
from ..targets import TargetFormat, Targets
from ..targets_io import targets_from_json
from . import storage
from .discover import IMAGE_EXTENSIONS
from .labels import class_positions, label_rows
from .streaming import shard_order, stream_batches
from .tar_stream import Skip, iter_samples

__all__ = ["ShardIndex", "expand_shards", "index_shards", "shard_batches", "MANIFEST_NAME"]

MANIFEST_NAME = "manifest.json"
IMAGE_FIELDS = tuple(e.lstrip(".") for e in IMAGE_EXTENSIONS)
LABEL_FIELDS = ("cls", "txt", "json")
_BRACE = re.compile(r"\{([^{}]*)\}")
KEY_STRIDE = 2**32
MAX_SHARDS = 1_000_000
"""A brace pattern or list naming more shards than this is refused (a typo, not a dataset)."""


def _brace_options(body: str) -> list[str]:
    match = re.fullmatch(r"(\d+)\.\.(\d+)", body)
    if match:
        low, high = match.groups()
        width = len(low) if low.startswith("0") or len(low) == len(high) else 0
        if int(high) < int(low):
            raise ValueError(f"shards: brace range {{{body}}} runs backwards")
        return [str(i).zfill(width) for i in range(int(low), int(high) + 1)]
    if "," in body:
        return body.split(",")
    raise ValueError(f"shards: cannot expand {{{body}}}; use {{000..099}} or {{a,b}}")


def _brace_count(body: str) -> int:
    match = re.fullmatch(r"(\d+)\.\.(\d+)", body)
    return int(match[2]) - int(match[1]) + 1 if match else len(body.split(","))


def expand_braces(pattern: str) -> list[str]:
    """Expand ``{000..003}`` ranges (zero padding kept) and ``{a,b}`` lists, as webdataset does.

    A pattern naming more than ``MAX_SHARDS`` shards is refused before anything is expanded.

    >>> expand_braces("s3://b/train-{00..02}.tar")
    ['s3://b/train-00.tar', 's3://b/train-01.tar', 's3://b/train-02.tar']
    >>> expand_braces("{a,b}-{1..2}")
    ['a-1', 'a-2', 'b-1', 'b-2']
    """
    parts = _BRACE.split(pattern)
    total = 1
    for body in parts[1::2]:
        total *= max(_brace_count(body), 0)
    if total > MAX_SHARDS:
        raise ValueError(
            f"shards: {pattern[:200]!r} expands to {total} names, more than the limit of {MAX_SHARDS}"
        )
    options = [[p] if i % 2 == 0 else _brace_options(p) for i, p in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*options)]


def expand_shards(shards: str | Sequence[str], policy=None) -> tuple[str, ...]:
    """The shard URLs of a brace pattern, a list, or a folder (its ``*.tar`` files, sorted)."""
    if isinstance(shards, (list, tuple)):
        urls = [u for s in shards for u in expand_braces(str(s))]
    elif _BRACE.search(str(shards)):
        urls = expand_braces(str(shards))
    elif str(shards).lower().endswith(".tar"):
        urls = [str(shards)]
    else:
        root = str(shards)
        if not storage.is_url(root) and not storage.is_dir(root):
            raise FileNotFoundError(
                f"shards: {root!r} is not a .tar file, a brace pattern or a folder"
            )
        urls = [
            storage.join(root, rel)
            for rel in storage.walk_files(root, policy)
            if rel.lower().endswith(".tar")
        ]
        if not urls:
            raise FileNotFoundError(f"shards: folder {root!r} holds no .tar files")
    if not urls:
        raise ValueError("shards: no shard given")
    return tuple(urls)


# --- labels ----------------------------------------------------------------------------------------


def _raw_label(fields: dict) -> object:
    """The label value of a sample's fields, or raise KeyError/ValueError saying what is wrong."""
    if "cls" in fields:
        text = _label_text(fields, "cls").strip()
        return int(text) if re.fullmatch(r"-?\d{1,18}", text) else text
    if "txt" in fields:
        return _label_text(fields, "txt").strip()
    if "json" in fields:
        try:
            value = json.loads(_label_text(fields, "json"))
        except json.JSONDecodeError as e:
            raise ValueError(f".json label member is not JSON: {e}") from None
        except RecursionError:
            raise ValueError(".json label member is nested too deeply") from None
        if isinstance(value, dict):
            for name in ("labels", "label", "cls", "class"):
                if name in value:
                    return value[name]
            raise ValueError(
                f"json label has none of the keys 'labels', 'label', 'cls', 'class': {sorted(value)}"
            )
        return value
    raise KeyError(f"no label member (one of {['.' + f for f in LABEL_FIELDS]})")


def _label_text(fields: dict, ext: str) -> str:
    try:
        return fields[ext].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f".{ext} label member is not UTF-8 text (byte {e.start})") from None


def _label_names(value: object, separator: str) -> list[object]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and separator:
        return [v for v in (p.strip() for p in value.split(separator)) if v]
    return [value]


def _image_field(fields: dict) -> str:
    for ext in fields:
        if ext in IMAGE_FIELDS:
            return ext
    raise KeyError(f"no image member (one of {['.' + f for f in IMAGE_FIELDS[:6]]}, ...)")


# --- the listing -------------------------------------------------------------------------------------


@dataclass
class ShardIndex:
    """The shards of a dataset, their class names and (once known) their sample counts."""

    urls: tuple[str, ...]
    class_names: tuple[str, ...]
    multi_label: bool
    counts: tuple[int, ...] | None = None
    ignored: tuple[tuple[str, str], ...] = field(default=())
    label_separator: str = ""
    target_format: Any = None

    def __len__(self) -> int:
        """Samples in all shards (the counts are made by one scanning pass if not known)."""
        return sum(self.sample_counts())

    def sample_counts(self, policy=None) -> tuple[int, ...]:
        """The number of samples in each shard, read from the shards once when not yet known."""
        if self.counts is None:
            self.counts = scan_shards(self.urls, policy, self.label_separator)[0]
        return self.counts

    @functools.cached_property
    def positions(self) -> dict[str, int]:
        """``{class name: column}``, made once."""
        return class_positions(self.class_names)

    def encode(self, value: object) -> int | tuple[int, ...]:
        """The class code of a label value (multi-label: a tuple of codes); ValueError if unknown.

        :meth:`label_rows` makes a batch's one-hot (multi-hot) rows from these codes.
        """
        codes = []
        for item in _label_names(value, self.label_separator) if self.multi_label else [value]:
            if isinstance(item, int) and not isinstance(item, bool):
                if not 0 <= item < len(self.class_names):
                    raise ValueError(
                        f"class index {item} out of range for {len(self.class_names)} classes"
                    )
                codes.append(item)
            elif str(item) in self.positions:
                codes.append(self.positions[str(item)])
            else:
                raise ValueError(
                    f"label {item!r} is not one of the class names {list(self.class_names)[:10]}"
                )
        return tuple(codes) if self.multi_label else codes[0]

    def label_rows(self, codes: Sequence[int | tuple[int, ...]]) -> np.ndarray:
        """The one-hot (multi-label: multi-hot) int64 rows of samples' codes from :meth:`encode`."""
        return label_rows(codes, len(self.class_names), self.multi_label)

    def class_counts(self) -> dict[str, int]:
        """Not known without reading every label: an empty dict (see the preview batch instead)."""
        return {}


def scan_shards(
    urls: Sequence[str], policy=None, separator: str = ""
) -> tuple[tuple[int, ...], list[object], bool]:
    """One pass over every shard: its count of usable samples, all label values, multi-label or not."""
    counts, values, multi = [], [], False
    for url in urls:
        n = 0
        for item in iter_samples(url, policy):
            if isinstance(item, Skip):
                continue
            try:
                _image_field(item.fields)
                value = _raw_label(item.fields)
            except (KeyError, ValueError):
                continue
            names = _label_names(value, separator)
            multi = multi or isinstance(value, list) or len(names) != 1
            values.extend(names)
            n += 1
        counts.append(n)
    return tuple(counts), values, multi


def _read_manifest(urls: Sequence[str], policy) -> dict | None:
    folders = {u.rsplit("/", 1)[0] for u in urls}
    if len(folders) != 1:
        return None
    folder = folders.pop()
    url = f"{folder}/{MANIFEST_NAME}"
    try:
        manifest = json.loads(storage.read_bytes(url, policy))
    except (OSError, ValueError, RecursionError):  # none, or not JSON: another tool's file
        return None
    ours = isinstance(manifest, dict) and manifest.get("format") == "genlab.shards"
    if not ours or manifest.get("kind") != "tar":
        return None
    files = _manifest_counts(manifest, url)
    names = [u.rsplit("/", 1)[1] for u in urls]
    counts = tuple(files[n] for n in names) if all(n in files for n in names) else None
    return {
        "class_names": manifest["class_names"],
        "multi_label": bool(manifest.get("multi_label")),
        "counts": counts,
        "target_format": manifest.get("target_format"),
    }


def _manifest_counts(manifest: dict, url: str) -> dict[str, int]:
    """The sample count of each shard file a genlab manifest lists; ValueError if it is malformed."""
    names, multi, shards = (manifest.get(k) for k in ("class_names", "multi_label", "shards"))
    if not isinstance(names, list) or not all(isinstance(n, (str, int)) for n in names):
        raise ValueError(f"{url!r}: 'class_names' must be a list of class names, got {names!r:.80}")
    if not isinstance(multi, (bool, type(None))):
        raise ValueError(f"{url!r}: 'multi_label' must be true or false, got {multi!r:.80}")
    shards = [] if shards is None else shards
    if not isinstance(shards, list) or not all(
        isinstance(s, dict)
        and isinstance(s.get("file"), str)
        and isinstance(s.get("n"), int)
        and not isinstance(s.get("n"), bool)
        and s["n"] >= 0
        for s in shards
    ):
        raise ValueError(
            f"{url!r}: 'shards' must be a list of {{'file', 'n'}} objects (a file name and its "
            f"sample count), got {shards!r:.80}"
        )
    return {s["file"]: s["n"] for s in shards}


def index_shards(
    shards: str | Sequence[str],
    *,
    class_names: Sequence[str] | None = None,
    multi_label: bool | None = None,
    label_separator: str = "",
    policy=None,
) -> ShardIndex:
    """List a shard dataset: its URLs, class names, whether it is multi-label, and counts if known."""
    urls = expand_shards(shards, policy)
    counts = target_format = None
    found = _read_manifest(urls, policy) if class_names is None else None
    if found is not None:
        class_names, counts = found["class_names"], found["counts"]
        if found["target_format"] is not None:
            target_format = TargetFormat.from_dict(found["target_format"])
        multi_label = found["multi_label"] if multi_label is None else multi_label
    elif class_names is None:
        counts, values, multi = scan_shards(urls, policy, label_separator)
        if not values:
            raise ValueError(f"shards: no labelled sample in {urls[0]!r} .. {urls[-1]!r}")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            class_names = [str(i) for i in range(max(values) + 1)]
        else:
            class_names = sorted({str(v) for v in values})
        multi_label = multi if multi_label is None else multi_label
    names = tuple(str(c) for c in class_names)
    if not names:
        raise ValueError("shards: class_names is empty")
    return ShardIndex(
        urls, names, bool(multi_label), counts, label_separator=label_separator,
        target_format=target_format,
    )  # fmt: skip


# --- batches ------------------------------------------------------------------------------------------


def split_samples(
    index: ShardIndex, *, shuffle: bool, seed: int, epoch: int, split: tuple[int, int]
) -> int:
    """How many samples a split streams in ``epoch`` (from the per-shard counts)."""
    counts = index.sample_counts()
    return sum(
        counts[i]
        for i in shard_order(len(index.urls), shuffle=shuffle, seed=seed, epoch=epoch, split=split)
    )


def _stream(index: ShardIndex, order: list[int], policy, on_error: str) -> Iterator[tuple | Skip]:
    """``(key, name, image bytes, label code)`` per usable sample, and Skip records, in shard order."""
    for position in order:
        url = index.urls[position]
        for item in iter_samples(url, policy):
            if isinstance(item, Skip):
                if on_error == "raise":
                    raise OSError(f"shards: {item.where}: {item.reason}")
                yield item
                continue
            where = f"{url}#{item.key}"
            try:
                ext = _image_field(item.fields)
                y = index.encode(_raw_label(item.fields))
                targets = _sample_targets(item.fields)
            except (KeyError, ValueError) as e:
                reason = e.args[0] if e.args else str(e)
                if on_error == "raise":
                    raise ValueError(f"shards: sample {where!r}: {reason}") from e
                yield Skip(where, str(reason))
                continue
            yield (
                position * KEY_STRIDE + item.number,
                f"{where}.{ext}",
                item.fields[ext],
                y,
                targets,
            )


def _sample_targets(fields: dict):
    """A sample's :class:`~genlab.targets.Targets` from its ``.json`` ``"targets"`` and
    ``.mask.png`` members, None when it has neither; ValueError saying what is wrong."""
    record = json.loads(fields["json"].decode("utf-8")) if "json" in fields else None
    record = record.get("targets") if isinstance(record, dict) else None
    if record is None and "mask.png" not in fields:
        return None
    targets = targets_from_json(record, TargetFormat()) if record is not None else Targets()
    if "mask.png" in fields:
        try:
            mask = np.asarray(Image.open(io.BytesIO(fields["mask.png"])))
        except OSError as e:
            raise ValueError(f"mask.png cannot be read: {e}") from e
        if mask.ndim != 2:
            raise ValueError(f"mask.png must hold class ids (one channel), got shape {mask.shape}")
        targets = targets.replace(mask=mask.astype(np.uint8))
    return targets


def shard_batches(
    index: ShardIndex,
    *,
    batch_size: int,
    shuffle: bool,
    shuffle_buffer: int,
    drop_last: bool,
    seed: int,
    epoch: int,
    split: tuple[int, int] = (0, 1),
    policy=None,
    on_error: str = "skip",
) -> Iterator[Batch]:
    """One epoch of ``(image bytes, labels)`` batches streamed from the shards of ``split``.

    ``x`` is a list of the encoded images (``read_images`` decodes bytes as it reads paths);
    ``info.paths`` names each sample ``shard#key.ext``. Samples or shard tails that cannot be used
    are reported in the ``skipped`` of the next batch delivered (the last batch carries the rest).
    """
    order = shard_order(len(index.urls), shuffle=shuffle, seed=seed, epoch=epoch, split=split)
    return stream_batches(
        _stream(index, order, policy, on_error), index.class_names, index.multi_label,
        batch_size=batch_size,
        shuffle=shuffle, shuffle_buffer=shuffle_buffer, drop_last=drop_last, seed=seed,
        epoch=epoch, split=split, policy=policy, buffer_stream="shard-buffer", what="shards",
        target_format=index.target_format,
    )  # fmt: skip
