from __future__ import annotations

import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

from genlab.memory import (
    MemorySampler,
    ProcessMemory,
    batch_nbytes,
    check_memory_budget,
    eager_cost,
    format_bytes,
    nbytes_of,
    process_memory,
    streaming_footprint,
)

MiB = 2**20


# -- the post's arithmetic ---------------------------------------------------------------


def test_eager_cost_matches_the_post_for_float64():
    per_image = eager_cost(1, (256, 256), dtype="float64")
    assert per_image == 1.5 * MiB
    assert format_bytes(per_image) == "1.5 MiB"
    total = eager_cost(10_000, 256, dtype="float64")
    assert total == 10_000 * 256 * 256 * 3 * 8
    assert format_bytes(total) == "14.6 GiB"


@pytest.mark.parametrize(
    "dtype, expected, text",
    [
        ("uint8", 196_608, "192.0 KiB"),
        ("float32", 786_432, "768.0 KiB"),
        ("float16", 393_216, "384.0 KiB"),
    ],
)
def test_eager_cost_uses_the_configured_dtype(dtype, expected, text):
    assert eager_cost(1, 256, dtype=dtype) == expected
    assert format_bytes(eager_cost(1, 256, dtype=dtype)) == text
    assert eager_cost(7, (256, 256), channels=3, dtype=dtype) == 7 * expected


def test_eager_cost_rejects_a_bad_target_size():
    with pytest.raises(ValueError, match=r"target_size.*\(1, 2, 3\)"):
        eager_cost(1, (1, 2, 3))


@pytest.mark.parametrize(
    "shape, dtype",
    [
        ((256, 256, 3), "float64"),
        ((32, 224, 224, 3), np.uint8),
        ((5,), "int64"),
        ((0, 4), "f4"),
        ((), "f8"),
    ],
)
def test_nbytes_of_matches_a_real_array(shape, dtype):
    assert nbytes_of(shape, dtype) == np.empty(shape, dtype=dtype).nbytes


def test_nbytes_of_rejects_bad_shape_and_dtype():
    with pytest.raises(ValueError, match=r"\(3, -1\)"):
        nbytes_of((3, -1), "uint8")
    with pytest.raises(ValueError, match="'not-a-dtype'"):
        nbytes_of((3,), "not-a-dtype")


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (2**20 - 1, "1.0 MiB"),  # 1023.999 KiB rounds up to the next unit, not "1024.0 KiB"
        (2**40 * 3, "3.0 TiB"),
        (-3 * 2**20, "-3.0 MiB"),
    ],
)
def test_format_bytes_uses_binary_units(n, text):
    assert format_bytes(n) == text


# -- streaming footprint and budgets -----------------------------------------------------


def test_streaming_footprint_counts_batches_in_flight():
    batch = np.zeros((32, 64, 64, 3), dtype=np.float32)
    assert streaming_footprint(batch.shape, batch.dtype) == batch.nbytes
    assert streaming_footprint(batch.shape, batch.dtype, prefetch=2) == 2 * batch.nbytes
    assert streaming_footprint(batch.shape, batch.dtype, prefetch=2, workers=3) == 6 * batch.nbytes
    assert streaming_footprint(batch.shape, batch.dtype, prefetch=0, workers=0) == batch.nbytes


def test_streaming_footprint_is_far_below_eager_cost_for_the_post():
    eager = eager_cost(10_000, 256, dtype="float64")
    streaming = streaming_footprint((32, 256, 256, 3), "float64", prefetch=2)
    assert eager / streaming == pytest.approx(10_000 / 64)


@pytest.mark.parametrize("kwargs", [{"prefetch": -1}, {"workers": -2}, {"workers": 1.5}])
def test_streaming_footprint_rejects_bad_counts(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        streaming_footprint((2, 2), "uint8", **kwargs)


def test_batch_nbytes_counts_arrays_and_path_lists():
    x = np.zeros((4, 8, 8, 3), np.float32)
    y = np.zeros((4, 3), np.int64)
    assert batch_nbytes((x, y)) == x.nbytes + y.nbytes
    paths = ["a/b.png", "c/d.png"]
    assert (
        batch_nbytes((paths, y)) == sys.getsizeof(paths) + sum(map(sys.getsizeof, paths)) + y.nbytes
    )


def test_check_memory_budget_warns_for_an_absurd_budget():
    with pytest.warns(
        ResourceWarning, match=r"eager load of 1e9 images needs .* but only"
    ) as record:
        fits = check_memory_budget(10**18, "eager load of 1e9 images")
    assert fits is False
    assert record[0].filename == __file__  # stacklevel=2 points at the caller


def test_check_memory_budget_is_quiet_when_it_fits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_memory_budget(1024, "one batch") is True
        assert check_memory_budget(100, "one batch", available=100) is True
    with pytest.warns(ResourceWarning, match="101 B but only 100 B"):
        assert check_memory_budget(101, "one batch", available=100) is False


# -- process memory ----------------------------------------------------------------------


def test_process_memory_sees_a_large_allocation():
    before = process_memory(include_children=False)
    block = np.ones(200 * MiB // 8, dtype=np.float64)  # np.ones writes, so pages are resident
    after = process_memory(include_children=False)
    try:
        assert after.rss - before.rss > 180 * MiB
        if before.uss is not None and after.uss is not None:
            assert after.uss - before.uss > 180 * MiB
        if before.pss is not None and after.pss is not None:
            assert after.pss - before.pss > 180 * MiB
    finally:
        del block
    assert isinstance(after, ProcessMemory)
    assert after.n_children == 0 and after.children_rss == 0


def test_process_memory_sums_child_processes():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        with_children = process_memory(include_children=True)
        while with_children.children_rss == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
            with_children = process_memory(include_children=True)
        alone = process_memory(include_children=False)
    finally:
        child.kill()
        child.wait()
    assert with_children.n_children >= 1
    assert with_children.children_rss > 1 * MiB
    assert with_children.total_rss == with_children.rss + with_children.children_rss
    if with_children.total_pss is not None:
        assert with_children.total_pss > with_children.pss
    assert alone.n_children == 0 and alone.children_rss == 0


# -- sampler -----------------------------------------------------------------------------


def test_sampler_history_is_bounded_and_ordered():
    sampler = MemorySampler(max_samples=5)
    taken = [sampler.sample() for _ in range(12)]
    kept = sampler.samples()
    assert kept == taken[-5:]
    times, rss = sampler.arrays()
    assert len(times) == len(rss) == 5
    assert np.all(np.diff(times) >= 0) and np.all(rss > 0)
    assert sampler.peak() == max(rss)
    sampler.clear()
    assert sampler.samples() == [] and sampler.peak() == 0


def test_sampler_records_an_allocation():
    sampler = MemorySampler()
    low = sampler.sample().rss
    block = np.ones(100 * MiB // 8)
    high = sampler.sample().rss
    del block
    assert high - low > 90 * MiB


def test_sampler_runs_no_thread_until_started():
    threads_before = threading.active_count()
    sampler = MemorySampler(interval=0.01)
    sampler.sample()
    assert threading.active_count() == threads_before and not sampler.running


def test_sampler_thread_samples_until_stopped():
    sampler = MemorySampler(interval=0.01, max_samples=10_000)
    with sampler:
        assert sampler.running
        deadline = time.monotonic() + 10
        while len(sampler.samples()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(RuntimeError, match="already running"):
            sampler.start()
    assert not sampler.running
    count = len(sampler.samples())
    assert count >= 3
    time.sleep(0.05)
    assert len(sampler.samples()) == count  # nothing samples after stop()
    sampler.stop()  # stopping twice is harmless


@pytest.mark.parametrize(
    "kwargs, match", [({"max_samples": 0}, "max_samples"), ({"interval": 0}, "interval")]
)
def test_sampler_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MemorySampler(**kwargs)
