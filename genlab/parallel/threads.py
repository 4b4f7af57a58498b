"""Worker threads: the stage chain of several batches at once, in this process.

libjpeg-turbo, Pillow's resize and NumPy's large-array loops release the GIL, so threads
decode in parallel without forking, without shared-memory slots and without sending
batches anywhere: a finished batch is already in the consumer's memory. Batch ``seq`` is
made by one thread; at most ``num_workers * prefetch`` batches are made ahead of the
consumer (backpressure), and they are delivered in ``seq`` order, byte-identical to the
in-process run with the same seed (every draw derives from the seed, stage, epoch and
sample, never from the thread).

Threads also run inside a daemon process (a DataLoader worker, a pool), where worker
processes may not be started. A stage holding the GIL for long (pure-Python pixel loops)
gains nothing from threads; use ``worker_kind="process"`` there.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from ..batch import Batch
from ..stages.item_workers import lend

__all__ = ["ThreadIterator", "check_counts"]


def check_counts(num_workers: object, prefetch: object, who: str) -> None:
    """Raise ValueError naming ``who`` unless both are ints >= 1."""
    for name, value in (("num_workers", num_workers), ("prefetch", prefetch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{who}: {name} must be an int >= 1, got {value!r}")


class ThreadIterator:
    """Iterate one epoch of ``pipeline`` with worker threads.

    Parameters
    ----------
    pipeline : genlab.Pipeline
        What to run; its ``num_workers`` and ``prefetch`` unless given here.
    epoch : int
        The epoch to run.
    num_workers, prefetch : int, optional
        Override the pipeline's settings.
    timeout : float, optional
        Seconds to wait for one batch before raising TimeoutError; None waits.

    The workers start when the iterator is made: the first batch alone, its images decoded by
    all the threads at once (:mod:`genlab.stages.item_workers`), so it comes sooner than
    without workers; then, as soon as it is made, the memory check (a
    :class:`~genlab.parallel.MemoryBudgetWarning` when the batches ahead would not fit) and the
    batches after it, one per thread. An exception raised by a stage is raised again by
    ``next()`` with its own traceback.
    ``close()`` (also called by ``with``, on any error and at the end of the epoch) drops
    the batches not yet started; a thread finishes the batch it is making.
    """

    def __init__(
        self,
        pipeline,
        epoch: int,
        *,
        num_workers: int | None = None,
        prefetch: int | None = None,
        timeout: float | None = None,
    ) -> None:
        n = pipeline.num_workers if num_workers is None else num_workers
        prefetch = pipeline.prefetch if prefetch is None else prefetch
        check_counts(n, prefetch, "ThreadIterator")
        self.num_workers, self.prefetch, self.timeout = n, prefetch, timeout
        self._pipeline = pipeline
        self._source = iter(pipeline.source_batches(epoch))
        self._source_done = False
        self._pending: deque[Future] = deque()
        self._pool = ThreadPoolExecutor(n, thread_name_prefix="genlab-worker")
        self._closed = False
        self._lock = threading.RLock()  # the source is advanced by the consumer or a worker
        self._source_error: BaseException | None = None
        self._first_done = False
        try:
            self._fill()  # the first batch starts now, before the first next()
        except BaseException:
            self.close()
            raise
        if self._pending:
            self._pending[0].add_done_callback(self._after_first)

    def __iter__(self) -> ThreadIterator:
        return self

    def __enter__(self) -> ThreadIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self) -> None:
        """Hand out batches up to ``num_workers * prefetch`` ahead; only the first until it is made.

        The first batch runs alone, with the other threads lent to it; the others start as soon
        as it is done (even before it is asked for).
        """
        with self._lock:
            if self._source_error is not None:
                error, self._source_error = self._source_error, None
                raise error
            limit = self.num_workers * self.prefetch if self._first_done else 1
            while not self._source_done and not self._closed and len(self._pending) < limit:
                try:
                    batch = next(self._source)
                except StopIteration:
                    self._source_done = True
                    return
                run = self._pipeline.run_stages if self._first_done else self._run_first
                self._pending.append(self._pool.submit(run, batch))

    def _run_first(self, batch: Batch) -> Batch:
        """The first batch, with the other threads lent to it (they idle until it is made)."""
        with lend(self._pool, self.num_workers - 1):
            return self._pipeline.run_stages(batch)

    def _after_first(self, _future: Future) -> None:
        """In the worker that made the first batch: check the memory the others will hold (a
        warning, see :func:`~genlab.parallel.estimate.check_memory`; psutil is imported here, off
        the first batch's path), then start them."""
        self._first_done = True
        try:
            from .estimate import check_memory

            check_memory(self._pipeline, self.num_workers, self.prefetch)
            self._fill()
        except BaseException as e:  # raised again by the consumer's next()
            self._source_error = e

    def __next__(self) -> Batch:
        if self._closed:
            raise StopIteration
        try:
            self._fill()
            if not self._pending:
                self.close()
                raise StopIteration
            with self._lock:
                future = self._pending.popleft()
            batch = future.result(self.timeout)
            self._first_done = True
            self._fill()
            return batch
        except StopIteration:
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Drop the batches not started, let running ones finish in the background; safe twice."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            for future in self._pending:
                future.cancel()
            self._pending.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        close_source = getattr(self._source, "close", None)
        if close_source is not None:
            with self._lock:  # not while a worker advances it
                close_source()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:
                pass
