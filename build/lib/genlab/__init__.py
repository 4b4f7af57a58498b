"""genlab: build, understand and tune generator-based image data pipelines.

The classic form, stage by stage::

    from genlab import GeneratorPipeline, dataset, read_images, augment, rescale_images, shuffle_samples
    pipeline = GeneratorPipeline(
        dataset("/path/to/images"),
        read_images(),
        augment(rotate90=True),
        rescale_images(mean=[103.939, 116.779, 123.68]),
        shuffle_samples())
    for x_batch, y_batch in pipeline:
        ...

The reusable form, one object per configured chain::

    pipeline = genlab.Pipeline.from_folder("/path/to/images", batch_size=32, seed=0)
    for epoch in range(3):
        for x, y in pipeline:
            ...

``import genlab`` never imports Jupyter or widgets; those live in :mod:`genlab.lab`.
"""

from __future__ import annotations

from . import registry, transforms
from ._version import __version__
from .batch import Batch, BatchInfo
from .foreign import from_albumentations, from_torchvision, to_albumentations, to_torchvision
from .ops.decode import ImageReadError
from .params import Bool, Choice, Float, Floats, Int, Size, Text
from .pipeline import Pipeline, StageConfig
from .registry import register
from .report import RunReport
from .sample_data import ensure_sample_data, make_sample_data
from .sources import dataset, discover_images, index_folder
from .spec import load
from .stages import (
    GeneratorPipeline,
    StageError,
    read_images,
    rescale_images,
    shuffle_samples,
    stage,
    trace,
)
from .transforms import augment

__all__ = [
    "__version__",
    # the classic chain
    "GeneratorPipeline",
    "dataset",
    "discover_images",
    "read_images",
    "augment",
    "transforms",
    "rescale_images",
    "shuffle_samples",
    "trace",
    # the reusable object and its spec
    "Pipeline",
    "StageConfig",
    "load",
    # transforms you already train with (albumentations, torchvision v2)
    "from_albumentations",
    "from_torchvision",
    "to_albumentations",
    "to_torchvision",
    # writing stages
    "stage",
    "register",
    "registry",
    "Batch",
    "BatchInfo",
    "Int",
    "Float",
    "Bool",
    "Choice",
    "Size",
    "Floats",
    "Text",
    # data and errors
    "index_folder",
    "make_sample_data",
    "ensure_sample_data",
    "RunReport",
    "StageError",
    "ImageReadError",
]
