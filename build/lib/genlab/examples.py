"""The small generator and coroutine examples of the post, as runnable code.

A generator *produces* values on demand: :func:`catalan` yields the Catalan numbers one
at a time, forever, and the consumer decides how many it wants.

A coroutine *consumes* values sent to it and answers each one: :func:`val_loss_extractor`
receives checkpoint file names and replies with the validation loss written in each name,
the way a training script picks its best checkpoint. It is primed by :func:`coroutine`
(advanced to its first ``yield``) so that ``send`` can be called right away.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, TypeVar

__all__ = [
    "DEFAULT_VAL_LOSS_PATTERN",
    "best_checkpoint",
    "catalan",
    "coroutine",
    "val_loss_extractor",
]

_G = TypeVar("_G", bound=Generator)

DEFAULT_VAL_LOSS_PATTERN = r"val_loss[_=-]?(?P<val_loss>[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)"
"""Matches ``val_loss0.4321``, ``val_loss_0.43``, ``val_loss=4.3e-01`` inside a name."""


def catalan() -> Iterator[int]:
    """Yield the Catalan numbers 1, 1, 2, 5, 14, 42, ... forever.

    Each number follows from the previous one, ``C(n+1) = C(n) * 2 * (2n + 1) / (n + 2)``,
    so the generator keeps just two integers between values.

    Examples
    --------
    >>> from itertools import islice
    >>> list(islice(catalan(), 10))
    [1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862]
    >>> next(islice(catalan(), 30, None))  # C(30), exact: Python ints do not overflow
    3814986502092304
    """
    value, n = 1, 0
    while True:
        yield value
        value = value * 2 * (2 * n + 1) // (n + 2)
        n += 1


def coroutine(func: Callable[..., _G]) -> Callable[..., _G]:
    """Decorate a generator function so that calling it returns a primed coroutine.

    Priming runs the body up to its first ``yield``, where it waits for ``send``.

    Examples
    --------
    >>> @coroutine
    ... def echo():
    ...     reply = None
    ...     while True:
    ...         received = yield reply
    ...         reply = received.upper()
    >>> echo().send("ready")
    'READY'
    """

    @functools.wraps(func)
    def start(*args: Any, **kwargs: Any) -> _G:
        generator = func(*args, **kwargs)
        next(generator)
        return generator

    return start


def val_loss_extractor(
    pattern: str | re.Pattern[str] = DEFAULT_VAL_LOSS_PATTERN,
) -> Generator[float | None, str, None]:
    """Return a primed coroutine that replies to each checkpoint name with its validation loss.

    Send it a file name; it answers with the loss as a float, or ``None`` when the name
    does not match `pattern`. The pattern is checked here, before the coroutine starts,
    so a bad one fails at the call.

    Parameters
    ----------
    pattern : str or re.Pattern
        Regular expression searched in each name. The loss is its group named
        ``val_loss``, or else its only group.

    Returns
    -------
    generator
        A primed coroutine: use ``send(name)``; ``close()`` when done.

    Raises
    ------
    ValueError
        If `pattern` does not compile, or has neither a ``val_loss`` group nor exactly one
        group.

    Examples
    --------
    >>> losses = val_loss_extractor()
    >>> losses.send("weights-epoch03-val_loss0.4321.hdf5")
    0.4321
    >>> losses.send("weights-epoch04-val_loss0.3987.hdf5")
    0.3987
    >>> losses.send("notes.txt") is None
    True
    >>> keras_style = val_loss_extractor(r"weights\\.\\d+-([0-9.]+)\\.hdf5")
    >>> keras_style.send("weights.07-0.52.hdf5")
    0.52
    """
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise ValueError(f"val_loss_extractor: pattern {pattern!r} is not valid: {e}") from e
    if "val_loss" in regex.groupindex:
        group: int | str = "val_loss"
    elif regex.groups == 1:
        group = 1
    else:
        raise ValueError(
            f"val_loss_extractor: pattern {regex.pattern!r} needs a group named 'val_loss' "
            f"or exactly one group, it has {regex.groups}"
        )
    return _extract_val_loss(regex, group)


@coroutine
def _extract_val_loss(
    regex: re.Pattern[str], group: int | str
) -> Generator[float | None, str, None]:
    loss: float | None = None
    while True:
        name = yield loss
        match = regex.search(str(name))
        loss = None
        if match is not None:
            try:
                loss = float(match.group(group).rstrip("."))
            except ValueError:  # a group that matched something that is not a number
                loss = None


def best_checkpoint(
    names: Iterable[str], pattern: str | re.Pattern[str] = DEFAULT_VAL_LOSS_PATTERN
) -> str:
    """Return the checkpoint name with the lowest validation loss.

    Names that do not match `pattern` are passed over; on a tie, the first name wins.

    Parameters
    ----------
    names : iterable of str
        Checkpoint file names (or paths), for example a folder listing.
    pattern : str or re.Pattern
        As in :func:`val_loss_extractor`.

    Raises
    ------
    ValueError
        If no name carries a validation loss.

    Examples
    --------
    >>> best_checkpoint([
    ...     "weights-epoch01-val_loss0.6120.hdf5",
    ...     "weights-epoch02-val_loss0.4321.hdf5",
    ...     "weights-epoch03-val_loss0.4502.hdf5",
    ...     "training.log",
    ... ])
    'weights-epoch02-val_loss0.4321.hdf5'
    """
    extractor = val_loss_extractor(pattern)
    best_name, best_loss = None, float("inf")
    seen = []
    try:
        for name in names:
            seen.append(name)
            loss = extractor.send(name)
            if loss is not None and (best_name is None or loss < best_loss):
                best_name, best_loss = name, loss
    finally:
        extractor.close()
    if best_name is None:
        shown = seen[:3] + (["..."] if len(seen) > 3 else [])
        raise ValueError(f"best_checkpoint: no name carries a validation loss among {shown!r}")
    return best_name
