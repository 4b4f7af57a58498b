"""Memory accounting: array sizes, eager versus streaming cost, and process memory.

The post's arithmetic: one 256x256 RGB image held as float64 takes 1.5 MiB, so loading
10,000 of them eagerly takes 14.6 GiB, while a streaming pipeline only holds the batches
in flight. :func:`eager_cost` and :func:`streaming_footprint` give both figures for the
configured dtype, :func:`check_memory_budget` warns when a figure exceeds the available
memory, and :func:`process_memory` / :class:`MemorySampler` measure what the process
(and its worker processes) really hold.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import psutil

__all__ = [
    "MemorySample",
    "MemorySampler",
    "ProcessMemory",
    "batch_nbytes",
    "check_memory_budget",
    "eager_cost",
    "format_bytes",
    "nbytes_of",
    "process_memory",
    "streaming_footprint",
]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def nbytes_of(shape: Sequence[int] | int, dtype: Any) -> int:
    """Return the bytes of an array of `shape` and `dtype`, without allocating it.

    Examples
    --------
    >>> nbytes_of((256, 256, 3), "float64")
    1572864
    >>> nbytes_of((32, 224, 224, 3), "uint8")
    4816896
    """
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    for dim in dims:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 0:
            raise ValueError(f"nbytes_of: shape must hold non-negative ints, got {shape!r}")
    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError as e:
        raise ValueError(f"nbytes_of: dtype {dtype!r} is not a numpy dtype") from e
    return int(np.prod(dims, dtype=np.int64)) * itemsize if dims else itemsize


def format_bytes(n: float) -> str:
    """Format a byte count with binary units: ``'192.0 KiB'``, ``'14.6 GiB'``.

    Counts below 1 KiB are shown exactly; negative counts (memory released) keep their sign.

    Examples
    --------
    >>> format_bytes(512)
    '512 B'
    >>> format_bytes(196608)
    '192.0 KiB'
    >>> format_bytes(15728640000)
    '14.6 GiB'
    >>> format_bytes(-1572864)
    '-1.5 MiB'
    """
    sign = "-" if n < 0 else ""
    value = float(abs(n))
    if value < 1024:
        return f"{sign}{int(value)} B"
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    if round(value, 1) >= 1024 and unit < len(_UNITS) - 1:  # 1023.96 KiB -> 1.0 MiB
        value /= 1024
        unit += 1
    return f"{sign}{value:.1f} {_UNITS[unit]}"


def eager_cost(
    n_images: int,
    target_size: int | Sequence[int],
    channels: int = 3,
    dtype: Any = "float32",
) -> int:
    """Return the bytes needed to hold `n_images` decoded images in memory at once.

    Parameters
    ----------
    n_images : int
        How many images.
    target_size : int or (height, width)
        Size of each image after resizing; an int means a square.
    channels : int
        Colour channels (3 for RGB).
    dtype : numpy dtype
        Pixel type: uint8 after decoding, float32 after rescaling, float64 in the post.

    Examples
    --------
    >>> format_bytes(eager_cost(1, 256, dtype="float64"))
    '1.5 MiB'
    >>> format_bytes(eager_cost(10_000, (256, 256), dtype="float64"))
    '14.6 GiB'
    >>> format_bytes(eager_cost(1, 256, dtype="uint8")), format_bytes(eager_cost(1, 256))
    ('192.0 KiB', '768.0 KiB')
    """
    if isinstance(target_size, (int, np.integer)):
        target_size = (target_size, target_size)
    if len(tuple(target_size)) != 2:
        raise ValueError(
            f"eager_cost: target_size must be an int or (height, width), got {target_size!r}"
        )
    return nbytes_of((n_images, *target_size, channels), dtype)


def streaming_footprint(
    batch_shape: Sequence[int], dtype: Any, prefetch: int = 1, workers: int = 0
) -> int:
    """Return the bytes held by batches in flight in a streaming pipeline.

    Each worker process (or the main process when `workers` is 0) holds `prefetch`
    batches: ``batch bytes x max(1, prefetch) x max(1, workers)``. A `prefetch` of 0 still
    counts the one batch being produced.

    Examples
    --------
    >>> format_bytes(streaming_footprint((32, 256, 256, 3), "float32"))
    '24.0 MiB'
    >>> format_bytes(streaming_footprint((32, 256, 256, 3), "float32", prefetch=2, workers=4))
    '192.0 MiB'
    """
    for name, value in (("prefetch", prefetch), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"streaming_footprint: {name} must be an int >= 0, got {value!r}")
    return nbytes_of(batch_shape, dtype) * max(1, prefetch) * max(1, workers)


def batch_nbytes(batch: Any) -> int:
    """Return the bytes held by a batch ``(x, y)``: its arrays, or its list of path strings.

    Examples
    --------
    >>> batch_nbytes((np.zeros((4, 8, 8, 3), np.uint8), np.zeros((4, 2), np.int64)))
    832
    """
    if isinstance(batch, np.ndarray):
        return int(batch.nbytes)
    if isinstance(batch, (str, bytes)):
        return sys.getsizeof(batch)
    if isinstance(batch, (tuple, list)):
        container = sys.getsizeof(batch) if isinstance(batch, list) else 0
        return container + sum(batch_nbytes(item) for item in batch)
    return 0


def check_memory_budget(n_bytes: int, what: str, available: int | None = None) -> bool:
    """Warn when `n_bytes` exceeds the memory available; return whether it fits.

    Parameters
    ----------
    n_bytes : int
        The planned memory use.
    what : str
        What needs it, for the message (for example ``"eager load of 10000 images"``).
    available : int, optional
        Bytes available; defaults to ``psutil.virtual_memory().available``.

    Warns
    -----
    ResourceWarning
        When `n_bytes` is larger than `available`.
    """
    if available is None:
        available = psutil.virtual_memory().available
    if n_bytes <= available:
        return True
    warnings.warn(
        f"{what} needs {format_bytes(n_bytes)} but only {format_bytes(available)} of memory "
        "is available",
        ResourceWarning,
        stacklevel=2,
    )
    return False


@dataclass(frozen=True)
class ProcessMemory:
    """Memory of a process and, optionally, its child processes (bytes).

    ``pss`` (proportional set size: shared pages split among the processes sharing them)
    and ``uss`` (pages only this process holds) come from ``psutil.memory_full_info`` and
    are ``None`` where the platform or permissions do not provide them.
    """

    rss: int
    pss: int | None
    uss: int | None
    children_rss: int = 0
    children_pss: int | None = 0
    n_children: int = 0

    @property
    def total_rss(self) -> int:
        """RSS of the process plus its children (counts shared pages more than once)."""
        return self.rss + self.children_rss

    @property
    def total_pss(self) -> int | None:
        """PSS of the process plus its children: the fair total, or ``None`` if unknown."""
        if self.pss is None or self.children_pss is None:
            return None
        return self.pss + self.children_pss


def _full_info(process: psutil.Process) -> tuple[int, int | None, int | None]:
    try:
        info = process.memory_full_info()
        return info.rss, getattr(info, "pss", None), getattr(info, "uss", None)
    except psutil.AccessDenied:
        return process.memory_info().rss, None, None


def process_memory(include_children: bool = True, pid: int | None = None) -> ProcessMemory:
    """Measure the memory of this process (or `pid`) and, optionally, of its children.

    Children are all descendants (worker processes and theirs); those that exit while
    being measured are left out.
    """
    process = psutil.Process(pid)
    rss, pss, uss = _full_info(process)
    children_rss, children_pss, n_children = 0, 0, 0
    if include_children:
        for child in process.children(recursive=True):
            try:
                child_rss, child_pss, _ = _full_info(child)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            n_children += 1
            children_rss += child_rss
            children_pss = (
                None if children_pss is None or child_pss is None else (children_pss + child_pss)
            )
    return ProcessMemory(rss, pss, uss, children_rss, children_pss, n_children)


class MemorySample(NamedTuple):
    """One reading of :class:`MemorySampler`: seconds since the sampler began, and RSS bytes."""

    time: float
    rss: int


class MemorySampler:
    """Record ``(time, rss)`` samples of this process, keeping the last `max_samples`.

    Call :meth:`sample` whenever convenient (for example once per batch); no thread runs
    unless :meth:`start` is called, which samples every `interval` seconds from a daemon
    thread until :meth:`stop`. It is also a context manager that starts and stops it.

    Parameters
    ----------
    max_samples : int
        Length of the history; older samples are dropped.
    interval : float
        Seconds between samples of the background thread.
    include_children : bool
        Add the RSS of child processes (workers) to each sample.

    Examples
    --------
    >>> sampler = MemorySampler(max_samples=2)
    >>> for _ in range(3):
    ...     _ = sampler.sample()
    >>> len(sampler.samples())
    2
    """

    def __init__(
        self, max_samples: int = 1000, interval: float = 0.1, include_children: bool = False
    ) -> None:
        if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
            raise ValueError(f"MemorySampler: max_samples must be an int >= 1, got {max_samples!r}")
        if not interval > 0:
            raise ValueError(f"MemorySampler: interval must be > 0 seconds, got {interval!r}")
        self.max_samples = max_samples
        self.interval = float(interval)
        self.include_children = include_children
        self._history: deque[MemorySample] = deque(maxlen=max_samples)
        self._lock = threading.Lock()
        self._process = psutil.Process()
        self._start_time = time.perf_counter()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return (
            f"MemorySampler(max_samples={self.max_samples}, interval={self.interval}, "
            f"include_children={self.include_children})"
        )

    def sample(self) -> MemorySample:
        """Take one sample now, add it to the history and return it."""
        rss = self._process.memory_info().rss
        if self.include_children:
            for child in self._process.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except (psutil.NoSuchProcess, psutil.ZombieProcess):
                    pass
        reading = MemorySample(time.perf_counter() - self._start_time, rss)
        with self._lock:
            self._history.append(reading)
        return reading

    def samples(self) -> list[MemorySample]:
        """Return the recorded samples, oldest first."""
        with self._lock:
            return list(self._history)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the history as ``(times in seconds, rss in bytes)`` arrays, for plotting."""
        history = self.samples()
        times = np.array([s.time for s in history], dtype=np.float64)
        rss = np.array([s.rss for s in history], dtype=np.int64)
        return times, rss

    def peak(self) -> int:
        """Return the largest RSS in the history (0 when empty)."""
        return max((s.rss for s in self.samples()), default=0)

    def clear(self) -> None:
        """Forget the recorded samples."""
        with self._lock:
            self._history.clear()

    @property
    def running(self) -> bool:
        """Whether the background thread is sampling."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> MemorySampler:
        """Start sampling every `interval` seconds in a daemon thread; return self."""
        if self.running:
            raise RuntimeError("MemorySampler.start: the sampler is already running")
        self._stop_event.clear()
        self._thread = threading.Thread(target=self._run, name="genlab-memory-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the background thread and wait for it; does nothing if not running."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop_event.set()
            thread.join()

    def _run(self) -> None:
        while True:
            try:
                self.sample()
            except psutil.Error:  # process information unavailable: stop quietly
                return
            if self._stop_event.wait(self.interval):
                return

    def __enter__(self) -> MemorySampler:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
