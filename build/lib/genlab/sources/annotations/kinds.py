"""The source kinds of annotated data (see :mod:`genlab.sources.kinds` for the others)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...batch import Batch
from ...params import Bool, Choice, Param, Text
from ...targets import TargetFormat
from ..dataset import BATCH_PARAMS
from ..source_kind import SourceKind, _Names, _Table
from . import attach_targets
from .coco import index_coco
from .segfolder import index_segmentation
from .table import index_annotated_table
from .voc import index_voc
from .yolo import index_yolo

__all__ = ["ANNOTATED_KINDS", "TargetSettings"]


class TargetSettings(Param):
    """:class:`~genlab.targets.TargetFormat` settings (a dict, or a TargetFormat)."""

    kind = "targets"

    def coerce(self, value: Any) -> dict:
        """The settings as :meth:`~genlab.targets.TargetFormat.to_dict` gives them; pairs of keypoint names are
        checked against the file's keypoints when the source is listed."""
        if isinstance(value, TargetFormat):
            return value.to_dict()
        if not isinstance(value, dict):
            raise TypeError(f"must be a dict of target settings, got {value!r}")
        if value.get("keypoint_names"):
            return TargetFormat.from_dict(value).to_dict()
        # keypoint names come from the files: pairs are checked against them when listed
        pairs = {k: value.get(k, []) for k in ("flip_pairs", "skeleton")}
        for key, items in pairs.items():
            if isinstance(items, str) or not all(
                isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(n, str) for n in p)
                for p in items
            ):
                raise ValueError(f"{key} must be pairs of keypoint names, got {items!r}")
        checked = TargetFormat.from_dict({**value, "flip_pairs": [], "skeleton": []}).to_dict()
        return {**checked, **{k: [list(p) for p in v] for k, v in pairs.items()}}


def _common() -> dict[str, Param]:
    return {
        "targets": TargetSettings(
            TargetFormat().to_dict(),
            help="box format for exports, min_area, min_visibility, flip_pairs; names from the files",
        ),
        "on_error": Choice(
            "skip", choices=("skip", "raise"),
            help="a bad annotation is left out (warned, counted in report.ignored) or raises",
        ),
        **BATCH_PARAMS,
    }  # fmt: skip


class AnnotatedSource(SourceKind):
    """A source whose batches carry targets (:mod:`genlab.sources.annotations`)."""

    def batches(
        self, params: dict, listing: Any, *, seed: int, epoch: int, split: tuple[int, int]
    ) -> Iterator[Batch]:
        """The listing's batches, each sample with its targets."""
        for batch in super().batches(params, listing, seed=seed, epoch=epoch, split=split):
            yield attach_targets(batch, listing)


class CocoSource(AnnotatedSource):
    """A COCO annotation file (:mod:`genlab.sources.annotations.coco`)."""

    name, method, positional = "coco", "from_coco", "annotations"
    params = {
        "annotations": Text("", help="a COCO JSON file (path or fsspec URL)"),
        "images_root": Text("", help="the images' folder (default: beside the JSON, or its images/)"),
        "masks": Bool(True, help="decode instance masks (polygons, RLE)"),
        **_common(),
    }  # fmt: skip

    def listing(self, params: dict):
        """The COCO file's listing."""
        return index_coco(
            params["annotations"], params["images_root"], targets=params["targets"],
            masks=params["masks"], on_error=params["on_error"], policy=self.policy(params),
        )  # fmt: skip


class _FolderKind(AnnotatedSource):
    """A dataset folder listed by ``index``."""

    positional = "root"
    params = {
        "root": Text("", help="the dataset folder (local path or fsspec URL)"),
        "class_names": _Names(None, optional=True, help="the classes, in label order"),
        **_common(),
    }

    def listing(self, params: dict):
        """The folder's listing."""
        return self.index(
            params["root"], class_names=params["class_names"], targets=params["targets"],
            on_error=params["on_error"], policy=self.policy(params),
        )  # fmt: skip


class YoloSource(_FolderKind):
    """A YOLO folder (:mod:`genlab.sources.annotations.yolo`)."""

    name, method = "yolo", "from_yolo"

    @staticmethod
    def index(root, **kw):
        """List the folder (:func:`~genlab.sources.annotations.yolo.index_yolo`)."""
        return index_yolo(root, **kw)


class VocSource(_FolderKind):
    """A Pascal VOC folder (:mod:`genlab.sources.annotations.voc`)."""

    name, method = "voc", "from_voc"

    @staticmethod
    def index(root, **kw):
        """List the folder (:func:`~genlab.sources.annotations.voc.index_voc`)."""
        return index_voc(root, **kw)


class SegmentationSource(_FolderKind):
    """A semantic-segmentation folder (:mod:`genlab.sources.annotations.segfolder`)."""

    name, method = "segmentation", "from_segmentation"

    @staticmethod
    def index(root, **kw):
        """List the folder (:func:`~genlab.sources.annotations.segfolder.index_segmentation`)."""
        return index_segmentation(root, **kw)


class AnnotatedTableSource(AnnotatedSource):
    """A table of image paths with boxes / labels / mask-path columns
    (:mod:`genlab.sources.annotations.table`)."""

    name, method, positional = "annotated_table", "from_annotated_table", "table"
    params = {
        "table": _Table("", help="a CSV/Parquet path or URL, or the table's columns"),
        "path_column": Text("path", help="the column of image paths"),
        "boxes_column": Text("boxes", help="the column of each image's boxes (a list, or JSON text)"),
        "labels_column": Text("labels", help="the column of the boxes' classes"),
        "mask_column": Text("", help="the column of semantic mask paths (none when empty)"),
        "root": Text("", help="folder or fsspec URL the paths are relative to"),
        "class_names": _Names(None, optional=True, help="the classes, in label order"),
        **_common(),
    }  # fmt: skip

    def listing(self, params: dict):
        """The table's listing."""
        names = ("path_column", "boxes_column", "labels_column", "mask_column", "root", "class_names", "targets", "on_error")  # fmt: skip
        return index_annotated_table(
            params["table"], **{k: params[k] for k in names}, policy=self.policy(params)
        )


ANNOTATED_KINDS = (
    CocoSource(),
    YoloSource(),
    VocSource(),
    SegmentationSource(),
    AnnotatedTableSource(),
)
