"""Run every notebook in notebooks/ top to bottom with nbclient, as a fresh user would.

Each runs in a temporary copy of the folder (what it exports lands there), with genlab imported
from this checkout and the sample data written afresh into a temporary GENLAB_DATA. The committed notebooks must carry no outputs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_six_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_generators.ipynb",
        "02_image_pipeline.ipynb",
        "03_tuning_augmentation.ipynb",
        "04_export_and_train.ipynb",
        "05_bring_your_own_transforms.ipynb",
        "06_detection_and_segmentation.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: strip outputs"
            )


@pytest.fixture(scope="module")
def sample_data_home(tmp_path_factory):
    """A fresh GENLAB_DATA folder shared by the notebooks, as on a fresh install."""
    return tmp_path_factory.mktemp("genlab-data")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch, sample_data_home):
    workdir = tmp_path / "notebooks"
    shutil.copytree(path.parent, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    monkeypatch.setenv("GENLAB_DATA", str(sample_data_home))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(workdir / path.name, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []
    if path.name.startswith("03"):
        assert (workdir / "exported" / "tuned.json").exists()
        assert (workdir / "exported" / "tuned.py").exists()
        widget_views = [
            o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]  # fmt: skip
        assert widget_views, "the lab did not display"
