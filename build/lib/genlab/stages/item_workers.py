"""Threads that may share the items of one batch, so a lone batch uses every core.

A pipeline with worker threads makes its batches one per thread; its first batch, though, runs
alone (nothing else is ready yet), and the other threads would idle while the caller waits for
it. :class:`~genlab.parallel.ThreadIterator` lends them to that batch with :func:`lend`, and
``read_images`` decodes its items through :func:`map_items`, which spreads them over the lent
threads and the calling one. The results are gathered in item order, so the batch is the one
the calling thread alone would have made (every draw derives from the sample, not the thread).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

__all__ = ["lend", "map_items"]

T = TypeVar("T")

_LENT: ContextVar[tuple[Executor, int] | None] = ContextVar("genlab_item_workers", default=None)


@contextmanager
def lend(executor: Executor, helpers: int) -> Iterator[None]:
    """Within the block, :func:`map_items` in this thread may run items on ``helpers`` tasks
    of ``executor`` (threads that are idle meanwhile; 0 lends none)."""
    token = _LENT.set((executor, helpers) if helpers > 0 else None)
    try:
        yield
    finally:
        _LENT.reset(token)


def map_items(work: Callable[[int], T], n: int, take: Callable[[int, T | Exception], None]) -> None:
    """``take(i, work(i))`` for ``i`` in ``0 .. n - 1``, in that order; an ``Exception`` that
    ``work(i)`` raised is passed to ``take`` in place of its result.

    Without lent threads (see :func:`lend`) each item is taken as soon as it is made, in this
    thread. With them, the lent threads and this one take the next item in turn until none is
    left, and the results are then taken in item order.

    >>> map_items(lambda i: 10 // (2 - i), 3, lambda i, r: print(i, repr(r)))
    0 5
    1 10
    2 ZeroDivisionError('integer division or modulo by zero')
    """

    def run(i: int) -> T | Exception:
        try:
            return work(i)
        except Exception as e:  # noqa: BLE001 - handed to take(), in item order
            return e

    lent = _LENT.get()
    if lent is None or n < 2:
        for i in range(n):
            take(i, run(i))
        return
    out: list = [None] * n
    counter = itertools.count()  # next() on it is atomic: each item is taken once

    def drain() -> None:
        while (i := next(counter)) < n:
            out[i] = run(i)

    executor, helpers = lent
    tasks = [executor.submit(drain) for _ in range(min(helpers, n - 1))]
    try:
        drain()
    finally:
        for task in tasks:
            if not task.cancel():  # one not started (its thread was busy) has nothing left to do
                task.result()
    for i, result in enumerate(out):
        take(i, result)
