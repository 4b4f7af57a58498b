"""The worker process: run the stage chain on source batches, send back the results.

A worker takes ``(seq, source_batch, slot)`` tasks from its own queue and
answers on its own pipe with one message per task:

- ``("ok", seq, x_payload, y, info, warnings)`` where ``x_payload`` is
  ``("slot", shape, dtype)`` when the images were copied into shared slot
  ``slot``, or ``("inline", x)`` when they travel in the message itself;
- ``("error", seq, RemoteError)`` when the stage chain raised.

It stops on a ``None`` task, when its pipe breaks (the consumer closed it),
or when its parent process is gone; it ignores SIGINT so that a Ctrl-C in a
terminal or a notebook interrupts only the consumer, which then stops the
workers in order.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import traceback
import warnings
from dataclasses import dataclass

from ..batch import Batch
from ..stages.protocol import StageError

__all__ = ["RemoteError", "RemoteTraceback", "worker_main"]

PARENT_CHECK_SECONDS = 0.5


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, chained as ``__cause__``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return (
            "\n\n"
            + self.text.rstrip()
            + "\n(the traceback above happened in a genlab worker process)"
        )


@dataclass
class RemoteError:
    """What the consumer needs to raise a worker's exception again."""

    type_name: str
    message: str
    stage: str | None
    traceback: str
    pickled: bytes | None

    @classmethod
    def capture(cls, error: BaseException) -> RemoteError:
        """Wrap an error raised in a worker with its traceback text, ready to pickle."""
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        try:
            pickled = pickle.dumps(error)
            pickle.loads(pickled)
        except Exception:
            pickled = None
        return cls(type(error).__name__, str(error), getattr(error, "stage", None), text, pickled)

    def rebuild(self, where: str) -> BaseException:
        """The exception to raise in the consumer, with the worker's traceback as its cause."""
        error: BaseException
        if self.stage is not None:
            error = StageError(f"{self.message} ({where})", self.stage)
        else:
            try:
                error = pickle.loads(self.pickled) if self.pickled is not None else None
            except Exception:
                error = None
            if error is None or not error.args or not isinstance(error.args[0], str):
                error = RuntimeError(f"{self.type_name}: {self.message} ({where})")
            else:
                error.args = (f"{error.args[0]} ({where})", *error.args[1:])
        error.__cause__ = RemoteTraceback(self.traceback)
        return error


def _pack_x(x, ring, slot):
    if ring is not None and slot is not None and ring.write(slot, x):
        return ("slot", x.shape, x.dtype)
    return ("inline", x)


def _run_one(pipeline, seq, batch, ring, slot):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = pipeline.run_stages(batch)
    sent_warnings = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
    x, y = out[0], out[1]
    info = out.info if isinstance(out, Batch) else None
    return ("ok", seq, _pack_x(x, ring, slot), y, info, sent_warnings)


def worker_main(worker_id: int, pipeline, tasks, results, ring, parent_pid: int) -> None:
    """Loop of one worker process (the target of ``multiprocessing.Process``).

    ``pipeline`` is the Pipeline itself (inherited through ``fork``) or its pickle
    (``spawn``: unpickled here, so that a failure is reported to the consumer).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if isinstance(pipeline, bytes):
            pipeline = pickle.loads(pipeline)
    except BaseException as e:
        _send(results, ("error", -1, RemoteError.capture(e)))
        return
    while True:
        try:
            task = tasks.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return  # the consumer died without closing us
            continue
        except (EOFError, OSError):
            return
        if task is None:
            return
        seq, batch, slot = task
        try:
            message = _run_one(pipeline, seq, batch, ring, slot)
        except BaseException as e:
            message = ("error", seq, RemoteError.capture(e))
        if not _send(results, message):
            return


def _send(results, message) -> bool:
    try:
        results.send(message)
    except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
        return False
    except Exception as e:  # the message itself does not pickle (a user's stage returned it)
        seq = message[1]
        error = TypeError(f"the batch made by the stages cannot be sent to the consumer: {e}")
        try:
            results.send(("error", seq, RemoteError.capture(error)))
        except Exception:
            return False
    return True
