"""Keras 3: a pipeline as a ``keras.utils.PyDataset`` that ``model.fit`` takes directly.

>>> data = as_keras_dataset(pipeline)                # doctest: +SKIP
>>> model.fit(data, epochs=10)                       # doctest: +SKIP

Item ``i`` is batch ``i`` of the current epoch, exactly as the pipeline makes it (same seed, same
draws); once every batch of an epoch was served, ``on_epoch_end`` (which Keras calls after each
epoch) moves on to the next, reshuffled epoch.
Keras may fetch items from several threads (``workers``): batches are made independently, so that is
safe. Keras is an optional extra and needs a backend (``KERAS_BACKEND=torch`` with PyTorch
installed, or jax, or tensorflow); it is imported when :func:`as_keras_dataset` is first called.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

__all__ = ["as_keras_dataset"]  # and KerasPyDataset, built on first access


def _import_keras():
    try:
        import keras  # Keras (and its back end) only when this adapter is used
    except ImportError as e:
        raise ImportError(
            "genlab.integrations.keras needs Keras 3 and a backend: pip install 'genlab[keras]' and "
            "set KERAS_BACKEND (torch, jax or tensorflow) to one that is installed"
        ) from e
    if not hasattr(keras.utils, "PyDataset"):
        raise ImportError(
            f"genlab.integrations.keras needs Keras >= 3, found {keras.__version__!r}"
        )
    return keras


@functools.cache
def _pydataset_class() -> type:
    keras = _import_keras()

    class KerasPyDataset(keras.utils.PyDataset):
        """A ``keras.utils.PyDataset`` over a genlab pipeline: item ``i`` is batch ``i`` of the epoch.

        Parameters
        ----------
        pipeline : Pipeline
            The pipeline; its listing is made once.
        epoch : int, optional
            The first epoch to run (default: the pipeline's next epoch).
        workers, use_multiprocessing, max_queue_size
            Passed to ``keras.utils.PyDataset``.
        """

        def __init__(self, pipeline, *, epoch: int | None = None, **pydataset_options: Any):
            super().__init__(**pydataset_options)
            self.pipeline = pipeline
            self.epoch = pipeline.epoch if epoch is None else epoch
            self._lock = threading.Lock()
            self._sources: tuple[int, list] | None = None
            self._served: set[int] = set()

        def __len__(self) -> int:
            return len(self.pipeline)

        def _source_batches(self) -> list:
            with self._lock:  # the epoch's paths are listed once, not once per item
                if self._sources is None or self._sources[0] != self.epoch:
                    self._sources = (self.epoch, list(self.pipeline.source_batches(self.epoch)))
                return self._sources[1]

        def __getitem__(self, index: int):
            sources = self._source_batches()
            if not -len(sources) <= index < len(sources):
                raise IndexError(f"batch {index} out of range for {len(sources)} batches")
            x, y = self.pipeline.run_stages(sources[index])
            with self._lock:
                self._served.add(index % len(sources))
            return x, y

        def on_epoch_end(self) -> None:
            """Move on to the next epoch once every batch of this one was served.

            Keras also calls this outside of epochs (after building the model, for one), so the
            count of calls is not the count of epochs; the batches served are.
            """
            with self._lock:
                if len(self._served) >= len(self):
                    self.epoch += 1
                    self._served.clear()

    KerasPyDataset.__module__ = __name__
    return KerasPyDataset


def __getattr__(name: str):
    if name == "KerasPyDataset":  # built on first use, so that importing this module needs no Keras
        return _pydataset_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def as_keras_dataset(pipeline, **options: Any):
    """Wrap ``pipeline`` as a ``KerasPyDataset`` for ``model.fit`` (options as its constructor)."""
    return _pydataset_class()(pipeline, **options)
