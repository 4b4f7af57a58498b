"""A ring of shared-memory slots that worker processes write batches into.

Moving a float32 batch of 32 x 224 x 224 x 3 (18 MiB) through a pipe costs a
pickle, a kernel copy in and a kernel copy out, and measured here it halves
the throughput of two workers.  Instead each worker copies its finished
batch into a slot of memory shared with the consumer and sends only the
slot number, shape and dtype; the consumer wraps the slot in a NumPy array
without copying.

The slots are anonymous shared mappings made before the workers are forked,
so they have no name in ``/dev/shm``: nothing can leak, whatever way the
processes end.  (With the ``spawn`` start method there is no such
inheritance, and batches go through the pipe instead.)

A slot handed to the consumer stays out of the ring as long as any array
made from it is alive: every NumPy view of the delivered array keeps the
slot's base array referenced, and the ring reuses a slot only when its base
array is referenced by the ring alone.  A consumer that keeps every batch
(``list(pipeline)``) never sees its arrays overwritten; the ring just runs
dry and further batches come through the pipe.
"""

from __future__ import annotations

import mmap
import sys
from collections import deque

import numpy as np

__all__ = ["SlotRing"]


class SlotRing:
    """``n_slots`` shared-memory slots of ``slot_bytes`` each, inherited by forked workers.

    Parameters
    ----------
    n_slots : int
        Number of slots: batches in flight plus batches the consumer may hold.
    slot_bytes : int
        Capacity of a slot. Pages are only committed when first written, so a
        generous capacity costs address space, not memory.

    Examples
    --------
    >>> ring = SlotRing(2, 1024)
    >>> slot = ring.acquire()
    >>> ring.write(slot, np.arange(6, dtype=np.int16).reshape(2, 3))
    True
    >>> x = ring.deliver(slot, (2, 3), np.dtype(np.int16))
    >>> x.tolist(), ring.n_free
    ([[0, 1, 2], [3, 4, 5]], 1)
    >>> del x
    >>> ring.n_free
    2
    """

    def __init__(self, n_slots: int, slot_bytes: int) -> None:
        if n_slots < 1 or slot_bytes < 1:
            raise ValueError(
                f"SlotRing needs n_slots >= 1 and slot_bytes >= 1, got {n_slots!r}, {slot_bytes!r}"
            )
        self.slot_bytes = int(slot_bytes)
        self.n_slots = int(n_slots)
        # mmap(-1, n) is MAP_SHARED | MAP_ANONYMOUS: shared with children forked later.
        self._maps = [mmap.mmap(-1, self.slot_bytes) for _ in range(self.n_slots)]
        self._bases = [np.frombuffer(m, dtype=np.uint8) for m in self._maps]
        self._idle_refs = [sys.getrefcount(self._bases[i]) for i in range(self.n_slots)]
        self._free: deque[int] = deque(range(self.n_slots))
        self._delivered: set[int] = set()

    @property
    def n_free(self) -> int:
        """Slots ready for a new batch (after reclaiming those the consumer let go)."""
        self._reclaim()
        return len(self._free)

    def _reclaim(self) -> None:
        for slot in list(self._delivered):
            # the ring's own reference, plus getrefcount's argument: no array from it lives
            if sys.getrefcount(self._bases[slot]) <= self._idle_refs[slot]:
                self._delivered.discard(slot)
                self._free.append(slot)

    def acquire(self) -> int | None:
        """A free slot number for the next batch, or None when every slot is busy."""
        if not self._free:
            self._reclaim()
        # last freed, first reused: the fewest slots get their pages touched
        return self._free.pop() if self._free else None

    def release(self, slot: int) -> None:
        """Give back a slot that was acquired but not delivered."""
        self._free.append(slot)

    def fits(self, array: np.ndarray) -> bool:
        """Whether ``array`` can travel in a slot (plain dtype, small enough)."""
        return (
            isinstance(array, np.ndarray)
            and not array.dtype.hasobject
            and array.nbytes <= self.slot_bytes
        )

    def write(self, slot: int, array: np.ndarray) -> bool:
        """Copy ``array`` into ``slot`` (in a worker); False if it does not fit."""
        if not self.fits(array):
            return False
        target = self._bases[slot][: array.nbytes].view(array.dtype).reshape(array.shape)
        np.copyto(target, array, casting="no")
        return True

    def deliver(self, slot: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """The array a worker wrote into ``slot``, without a copy (in the consumer)."""
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        array = self._bases[slot][:nbytes].view(dtype).reshape(shape)
        self._delivered.add(slot)
        return array

    def close(self) -> None:
        """Drop the ring's references; a mapping is unmapped once no delivered array uses it."""
        self._free.clear()
        self._delivered.clear()
        self._bases = []
        self._maps = []
