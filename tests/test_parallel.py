"""Worker processes: same bytes as in-process, bounded prefetch, and a clean stop every way."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import psutil
import pytest

import genlab
from genlab import Pipeline
from genlab.parallel import MemoryBudgetWarning, ParallelIterator, estimate_memory, iter_parallel
from genlab.stages.protocol import StageError, stage

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="worker tests use fork and POSIX signals"
)

SMALL = [("read_images", {"target_size": (32, 24)}), ("augment", {"hflip": 0.5, "rotate90": 0.5}),
         ("rescale_images", {"mean": (103.939, 116.779, 123.68)}), ("shuffle_samples", {})]  # fmt: skip
REPO = Path(genlab.__file__).resolve().parent.parent


def small_pipeline(root, num_workers=0, batch_size=8, **kw) -> Pipeline:
    """A pipeline with worker processes (this module tests them; threads: test_read_decoders.py)."""
    kw.setdefault("worker_kind", "process")
    return Pipeline.from_folder(root, batch_size=batch_size, seed=3, stages=kw.pop("stages", SMALL),
                                num_workers=num_workers, **kw)  # fmt: skip


def gone(pids, timeout=10.0) -> bool:
    """True when none of ``pids`` is a live (non-zombie) process within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return True
        time.sleep(0.05)
    return False


def new_children(before: set[int]) -> list[int]:
    """This process's children that were not there ``before`` (others, such as multiprocessing's
    resource tracker started by an earlier test, live for the whole session)."""
    return [c.pid for c in psutil.Process().children() if c.pid not in before]


def children() -> set[int]:
    return {c.pid for c in psutil.Process().children()}


def shm_names() -> set[str]:
    """Named shared memory and semaphores made by multiprocessing (other programs' are ignored)."""
    names = os.listdir("/dev/shm") if os.path.isdir("/dev/shm") else []
    return {n for n in names if n.startswith(("psm_", "sem.mp-", "mp-"))}


def run_script(tmp_path, code: str, **popen) -> subprocess.Popen:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, **popen)  # fmt: skip


def with_broken_file(src, dest) -> Path:
    shutil.copytree(src, dest)
    first_class = sorted(p for p in Path(dest).iterdir() if p.is_dir())[0]
    (first_class / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    return Path(dest) / first_class.name / "broken.png"


@stage
def explode_on_third(batch):
    if batch.info.index == 2:
        raise ValueError(f"refusing batch {batch.info.index}")
    return batch


@stage
def sleepy(batch):
    time.sleep(0.3)
    return batch


# --- same results --------------------------------------------------------------------------


def test_same_seed_gives_identical_batches_with_0_1_2_3_workers(digits_root):
    def run(workers):
        return [
            (x.copy(), y.copy(), b.info)
            for b in small_pipeline(digits_root, workers)
            for x, y in [b]
        ]

    reference = run(0)
    assert len(reference) == 8 and reference[0][0].dtype == np.float32
    for workers in (1, 2, 3):
        got = run(workers)
        assert len(got) == len(reference)
        for (x0, y0, i0), (x1, y1, i1) in zip(reference, got, strict=True):
            assert x0.tobytes() == x1.tobytes() and np.array_equal(y0, y1)
            assert (
                i1.index == i0.index
                and np.array_equal(i1.keys, i0.keys)
                and i1.applied == i0.applied
            )


def test_batches_kept_by_the_consumer_are_never_overwritten(digits_root):
    kept = list(small_pipeline(digits_root, 2))  # holds every batch: the slots run dry
    fresh = [b.x.copy() for b in small_pipeline(digits_root, 0)]
    assert [b.info.index for b in kept] == list(range(8))
    assert all(a.tobytes() == b.x.tobytes() for a, b in zip(fresh, kept, strict=True))


def test_pipe_transport_gives_the_same_batches(digits_root):
    p = small_pipeline(digits_root, 2)
    with iter_parallel(p, 0, shared_memory=False) as piped:
        got = [b.x.tobytes() for b in piped]
    assert got == [b.x.tobytes() for b in small_pipeline(digits_root, 0).iter_epoch(0)]


def test_epochs_differ_and_each_matches_in_process(digits_root):
    p2, p0 = small_pipeline(digits_root, 2), small_pipeline(digits_root, 0)
    first = [b.info.keys.copy() for b in p2]
    second = [b.info.keys.copy() for b in p2]
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert all(
        np.array_equal(a, b.info.keys) for a, b in zip(second, p0.iter_epoch(1), strict=True)
    )


# --- bounded memory --------------------------------------------------------------------------


def test_prefetch_bounds_batches_taken_from_the_source(digits_root, monkeypatch):
    p = small_pipeline(digits_root, 2, batch_size=4, prefetch=2)  # 15 batches
    taken = []
    original = p.source_batches

    def counting(epoch):
        for batch in original(epoch):
            taken.append(batch.info.index)
            yield batch

    monkeypatch.setattr(p, "source_batches", counting)
    it = iter(p)
    next(it)
    time.sleep(0.5)  # let the workers run ahead as far as they may
    assert len(taken) <= 1 + 2 * 2
    next(it)
    time.sleep(0.3)
    assert len(taken) <= 2 + 2 * 2
    it.close()


def test_memory_estimate_counts_workers_prefetch_and_dtype(digits_root):
    p = small_pipeline(digits_root, 2, prefetch=3)
    e = estimate_memory(p)
    batch = 8 * 24 * 32 * 3 * 4
    assert e.batch_shape == (8, 24, 32, 3) and e.dtype == "float32" and e.batch_bytes == batch
    assert e.in_flight_bytes == batch * (2 * 3 + 2)
    assert estimate_memory(p, num_workers=4).total > e.total
    p.disable("rescale_images")
    assert estimate_memory(p).batch_bytes == batch // 4  # uint8 when nothing converts to float


def test_warns_before_a_run_that_would_not_fit_in_memory(digits_root):
    huge = [
        ("read_images", {"target_size": (8192, 8192)}),
        ("rescale_images", {"dtype": "float64"}),
    ]
    p = small_pipeline(digits_root, 2, batch_size=1024, stages=huge)
    with pytest.warns(MemoryBudgetWarning, match=r"would hold .*\(1024x8192x8192x3 float64"):
        it = ParallelIterator(p, 0)
    it.close()


# --- stopping cleanly --------------------------------------------------------------------------


def test_leaving_the_loop_early_stops_the_workers(digits_root):
    p = small_pipeline(digits_root, 2)
    before = children()
    batches = p.iter_epoch(0)
    next(batches)
    pids = new_children(before)
    assert len(pids) == 2
    for _ in batches:
        break
    batches.close()
    assert gone(pids)


def test_close_stops_workers_and_leaks_no_shared_memory(digits_root):
    before = shm_names()
    it = iter_parallel(small_pipeline(digits_root, 2), 0)
    x, _ = next(it)
    pids = it.pids
    it.close()
    it.close()  # twice is fine
    assert gone(pids)
    assert x.shape == (8, 24, 32, 3) and np.isfinite(x).all()  # still readable after close
    assert shm_names() == before
    with pytest.raises(StopIteration):
        next(it)


def test_garbage_collected_iterator_stops_its_workers(digits_root):
    before = children()
    it = iter(small_pipeline(digits_root, 2))
    next(it)
    pids = new_children(before)
    del it
    gc.collect()
    assert pids and gone(pids)


def test_read_error_in_a_worker_names_stage_and_file(digits_root, tmp_path):
    broken = with_broken_file(digits_root, tmp_path / "data")
    stages = [("read_images", {"target_size": (32, 24), "on_error": "raise"})]
    p = small_pipeline(tmp_path / "data", 2, stages=stages, shuffle=False)
    before = children()
    with pytest.raises(StageError, match="read_images") as info:
        for _ in p:
            pass
    assert info.value.stage == "read_images"
    assert str(broken) in str(info.value) and "genlab worker" in str(info.value)
    assert "Traceback" in str(info.value.__cause__)
    assert gone(new_children(before))


def test_exception_in_a_users_stage_is_raised_in_order(digits_root):
    p = small_pipeline(digits_root, 2, stages=SMALL[:1] + [("explode_on_third", {})])
    seen = []
    with pytest.raises(StageError, match="explode_on_third.*refusing batch 2"):
        for b in p:
            seen.append(b.info.index)
    assert seen == [0, 1]


def test_skipped_files_are_counted_and_warned_in_the_consumer(digits_root, tmp_path):
    broken = with_broken_file(digits_root, tmp_path / "data")
    p = small_pipeline(tmp_path / "data", 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n = sum(len(y) for _, y in p)
    assert n == 60 and p.report.samples == 60
    assert [path for path, _ in p.report.skipped] == [str(broken)]
    assert any(str(broken) in str(w.message) for w in caught)


def test_a_killed_worker_raises_instead_of_hanging(digits_root):
    p = small_pipeline(digits_root, 2, stages=SMALL[:1] + [("sleepy", {})])
    it = iter_parallel(p, 0)
    next(it)
    os.kill(it.pids[1], signal.SIGKILL)
    with pytest.raises(RuntimeError, match=r"worker 1 .* killed by signal 9"):
        for _ in it:
            pass
    assert gone(it.pids)


def test_timeout_raises_and_stops_workers(digits_root):
    p = small_pipeline(digits_root, 1, stages=SMALL[:1] + [("sleepy", {})])
    it = iter_parallel(p, 0, timeout=0.05)
    with pytest.raises(TimeoutError, match="no batch"):
        next(it)
    assert gone(it.pids)


def test_keyboard_interrupt_stops_consumer_and_workers(digits_root, tmp_path):
    proc = run_script(tmp_path, f"""
        import os, time, psutil, genlab
        p = genlab.Pipeline.from_folder({str(digits_root)!r}, batch_size=2, num_workers=2, worker_kind='process',
                                        stages=[("read_images", {{"target_size": (32, 32)}})])
        try:
            for i, batch in enumerate(p):
                if i == 0:
                    print("workers", *[c.pid for c in psutil.Process().children()], flush=True)
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """, start_new_session=True)  # fmt: skip
    line = proc.stdout.readline().split()
    assert line[0] == "workers", proc.stderr.read()
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    out, err = proc.communicate(timeout=20)
    assert "interrupted" in out, err
    assert gone([int(pid) for pid in line[1:]])


def test_workers_exit_when_the_consumer_process_is_killed(digits_root, tmp_path):
    proc = run_script(tmp_path, f"""
        import time, psutil, genlab
        p = genlab.Pipeline.from_folder({str(digits_root)!r}, batch_size=2, num_workers=2, worker_kind='process',
                                        stages=[("read_images", {{"target_size": (32, 32)}})])
        it = iter(p)
        next(it)
        print(*[c.pid for c in psutil.Process().children()], flush=True)
        time.sleep(60)
    """)  # fmt: skip
    pids = [int(pid) for pid in proc.stdout.readline().split()]
    assert len(pids) >= 2, proc.stderr.read()
    proc.kill()
    proc.wait(10)
    assert gone(pids, timeout=10)


def _start_workers_in_a_daemon(root, answers):
    try:
        iter_parallel(small_pipeline(root, 2), 0)
    except ValueError as e:
        answers.put(str(e))
    else:
        answers.put("started")


def test_workers_inside_a_daemon_process_are_refused_clearly(digits_root):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    daemon = context.Process(
        target=_start_workers_in_a_daemon, args=(digits_root, answers), daemon=True
    )
    daemon.start()
    answer = answers.get(timeout=30)
    daemon.join(10)
    assert "daemon process" in answer and "num_workers=0" in answer


# --- notebooks, __main__ and start methods -----------------------------------------------------


def test_a_stage_defined_in_main_runs_in_workers(digits_root, tmp_path):
    proc = run_script(tmp_path, f"""
        import numpy as np, genlab
        from genlab import stage

        @stage
        def invert(batch):
            return batch.replace(x=255 - batch.x)

        stages = [("read_images", {{"target_size": (16, 16)}}), ("invert", {{}})]
        sums = []
        for workers in (0, 2):
            p = genlab.Pipeline.from_folder({str(digits_root)!r}, batch_size=8, num_workers=workers, worker_kind='process', stages=stages)
            sums.append([int(x.sum()) for x, y in p])
        print("same" if sums[0] == sums[1] else f"different {{sums}}")
    """)  # fmt: skip
    out, err = proc.communicate(timeout=60)
    assert out.strip() == "same", err


def test_spawn_workers_rebuild_the_pipeline_from_its_spec(digits_root):
    before = shm_names()
    p = small_pipeline(digits_root, 2)
    with iter_parallel(p, 0, start_method="spawn") as spawned:
        got = [b.x.tobytes() for b in spawned]
    assert got == [b.x.tobytes() for b in small_pipeline(digits_root, 0).iter_epoch(0)]
    assert shm_names() == before


def test_spawn_names_a_stage_the_workers_cannot_import(digits_root):
    p = small_pipeline(digits_root, 1, stages=SMALL[:1] + [("explode_on_third", {})])
    with pytest.raises(
        ValueError, match="unknown stage 'explode_on_third'.*register your stages in a module"
    ):
        with iter_parallel(p, 0, start_method="spawn") as spawned:
            next(spawned)


@pytest.mark.slow
def test_workers_run_a_stage_defined_in_a_notebook_cell(digits_root, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "import genlab\nfrom genlab import stage",
        "@stage\ndef darken(batch):\n    return batch.replace(x=batch.x // 2)",
        f"stages = [('read_images', {{'target_size': (16, 16)}}), ('darken', {{}})]\n"
        f"runs = {{w: [x.tobytes() for x, y in genlab.Pipeline.from_folder({str(digits_root)!r}, "
        f"batch_size=8, num_workers=w, worker_kind='process', stages=stages)] for w in (0, 2)}}\n"
        "assert runs[0] == runs[2] and len(runs[2]) == 8\nprint('workers ok')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
    client.execute()  # raises CellExecutionError naming the cell on any error
    assert "workers ok" in notebook.cells[-1].outputs[0]["text"]
