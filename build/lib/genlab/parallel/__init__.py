"""Workers for a :class:`~genlab.Pipeline`: parallel decoding with bounded memory.

``Pipeline(..., num_workers=2, prefetch=2)`` runs each batch's stage chain
(read, augment, rescale, shuffle) in one of two workers, threads of this
process (``worker_kind="thread"``, see :mod:`genlab.parallel.threads`) or
forked processes (``worker_kind="process"``), with at
most ``num_workers * prefetch`` batches made ahead of the consumer, delivered
in order and byte-identical to the in-process run with the same seed::

    p = Pipeline.from_folder(root, batch_size=32, seed=0, num_workers=2)
    for x, y in p:          # worker processes start here and stop at the end of the epoch
        ...

Image batches come back through shared memory (no pickling of big arrays)
when the workers are forked; see :mod:`genlab.parallel.slots`.

Start methods
-------------
``fork`` (the default on Linux and macOS here) lets the workers inherit the
pipeline as it is, including stages defined in a notebook cell or in
``__main__``.  With ``spawn`` (``GENLAB_START_METHOD=spawn``, or Windows)
the pipeline is pickled as its spec, so every stage it names must be
registered by a module the worker can import (put your ``@stage`` functions
in a ``.py`` file and import it), and batches travel pickled through pipes.
"""

from __future__ import annotations

import importlib
from typing import Any

from .threads import ThreadIterator

__all__ = [
    "MemoryBudgetWarning",
    "MemoryEstimate",
    "ParallelIterator",
    "RemoteTraceback",
    "ThreadIterator",
    "batch_layout",
    "check_memory",
    "default_start_method",
    "estimate_memory",
    "iter_parallel",
]

#: Where the other names live, imported on first use: worker threads (the default) need neither
#: the process machinery nor psutil before their first batch is under way.
_LAZY = {
    "MemoryBudgetWarning": "estimate", "MemoryEstimate": "estimate", "batch_layout": "estimate",
    "check_memory": "estimate", "estimate_memory": "estimate",
    "ParallelIterator": "iterator", "default_start_method": "iterator", "RemoteTraceback": "worker",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


WORKER_KINDS = ("thread", "process")


def iter_parallel(pipeline, epoch: int, *, worker_kind: str | None = None, **options):
    """The batches of ``epoch`` made by ``pipeline.num_workers`` workers, in order.

    ``worker_kind`` (default: the pipeline's) picks :class:`ThreadIterator` or
    :class:`ParallelIterator`; the options are those of the class. Close the iterator
    (or leave the loop, or let it be garbage collected) to stop the workers.
    """
    kind = pipeline.worker_kind if worker_kind is None else worker_kind
    if kind == "thread":
        return ThreadIterator(pipeline, epoch, **options)
    if kind == "process":
        from .iterator import ParallelIterator

        return ParallelIterator(pipeline, epoch, **options)
    raise ValueError(f"worker_kind must be one of {WORKER_KINDS}, got {kind!r}")
