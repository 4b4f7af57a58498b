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
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from .. import registry
from ..batch import Batch
from ..params import Param
from ..report import RunReport
from ..seeding import batch_rng

__all__ = [
    "DriverAction",
    "GeneratorPipeline",
    "StageError",
    "close_chain",
    "driver_actions",
    "stage",
    "stage_name",
    "two_yield_stage",
]


class StageError(RuntimeError):
    """A stage failed or broke the protocol. ``.stage`` names it; the cause is chained.

    ``.position`` is the stage's place in the chain when the driver knows it (else None).
    """

    def __init__(self, message: str, stage: str, position: int | None = None):
        super().__init__(message)
        self.stage = stage
        self.position = position


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
        info = replace(info, keys=None, paths=None, applied=None, targets=None)
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
        actions = driver_actions(self.source, self.steps)
        try:
            for action in actions:
                if action.kind == "send" and self.observer is not None:
                    self.observer(action.name, action.out, action.seconds)
                elif action.kind == "out":
                    self.report.add_batch(action.out)
                    self.report.seconds = time.perf_counter() - started
                    yield action.out
        finally:
            actions.close()
            close_chain(self.steps, self.source)


class DriverAction(NamedTuple):
    """One thing the driver did, as :func:`driver_actions` reports it.

    ``kind`` is ``"prime"`` (``send(None)`` to a new stage, which runs to its receiving
    ``yield``), ``"advance"`` (``send(None)`` to a stage waiting at its emitting ``yield``,
    which loops back to receive), ``"send"`` (the batch sent in, ``out`` the batch it
    emitted, with the batch info carried over) or ``"out"`` (the batch leaves the chain;
    ``stage`` is then the number of stages and ``name`` is empty).
    """

    kind: str
    batch_index: int
    stage: int
    name: str
    sent: Any
    out: Any
    seconds: float


def driver_actions(source: Iterable, steps: Sequence[Generator]) -> Iterator[DriverAction]:
    """Drive ``steps`` over the batches of ``source``, reporting every action as it is done.

    This is :class:`GeneratorPipeline`'s driver, one ``send`` at a time: for each batch it
    sends ``None`` to every stage, then the batch through them in order, then hands the
    batch out. It closes nothing: the caller closes the chain with :func:`close_chain`
    (a stage that raises escapes as :class:`StageError`, naming it and its position).

    >>> def double():
    ...     while True:
    ...         x, y = yield
    ...         yield x * 2, y
    >>> [(a.kind, a.stage, a.out) for a in driver_actions([(1, "a")], [double()])]
    [('prime', 0, None), ('send', 0, (2, 'a')), ('out', 1, (2, 'a'))]
    """
    names = [stage_name(s) for s in steps]
    perf_counter = time.perf_counter
    for index, batch in enumerate(source):
        kind = "prime" if index == 0 else "advance"
        for position, (name, step) in enumerate(zip(names, steps)):
            t0 = perf_counter()
            out = _send(step, name, None, position)
            yield DriverAction(kind, index, position, name, None, out, perf_counter() - t0)
        for position, (name, step) in enumerate(zip(names, steps)):
            t0 = perf_counter()
            out = _send(step, name, batch, position)
            if out is None:
                raise StageError(
                    f"stage {name!r} emitted None: a stage must receive with "
                    f"`data = yield` and then emit with `yield result`",
                    name,
                    position,
                )
            sent, batch = batch, _carry_info(out, batch)
            yield DriverAction("send", index, position, name, sent, batch, perf_counter() - t0)
        yield DriverAction("out", index, len(names), "", batch, batch, 0.0)


def close_chain(steps: Sequence[Generator], source: Any = None) -> None:
    """Close every stage in order (their ``finally`` blocks run), then the source if it can be."""
    for step in steps:
        step.close()
    close_source = getattr(source, "close", None)
    if close_source is not None:
        close_source()


def _send(step: Generator, name: str, value: Any, position: int | None = None) -> Any:
    try:
        return step.send(value)
    except StopIteration:
        raise StageError(
            f"stage {name!r} stopped; a stage must loop forever", name, position
        ) from None
    except StageError:
        raise
    except Exception as e:
        where = ""
        info = getattr(value, "info", None)
        if info is not None:
            where = f" on batch {info.index} of epoch {info.epoch}"
        raise StageError(
            f"stage {name!r} failed{where}: {type(e).__name__}: {e}", name, position
        ) from e


def two_yield_stage(fn: Callable[[Batch], Any], name: str) -> Generator:
    """The two-yield stage that runs ``fn(batch)`` on every batch it receives: the one way to make one.

    Returns an unprimed generator named ``name`` (errors name it). A plain ``(x, y)`` tuple sent
    in reaches ``fn`` as a :class:`~genlab.batch.Batch`. :func:`stage`, genlab's ops, the stages
    of albumentations and torchvision transforms and the fused read-and-crop stage are all made
    by it, so they pause at the same two ``yield`` s a stepper shows.

    >>> import numpy as np
    >>> gen = two_yield_stage(lambda batch: batch.replace(x=batch.x + 1), "plus_one")
    >>> x, y = next(GeneratorPipeline(iter([(np.zeros(2), np.eye(2))]), gen))
    >>> x.tolist(), gen.__name__
    ([1.0, 1.0], 'plus_one')
    """
    gen = _batch_loop(fn)
    gen.__name__ = gen.__qualname__ = name  # type: ignore[attr-defined]
    return gen


def _batch_loop(fn: Callable[[Batch], Any]) -> Generator:
    while True:
        batch = yield
        if not isinstance(batch, Batch):
            batch = Batch(*batch)
        yield fn(batch)


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
            if wants_rng:
                return two_yield_stage(
                    lambda batch: fn(batch, rng=batch_rng(batch.info, stage_name_), **values),
                    stage_name_,
                )
            return two_yield_stage(lambda batch: fn(batch, **values), stage_name_)

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
