"""The consumer side: hand source batches to workers, deliver their results in order.

Batch ``seq`` goes to worker ``seq % num_workers``.  At most
``num_workers * prefetch`` batches are handed out and not yet delivered, so
the memory held is bounded by workers x prefetch x batch, whatever the size
of the dataset (backpressure: a worker that is ahead waits for a task).
Results are delivered in ``seq`` order, so the batches, their order and
their bytes are those of the in-process run: every random draw derives from
the seed, the stage, the epoch and the sample, not from the process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import time
import warnings
from multiprocessing.connection import wait

import numpy as np

from ..batch import Batch
from .estimate import HELD_BY_CONSUMER, batch_layout, check_memory
from .slots import SlotRing
from .threads import check_counts
from .worker import RemoteError, worker_main

__all__ = ["ParallelIterator", "default_start_method"]

JOIN_SECONDS = 2.0
SLOT_HEADROOM = 2
"""Slots get twice the estimated batch size (address space only; pages are used as written)."""

_WARNING_REGISTRY: dict = {}


def default_start_method() -> str:
    """``$GENLAB_START_METHOD`` if set, else ``fork`` where it exists (Linux, macOS), else ``spawn``."""
    chosen = os.environ.get("GENLAB_START_METHOD")
    if chosen:
        return chosen
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


class ParallelIterator:
    """Iterate one epoch of ``pipeline`` with worker processes.

    Parameters
    ----------
    pipeline : genlab.Pipeline
        What to run; its ``num_workers`` and ``prefetch`` unless given here.
    epoch : int
        The epoch to run.
    num_workers, prefetch : int, optional
        Override the pipeline's settings.
    start_method : str, optional
        ``"fork"`` (default on Linux: the workers inherit the pipeline and any stage
        defined in a notebook or ``__main__``) or ``"spawn"`` / ``"forkserver"`` (the
        pipeline is pickled, so its stages must be registered by an importable module).
    shared_memory : bool
        Move image batches through shared memory slots (only with ``fork``); False
        sends them pickled through the pipe.
    timeout : float, optional
        Seconds to wait for one batch before raising TimeoutError; None waits as long as
        the workers are alive.

    ``close()`` (also called by ``with``, on any error, and when the iterator is
    garbage collected) stops the workers and frees the slots.
    """

    def __init__(
        self,
        pipeline,
        epoch: int,
        *,
        num_workers: int | None = None,
        prefetch: int | None = None,
        start_method: str | None = None,
        shared_memory: bool = True,
        timeout: float | None = None,
    ) -> None:
        self._closed = True  # until the workers exist, close() has nothing to do
        self._owner = os.getpid()  # a forked copy of this object (in a worker) never closes it
        n = pipeline.num_workers if num_workers is None else num_workers
        prefetch = pipeline.prefetch if prefetch is None else prefetch
        check_counts(n, prefetch, "ParallelIterator")
        if multiprocessing.current_process().daemon:
            raise ValueError(
                f"num_workers={n!r} inside a daemon process (a worker of a DataLoader or a pool, for "
                "example), which may not start processes of its own: use num_workers=0 or "
                "worker_kind='thread' there"
            )
        self.num_workers, self.prefetch, self.timeout = n, prefetch, timeout
        self.start_method = start_method or default_start_method()
        context = multiprocessing.get_context(self.start_method)
        check_memory(pipeline, n, prefetch)

        layout = batch_layout(pipeline)
        self._ring: SlotRing | None = None
        if shared_memory and self.start_method == "fork" and layout is not None:
            shape, dtype = layout
            slot_bytes = SLOT_HEADROOM * int(np.prod(shape)) * dtype.itemsize
            try:
                self._ring = SlotRing(n * prefetch + HELD_BY_CONSUMER, slot_bytes)
            except OSError:  # the system refuses to map that much: batches go through the pipes
                self._ring = None

        self._source = iter(pipeline.source_batches(epoch))
        self._source_done = False
        self._sent = 0  # batches handed to workers
        self._next = 0  # next batch to deliver
        self._slots: dict[int, int | None] = {}
        self._results: dict[int, tuple] = {}
        self._queues, self._conns, self._procs, self._pids = [], [], [], []
        payload = pipeline if self.start_method == "fork" else pickle.dumps(pipeline)
        self._closed = False
        try:
            for worker_id in range(n):
                tasks = context.Queue()
                receiver, sender = context.Pipe(duplex=False)
                proc = context.Process(
                    target=worker_main,
                    args=(worker_id, payload, tasks, sender, self._ring, os.getpid()),
                    name=f"genlab-worker-{worker_id}",
                    daemon=True,
                )
                self._queues.append(tasks)
                self._conns.append(receiver)
                self._procs.append(proc)
                proc.start()
                self._pids.append(proc.pid)
                sender.close()  # the worker holds the only writing end: EOF when it dies
            self._dispatch()  # the workers start now, before the first next()
        except BaseException:
            self.close()
            raise

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers (for tests and monitoring)."""
        return list(self._pids)

    def __iter__(self) -> ParallelIterator:
        return self

    def __enter__(self) -> ParallelIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __next__(self) -> Batch:
        if self._closed:
            raise StopIteration
        try:
            self._dispatch()
            if self._source_done and self._next == self._sent:
                self.close()
                raise StopIteration
            deadline = None if self.timeout is None else time.monotonic() + self.timeout
            while self._next not in self._results:
                self._receive(deadline)
            worker_id, message = self._results.pop(self._next)
            seq = self._next
            self._next += 1
            batch = self._unpack(worker_id, seq, message)
            self._dispatch()
            return batch
        except StopIteration:
            raise
        except BaseException:
            self.close()
            raise

    # -- handing out and collecting ----------------------------------------------------------
    def _dispatch(self) -> None:
        limit = self.num_workers * self.prefetch
        while not self._source_done and self._sent - self._next < limit:
            try:
                batch = next(self._source)
            except StopIteration:
                self._source_done = True
                return
            seq = self._sent
            slot = self._ring.acquire() if self._ring is not None else None
            self._slots[seq] = slot
            self._queues[seq % self.num_workers].put((seq, batch, slot))
            self._sent += 1

    def _receive(self, deadline: float | None) -> None:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        waiting = {c: i for i, c in enumerate(self._conns)}
        sentinels = {p.sentinel: i for i, p in enumerate(self._procs)}
        ready = wait([*waiting, *sentinels], timeout=timeout)
        if not ready:
            raise TimeoutError(
                f"no batch from the genlab workers in {self.timeout} s (waiting for batch {self._next})"
            )
        for obj in ready:
            if obj in waiting and not self._read(waiting[obj]):
                self._worker_died(waiting[obj])
        for obj in ready:
            if obj in sentinels:
                self._worker_died(sentinels[obj])

    def _read(self, worker_id: int) -> bool:
        """Take one message from a worker's pipe; False at its end (the worker is gone)."""
        try:
            message = self._conns[worker_id].recv()
        except (EOFError, OSError):
            return False
        if message[1] == -1:  # the worker could not rebuild the pipeline
            raise message[2].rebuild(
                f"starting genlab worker {worker_id} with the {self.start_method!r} start method, which "
                "rebuilds the pipeline from its spec: register your stages in a module the workers "
                "import, or use the 'fork' start method"
            )
        self._results[message[1]] = (worker_id, message)
        return True

    def _worker_died(self, worker_id: int) -> None:
        conn = self._conns[worker_id]
        while True:  # collect what it sent before dying
            try:
                if not conn.poll() or not self._read(worker_id):
                    break
            except (EOFError, OSError):
                break
        proc = self._procs[worker_id]
        proc.join(JOIN_SECONDS)
        code = proc.exitcode
        pending = [
            s
            for s in range(self._next, self._sent)
            if s % self.num_workers == worker_id and s not in self._results
        ]
        if not pending and code == 0:
            return
        how = (
            f"was killed by signal {-code}"
            if code is not None and code < 0
            else f"exited with code {code}"
        )
        hint = (
            " (out of memory? try fewer workers, a smaller batch_size or prefetch)"
            if code == -9
            else ""
        )
        raise RuntimeError(
            f"genlab worker {worker_id} (pid {self._pids[worker_id]}) {how} while making batch "
            f"{pending[0] if pending else self._next}{hint}"
        )

    def _unpack(self, worker_id: int, seq: int, message: tuple) -> Batch:
        slot = self._slots.pop(seq)
        if message[0] == "error":
            if slot is not None:
                self._ring.release(slot)
            error: RemoteError = message[2]
            raise error.rebuild(f"in genlab worker {worker_id}, batch {seq}")
        _, _, x_payload, y, info, caught = message
        if x_payload[0] == "slot":
            _, shape, dtype = x_payload
            x = self._ring.deliver(slot, shape, dtype)
        else:
            x = x_payload[1]
            if slot is not None:
                self._ring.release(slot)
        for text, category, filename, lineno in caught:
            warnings.warn_explicit(text, category, filename, lineno, registry=_WARNING_REGISTRY)
        return Batch(x, y, info) if info is not None else Batch(x, y)

    # -- stopping --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the workers (politely, then by force) and free the slots; safe to call twice."""
        if self._closed or os.getpid() != self._owner:
            return
        self._closed = True
        for tasks in self._queues:
            try:
                tasks.put(None)
            except (OSError, ValueError):
                pass
        for conn in self._conns:  # a worker blocked on sending gets a broken pipe
            conn.close()
        deadline = time.monotonic() + JOIN_SECONDS
        for proc in self._procs:
            if proc.pid is not None:
                proc.join(max(0.0, deadline - time.monotonic()))
        for proc in self._procs:
            if proc.pid is not None and proc.is_alive():
                proc.terminate()
                proc.join(JOIN_SECONDS)
            if proc.pid is not None and proc.is_alive():
                proc.kill()
                proc.join()
        for tasks in self._queues:
            tasks.cancel_join_thread()
            tasks.close()
        for proc in self._procs:
            if proc.pid is not None:
                proc.close()
        self._results.clear()
        if self._ring is not None:
            self._ring.close()
        close_source = getattr(self._source, "close", None)
        if close_source is not None:
            close_source()

    def __del__(self) -> None:
        # sys is None while the interpreter shuts down; _closed is unset if __init__ failed early
        if sys is None or getattr(self, "_closed", True):
            return
        try:
            self.close()
        except Exception:
            pass
