"""The layers contract (import-linter, configured in pyproject.toml) holds, and catches an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or shutil.which(
    "lint-imports"
)

pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed")


def _copy_tree(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "genlab", tmp_path / "genlab", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_layers_hold(tmp_path):
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, upward, broken",
    [
        (
            "registry.py",
            "from genlab import pipeline",
            "genlab.registry is not allowed to import genlab.pipeline",
        ),
        (
            "ops/geometry.py",
            "from genlab.stages import protocol",
            "genlab.ops is not allowed to import genlab.stages",
        ),
        ("batch.py", "import ipywidgets", "genlab.batch is not allowed to import ipywidgets"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path, module, upward, broken):
    root = _copy_tree(tmp_path)
    path = root / "genlab" / module
    path.write_text(
        path.read_text() + f"\n\ndef _late():\n    {upward}\n"
    )  # even inside a function
    result = _lint(root)
    assert result.returncode != 0
    assert broken in result.stdout
