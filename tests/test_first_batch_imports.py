"""Nothing heavy on the first batch's path: local folders, tables and shards import none of
scikit-learn, scipy, pandas, pyarrow, fsspec, torch, albumentations or OpenCV."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shardfiles import write_shards

HEAVY = ("sklearn", "scipy", "pandas", "pyarrow", "fsspec", "torch", "albumentations", "cv2")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("pets")
    rng = np.random.default_rng(0)
    for name in ("cat", "dog", "owl"):
        (root / name).mkdir()
        for i in range(6):
            pixels = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.jpg", quality=90)
    return root


def heavy_modules_after_first_batch(build: str) -> list[str]:
    code = (
        "import sys, genlab\n"
        f"p = {build}\n"
        "x, y = next(iter(p))\n"
        "assert len(x) and y.dtype.name == 'int64', (len(x), y.dtype)\n"
        f"print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("workers", [0, 2])
def test_a_folder_pipeline_reaches_its_first_batch_with_no_heavy_import(folder, workers):
    build = (
        f"genlab.Pipeline.from_folder({str(folder)!r}, batch_size=4, seed=0, num_workers={workers})"
    )
    assert heavy_modules_after_first_batch(build) == []


def test_a_csv_table_imports_nothing_heavy_either(folder, tmp_path):
    rows = ["path,label"] + [f"{p},{p.parent.name}" for p in sorted(folder.glob("*/*.jpg"))]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    build = f"genlab.Pipeline.from_table({str(tmp_path / 't.csv')!r}, batch_size=4, seed=0)"
    assert heavy_modules_after_first_batch(build) == []


def test_local_shards_import_nothing_heavy(tmp_path):
    write_shards(tmp_path / "s", n_shards=2, per_shard=5)
    build = (
        f"genlab.Pipeline.from_shards({str(tmp_path / 's')!r}, batch_size=4, seed=0,"
        " class_names=['blue', 'green', 'red'])"
    )
    assert heavy_modules_after_first_batch(build) == []
