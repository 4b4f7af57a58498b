"""Workers start producing when the epoch's iterator is made, before the first next()."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from genlab import Pipeline
from genlab.stages.protocol import stage

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process workers use fork")

MARKS: list[Path] = []  # the folder the stage below marks started batches in (inherited by fork)


@stage
def mark_started(batch):
    (MARKS[0] / f"batch-{batch.info.index}").touch()
    return batch


def wait_for(paths: list[Path], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(p.exists() for p in paths):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_iter_starts_the_workers_before_the_first_next(digits_root, tmp_path, kind, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "MARKS", [tmp_path])
    stages = [("read_images", {"target_size": (16, 16)}), ("mark_started", {})]
    p = Pipeline.from_folder(digits_root, batch_size=8, seed=1, stages=stages, num_workers=2,
                             worker_kind=kind)  # fmt: skip
    it = iter(p)
    # both workers are busy before anyone asked for a batch
    assert wait_for([tmp_path / "batch-0", tmp_path / "batch-1"])
    got = [(b.x.copy(), b.y.copy()) for b in it]
    reference = Pipeline.from_folder(digits_root, batch_size=8, seed=1, stages=stages)
    want = [(b.x, b.y) for b in reference]
    assert len(got) == len(want) == 8
    for (x0, y0), (x1, y1) in zip(want, got, strict=True):
        assert x0.tobytes() == x1.tobytes() and np.array_equal(y0, y1)
    assert p.report.batches == 8 and 0 < p.report.first_batch_seconds <= p.report.seconds


@pytest.mark.parametrize("workers", [0, 2])
def test_a_missing_folder_is_still_reported_by_the_first_next(tmp_path, workers):
    p = Pipeline.from_folder(tmp_path / "nowhere", num_workers=workers)
    it = iter(p)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        next(it)


EVENTS: list[tuple[str, int, float]] = []


@stage
def log_times(batch):
    EVENTS.append(("start", batch.info.index, time.monotonic()))
    time.sleep(0.2)
    EVENTS.append(("end", batch.info.index, time.monotonic()))
    return batch


def test_worker_threads_make_the_first_batch_alone_then_the_rest_together(digits_root):
    EVENTS.clear()
    stages = [("read_images", {"target_size": (16, 16)}), ("log_times", {})]
    p = Pipeline.from_folder(digits_root, batch_size=8, seed=1, stages=stages, num_workers=2,
                             worker_kind="thread")  # fmt: skip
    assert len(list(p)) == 8
    when = {(kind, index): t for kind, index, t in EVENTS}
    assert all(when[("start", i)] >= when[("end", 0)] for i in range(1, 8))
    # after it, two batches at a time: batch 2 starts before batch 1 ends
    assert when[("start", 2)] < when[("end", 1)]
