"""The two-yield stage protocol, its driver, and a cleaner way to write a stage.

A stage is a generator with two ``yield`` s: one receives a batch, one emits the result.
The driver sends ``None`` to every stage (which moves each to its receiving ``yield``),
then sends the batch through the stages in order::

    def double():
        while True:
            x, y = yield        # receive
            yield x * 2, y      # emit

The driver's ``None`` is the priming: stage factories return *unprimed* generators.

>>> def double():
...     while True:
...         x, y = yield
...         yield x * 2, y
>>> pipe = GeneratorPipeline(iter([(1, "a"), (2, "b")]), double(), double())
>>> list(pipe)
[(4, 'a'), (8, 'b')]
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import replace
from typing import Any

from .. import registry
from ..batch import Batch
from ..params import Param
from ..report import RunReport
from ..seeding import batch_rng

__all__ = ["GeneratorPipeline", "StageError", "stage", "stage_name"]


class StageError(RuntimeError):
    """A stage failed or broke the protocol. ``.stage`` names it; the cause is chained."""

    def __init__(self, message: str, stage: str):
        super().__init__(message)
        self.stage = stage


def stage_name(step: Any) -> str:
    """The name a stage generator answers to (its registered or function name)."""
    return getattr(step, "__name__", type(step).__name__)


def _carry_info(out: Any, before: Any) -> Any:
    """Re-attach the batch info that a hand-written stage's plain ``(x, y)`` tuple dropped."""
    if isinstance(out, Batch) or not isinstance(before, Batch):
        return out
    if not (isinstance(out, tuple) and len(out) == 2 and hasattr(out[1], "__len__")):
        return out
    info = before.info
    if len(out[1]) != before.size:  # samples dropped or added: per-sample fields no longer align
        info = replace(info, keys=None, paths=None, applied=None)
    return Batch(out[0], out[1], info)


class GeneratorPipeline:
    """Drive two-yield stages over the batches of ``source``.

    Parameters
    ----------
    source
        Any iterable of batches, typically :func:`genlab.dataset`.
    *steps
        Unprimed two-yield generators: genlab's stages or your own, mixed freely.
    observer
        Optional ``observer(name, batch, seconds)`` called after every stage of every batch
        (memory and time accounting use it).

    Iterating yields the batches that come out of the last stage. ``close()`` (also called
    by ``with`` and when an error escapes) closes every stage and the source, so their
    ``finally`` / ``except GeneratorExit`` cleanup runs. An exception inside a stage is
    re-raised as :class:`StageError` naming the stage, with the original chained.
    """

    def __init__(
        self,
        source: Iterable,
        *steps: Generator,
        observer: Callable[[str, Any, float], None] | None = None,
    ):
        for i, step in enumerate(steps):
            if not (hasattr(step, "send") and hasattr(step, "close")):
                raise TypeError(
                    f"step {i} of GeneratorPipeline must be a generator object (call the stage "
                    f"factory: read_images(), not read_images), got {step!r}"
                )
        self.source = source
        self.steps = steps
        self.observer = observer
        self.report = RunReport()
        self._run = self._drive()

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        return next(self._run)

    def __enter__(self) -> GeneratorPipeline:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the driver, every stage and the source."""
        self._run.close()

    def _drive(self) -> Iterator:
        started = time.perf_counter()
        names = [stage_name(s) for s in self.steps]
        try:
            for batch in self.source:
                for name, step in zip(names, self.steps):
                    self._send(step, name, None)
                for name, step in zip(names, self.steps):
                    t0 = time.perf_counter()
                    out = self._send(step, name, batch)
                    if out is None:
                        raise StageError(
                            f"stage {name!r} emitted None: a stage must receive with "
                            f"`data = yield` and then emit with `yield result`",
                            name,
                        )
                    batch = _carry_info(out, batch)
                    if self.observer is not None:
                        self.observer(name, batch, time.perf_counter() - t0)
                self.report.add_batch(batch)
                self.report.seconds = time.perf_counter() - started
                yield batch
        finally:
            for step in self.steps:
                step.close()
            close_source = getattr(self.source, "close", None)
            if close_source is not None:
                close_source()

    @staticmethod
    def _send(step: Generator, name: str, value: Any) -> Any:
        try:
            return step.send(value)
        except StopIteration:
            raise StageError(f"stage {name!r} stopped; a stage must loop forever", name) from None
        except StageError:
            raise
        except Exception as e:
            where = ""
            info = getattr(value, "info", None)
            if info is not None:
                where = f" on batch {info.index} of epoch {info.epoch}"
            raise StageError(f"stage {name!r} failed{where}: {type(e).__name__}: {e}", name) from e


def _two_yield(fn: Callable, params: dict, name: str, wants_rng: bool) -> Generator:
    while True:
        batch = yield
        if not isinstance(batch, Batch):
            batch = Batch(*batch)
        if wants_rng:
            yield fn(batch, rng=batch_rng(batch.info, name), **params)
        else:
            yield fn(batch, **params)


def stage(
    fn: Callable | None = None,
    *,
    name: str | None = None,
    params: dict[str, Param] | None = None,
    help: str = "",
) -> Callable:
    """Turn ``fn(batch, **params) -> batch`` into a registered two-yield stage factory.

    The factory checks its parameters at once against the declarations (a ValueError
    names the stage and the parameter) and returns an unprimed two-yield generator.
    A function that takes an ``rng`` argument gets a generator seeded from the pipeline
    seed, the stage name, the epoch and the batch, so runs are reproducible.

    >>> from genlab.params import Float
    >>> @stage(params={"factor": Float(2.0, low=0.0, high=10.0, help="multiplier")})
    ... def scale_by(batch, *, factor):
    ...     return batch.replace(x=batch.x * factor)
    >>> import numpy as np
    >>> out = list(GeneratorPipeline(iter([(np.ones(2), np.eye(2))]), scale_by(factor=3)))
    >>> out[0].x.tolist()
    [3.0, 3.0]
    >>> scale_by(factor=-1)
    Traceback (most recent call last):
    ...
    ValueError: scale_by: parameter 'factor' must be between 0.0 and 10.0, got -1.0
    >>> registry.unregister("scale_by")
    """

    def decorate(fn: Callable) -> Callable:
        stage_name_ = name or fn.__name__
        declared = dict(params or {})
        wants_rng = "rng" in inspect.signature(fn).parameters

        def factory(**given: Any) -> Generator:
            values = info.validate(given)
            gen = _two_yield(fn, values, stage_name_, wants_rng)
            gen.__name__ = gen.__qualname__ = stage_name_
            return gen

        factory.__name__ = factory.__qualname__ = stage_name_
        factory.__module__ = fn.__module__
        factory.__doc__ = fn.__doc__
        factory.__wrapped__ = fn  # type: ignore[attr-defined]
        factory.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=d.default)
                for p, d in declared.items()
            ]
        )
        info = registry.register(stage_name_, factory, declared, help)
        factory.info = info  # type: ignore[attr-defined]
        return factory

    return decorate(fn) if fn is not None else decorate
