"""The package as a whole: the core imports without Jupyter, the public names exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import genlab

JUPYTER_MODULES = (
    "ipywidgets", "IPython", "jupyterlab", "matplotlib.pyplot", "matplotlib", "torch", "dask",
    "torchvision", "albumentations", "cv2", "pandas", "pyarrow",
)  # fmt: skip


def test_core_import_pulls_in_no_jupyter_widgets_or_heavy_extras():
    code = (
        "import sys, genlab, genlab.pipeline, genlab.spec, genlab.validate, genlab.plotting, genlab.cli,"
        " genlab.transforms, genlab.sources.table, genlab.sources.shards;"
        f"print([m for m in {JUPYTER_MODULES!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_public_names_exist_and_keep_the_posts_names():
    for name in genlab.__all__:
        assert hasattr(genlab, name), name
    for name in ("dataset", "discover_images", "read_images", "augment", "rescale_images",
                 "shuffle_samples", "GeneratorPipeline", "Pipeline", "load"):  # fmt: skip
        assert name in genlab.__all__


def test_py_typed_is_shipped():
    assert (Path(genlab.__file__).parent / "py.typed").exists()
