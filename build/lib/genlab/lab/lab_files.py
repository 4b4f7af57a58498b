"""The lab's files: where a spec's preview position is kept, and which specs a folder holds.

An export writes ``stem.json`` (the spec) and ``stem.py``; the lab adds ``stem.lab.json``, the
position its grid showed (``epoch`` and ``batch_index``; the draw is the spec's own
``augment_seed``), so that loading the spec shows the very grid that was exported. Widget-free.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_position(folder / "p.json", epoch=2, batch_index=1)
PosixPath('.../p.lab.json')
>>> read_position(folder / "p.json")
(2, 1)
>>> read_position(folder / "other.json") is None
True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from genlab.foreign import export_files
from genlab.pipeline import Pipeline

__all__ = [
    "ExportResult",
    "POSITION_SUFFIX",
    "export_pipeline",
    "find_specs",
    "position_path",
    "read_position",
    "write_position",
]

#: What follows a spec's stem in the name of its position file.
POSITION_SUFFIX = ".lab.json"
#: Folder names :func:`find_specs` does not enter.
_SKIPPED = {".ipynb_checkpoints", "__pycache__", ".git", "node_modules", ".venv", "venv"}
#: Spec files larger than this are not opened to check they are specs.
_LARGEST_SPEC = 2**20


def position_path(spec_path: str | os.PathLike) -> Path:
    """The position file beside ``spec_path`` (``p.json`` -> ``p.lab.json``)."""
    path = Path(spec_path)
    return path.with_name(path.name.removesuffix(".json") + POSITION_SUFFIX)


def write_position(spec_path: str | os.PathLike, *, epoch: int, batch_index: int) -> Path:
    """Write the preview position of ``spec_path``; returns the file written."""
    path = position_path(spec_path)
    path.write_text(json.dumps({"epoch": int(epoch), "batch_index": int(batch_index)}) + "\n")
    return path


def read_position(spec_path: str | os.PathLike) -> tuple[int, int] | None:
    """``(epoch, batch_index)`` saved beside ``spec_path``, or None when there is none.

    Raises
    ------
    ValueError
        The position file exists but does not hold two whole numbers (named in the message).
    """
    path = position_path(spec_path)
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
        epoch, batch_index = saved["epoch"], saved["batch_index"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a lab position file ({e})") from e
    if not all(isinstance(v, int) and v >= 0 for v in (epoch, batch_index)):
        raise ValueError(f"{path}: epoch and batch_index must be whole numbers >= 0, got {saved!r}")
    return epoch, batch_index


def _is_spec(path: Path) -> bool:
    if path.name.endswith(POSITION_SUFFIX) or path.stat().st_size > _LARGEST_SPEC:
        return False
    try:
        spec = json.loads(path.read_text())
    except (ValueError, OSError, UnicodeDecodeError):
        return False
    return isinstance(spec, dict) and "stages" in spec and "source" in spec


def find_specs(folder: str | os.PathLike = ".", limit: int = 200, depth: int = 4) -> list[Path]:
    """The genlab specs under ``folder`` (at most ``depth`` folders down), relative, sorted.

    Hidden folders and checkpoints are skipped; at most ``limit`` JSON files are opened.
    """
    root = Path(folder)
    found: list[Path] = []
    opened = 0
    for directory, subfolders, files in os.walk(root):
        here = Path(directory)
        level = len(here.relative_to(root).parts)
        subfolders[:] = sorted(
            d for d in subfolders if d not in _SKIPPED and not d.startswith(".") and level < depth
        )
        for name in sorted(files):
            if not name.endswith(".json") or opened >= limit:
                continue
            opened += 1
            if _is_spec(here / name):
                found.append((here / name).relative_to(root))
    return sorted(found)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_pipeline` wrote and the pipeline that rebuilds the preview."""

    pipeline: Pipeline
    spec_path: Path | None
    python_path: Path | None
    epoch: int
    batch_index: int
    #: The foreign stages in their libraries' own forms (albumentations JSON/YAML, torchvision .py).
    library_paths: tuple[Path, ...] = ()


def export_pipeline(
    pipeline: Pipeline, stem: str | os.PathLike | None, epoch: int, batch_index: int
) -> ExportResult:
    """Return a copy of ``pipeline`` and, given ``stem``, write ``stem.json`` and ``stem.py``.

    With albumentations or torchvision stages, their libraries' own forms are written too
    (``stem.albumentations.json``/``.yaml``, ``stem.torchvision.py``); ``stem.lab.json``
    keeps the preview's position (``epoch``, ``batch_index``).
    """

    pipeline = pipeline.copy()
    spec_path = python_path = None
    library_paths: tuple[Path, ...] = ()
    if stem is not None:
        stem = Path(stem)
        if stem.suffix in (".json", ".py"):
            stem = stem.with_suffix("")
        stem.parent.mkdir(parents=True, exist_ok=True)
        spec_path = Path(pipeline.save(stem.with_suffix(".json")))
        python_path = stem.with_suffix(".py")
        pipeline.to_python(python_path)
        library_paths = tuple(export_files(pipeline, stem))
        write_position(spec_path, epoch=epoch, batch_index=batch_index)
    return ExportResult(pipeline, spec_path, python_path, epoch, batch_index, library_paths)
