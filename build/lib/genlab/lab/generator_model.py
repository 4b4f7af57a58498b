"""Step a generator or a generator-based coroutine by hand and record what happens.

This is the logic behind :class:`genlab.lab.GeneratorStepper`, kept free of widgets so it can be
tested and used on its own:

>>> def countdown(n):
...     while n > 0:
...         received = yield n
...         n -= 1 if received is None else received
>>> session = GeneratorSession(countdown(5))
>>> session.state
'created'
>>> session.next().value
'5'
>>> session.send(2).value
'3'
>>> session.paused_line_text().strip()
'received = yield n'
>>> session.locals()["n"]
'3'
>>> session.close().outcome, session.state
('closed', 'closed')
"""

from __future__ import annotations

import ast
import html
import inspect
import reprlib
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import GeneratorType
from typing import Any

#: Exception types offered by ``throw``, by name.
THROWABLE: dict[str, type[BaseException]] = {
    "ValueError": ValueError,
    "RuntimeError": RuntimeError,
    "KeyError": KeyError,
    "TypeError": TypeError,
    "Exception": Exception,
}

_STATE_NAMES = {
    inspect.GEN_CREATED: "created",
    inspect.GEN_SUSPENDED: "suspended",
    inspect.GEN_RUNNING: "running",
    inspect.GEN_CLOSED: "closed",
}


class _ShortRepr(reprlib.Repr):
    """``reprlib`` that summarises arrays and genlab batches instead of printing their values."""

    def __init__(self, maxstring: int = 80) -> None:
        super().__init__()
        self.maxstring = maxstring
        self.maxother = maxstring
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 6

    def repr_ndarray(self, x: Any, level: int) -> str:
        return f"ndarray(shape={tuple(x.shape)}, dtype={x.dtype})"

    def repr_Batch(self, x: Any, level: int) -> str:
        return "Batch" + self.repr_tuple(tuple(x), level)


def short_repr(value: Any, limit: int = 80) -> str:
    """Return a one-line repr of ``value`` at most about ``limit`` characters long.

    Arrays are summarised by shape and dtype, so a batch of images stays readable.

    >>> import numpy as np
    >>> short_repr((np.zeros((2, 8, 8, 3), np.uint8), [1, 2]))
    '(ndarray(shape=(2, 8, 8, 3), dtype=uint8), [1, 2])'
    >>> len(short_repr("x" * 500, limit=40)) <= 40
    True
    """
    return _ShortRepr(limit).repr(value)


def parse_value(text: str) -> Any:
    """Turn the text typed for ``send`` into a Python value.

    Python literals are evaluated safely with :func:`ast.literal_eval`; anything else is sent as the
    string itself, and an empty field sends ``None``.

    >>> parse_value("3"), parse_value("[1, 'a']"), parse_value("model_0.42.ckpt"), parse_value("  ")
    (3, [1, 'a'], 'model_0.42.ckpt', None)
    """
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


@dataclass(frozen=True)
class Step:
    """One action taken on the generator and what came of it.

    ``outcome`` is ``"yielded"`` (``value`` is the yielded value's repr), ``"returned"`` (the
    generator finished; ``value`` is the repr of its return value), ``"raised"`` (``value`` names the
    exception) or ``"closed"``.
    """

    action: str
    sent: str | None
    outcome: str
    value: str

    def describe(self) -> str:
        """Return the step as one line, for example ``send(3) -> yielded 5``."""
        call = f"{self.action}({self.sent})" if self.sent is not None else f"{self.action}()"
        return f"{call} -> {self.outcome} {self.value}".rstrip()


class GeneratorSession:
    """Drive a generator step by step and keep its history.

    Parameters
    ----------
    gen_or_factory
        A generator object, or a callable taking no arguments that returns one (a generator function
        such as ``genlab.examples.catalan``); a factory makes :meth:`reset` possible.
    inputs
        Optional values for :meth:`send_input` to send one at a time, for example the source batches
        of a pipeline when stepping one of its stages.
    """

    def __init__(
        self,
        gen_or_factory: GeneratorType | Callable[[], GeneratorType],
        inputs: Iterable[Any] | None = None,
    ) -> None:
        if isinstance(gen_or_factory, GeneratorType):
            self.factory: Callable[[], GeneratorType] | None = None
            self.generator = gen_or_factory
        elif callable(gen_or_factory):
            self.factory = gen_or_factory
            self.generator = self._make()
        else:
            raise TypeError(
                f"expected a generator or a function returning one, got {gen_or_factory!r}"
            )
        self._inputs_source = inputs
        self._inputs: Iterator[Any] | None = None if inputs is None else iter(inputs)
        self.history: list[Step] = []
        self.last_error: BaseException | None = None

    def _make(self) -> GeneratorType:
        generator = self.factory()
        if not isinstance(generator, GeneratorType):
            raise TypeError(f"{self.factory!r} returned {generator!r}, which is not a generator")
        return generator

    # -- state --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The generator function's qualified name."""
        return self.generator.__qualname__

    @property
    def state(self) -> str:
        """``created``, ``suspended``, ``running`` or ``closed`` (:func:`inspect.getgeneratorstate`)."""
        return _STATE_NAMES[inspect.getgeneratorstate(self.generator)]

    @property
    def paused_line(self) -> int | None:
        """The source line number the generator is paused at, or None once it is closed."""
        frame = self.generator.gi_frame
        return None if frame is None else frame.f_lineno

    def source(self) -> tuple[list[str], int]:
        """Return the generator function's source lines and the number of the first one."""
        try:
            lines, start = inspect.getsourcelines(self.generator.gi_code)
        except (OSError, TypeError):
            return [], 0
        return [line.rstrip("\n") for line in lines], max(start, 1)

    def paused_line_text(self) -> str | None:
        """Return the source text of the line the generator is paused at, if known."""
        line = self.paused_line
        lines, start = self.source()
        if line is None or not lines or not start <= line < start + len(lines):
            return None
        return lines[line - start]

    def frame_locals(self) -> dict[str, Any]:
        """Return the paused frame's local variables themselves (empty once closed)."""
        frame = self.generator.gi_frame
        return {} if frame is None else dict(frame.f_locals)

    def locals(self, limit: int = 80) -> dict[str, str]:
        """Return the paused frame's local variables as short reprs (empty once closed)."""
        return {name: short_repr(value, limit) for name, value in self.frame_locals().items()}

    @property
    def has_inputs(self) -> bool:
        """Whether :meth:`send_input` has values to send."""
        return self._inputs is not None

    # -- actions ------------------------------------------------------------------------------
    def _record(self, action: str, sent_text: str | None, run: Callable[[], Any]) -> Step:
        self.last_error = None
        try:
            value = run()
        except StopIteration as stop:
            step = Step(action, sent_text, "returned", short_repr(stop.value))
        except Exception as error:  # shown in the widget rather than as a traceback
            self.last_error = error
            step = Step(action, sent_text, "raised", f"{type(error).__name__}: {error}")
        else:
            step = Step(action, sent_text, "yielded", short_repr(value))
        self.history.append(step)
        return step

    def next(self) -> Step:
        """Call ``next()`` on the generator."""
        return self._record("next", None, lambda: next(self.generator))

    def send(self, value: Any) -> Step:
        """Send ``value`` into the generator (it becomes the value of the paused ``yield``)."""
        return self._record("send", short_repr(value), lambda: self.generator.send(value))

    def send_input(self) -> Step:
        """Send the next value from ``inputs``; records ``raised`` when there are none left."""
        if self._inputs is None:
            raise ValueError("this session was created without inputs to send")
        try:
            value = next(self._inputs)
        except StopIteration:
            step = Step("send", None, "raised", "no inputs left")
            self.history.append(step)
            return step
        return self.send(value)

    def throw(self, exception: str | type[BaseException], message: str = "") -> Step:
        """Raise ``exception(message)`` inside the generator at the paused ``yield``."""
        if isinstance(exception, str):
            if exception not in THROWABLE:
                raise ValueError(f"exception must be one of {sorted(THROWABLE)}, got {exception!r}")
            exception = THROWABLE[exception]
        error = exception(message)
        return self._record(
            "throw", f"{exception.__name__}({message!r})", lambda: self.generator.throw(error)
        )

    def close(self) -> Step:
        """Close the generator (``GeneratorExit`` is raised at the paused ``yield``)."""
        step = self._record("close", None, self.generator.close)
        if step.outcome == "yielded":  # close() returned normally
            step = Step("close", None, "closed", "")
            self.history[-1] = step
        return step

    def reset(self) -> None:
        """Close the generator and start a fresh one from the factory, with a fresh history."""
        if self.factory is None:
            raise ValueError("reset needs a generator function, not a generator object")
        self.generator.close()
        self.generator = self._make()
        if self._inputs_source is not None:
            self._inputs = iter(self._inputs_source)
        self.history.clear()
        self.last_error = None

    # -- rendering ----------------------------------------------------------------------------
    def source_html(self, fold_docstring: bool = True) -> str:
        """Return the source as HTML with line numbers and the paused line highlighted.

        The function's docstring is folded to one line unless ``fold_docstring`` is false.
        """
        lines, start = self.source()
        if not lines:
            return "<pre class='genlab-source'>(source not available)</pre>"
        folded = _docstring_lines(lines) if fold_docstring else range(0)
        paused = self.paused_line
        rows = []
        for offset, text in enumerate(lines):
            number = start + offset
            if offset in folded and offset != folded.start:
                continue
            code = html.escape(text) or " "
            if offset in folded:
                indent = text[: len(text) - len(text.lstrip())]
                code = (
                    f'{indent}<i style=\'color:#57606a\'>"""docstring: {len(folded)} lines"""</i>'
                )
            if number == paused:
                rows.append(
                    f"<span class='genlab-paused-line' style='background:#ffe08a;"
                    f"font-weight:bold'>&#9654;{number:4d}  {code}</span>"
                )
            else:
                rows.append(f"<span> {number:4d}  {code}</span>")
        return (
            "<pre class='genlab-source' style='line-height:1.35;margin:0;white-space:pre;"
            "overflow-x:auto'>" + "\n".join(rows) + "</pre>"
        )

    def locals_html(self) -> str:
        """Return the paused frame's locals as an HTML table."""
        values = self.locals()
        if not values:
            return "<i>no frame (the generator is closed)</i>" if self.state == "closed" else ""
        rows = "".join(
            f"<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(v)}</code></td></tr>"
            for k, v in values.items()
        )
        return f"<table class='genlab-locals'>{rows}</table>"

    def history_html(self, last: int = 30) -> str:
        """Return the last ``last`` steps as an HTML ordered list, oldest first."""
        if not self.history:
            return "<i>nothing yet: press next()</i>"
        first = max(len(self.history) - last, 0)
        items = "".join(
            f"<li value='{i + 1}'><code>{html.escape(step.describe())}</code></li>"
            for i, step in enumerate(self.history[first:], start=first)
        )
        return f"<ol class='genlab-history'>{items}</ol>"


def _docstring_lines(lines: list[str]) -> range:
    """Return the positions in ``lines`` (a function's source) that its docstring spans."""
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError:
        return range(0)
    function = tree.body[0] if tree.body else None
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or not function.body:
        return range(0)
    first = function.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        return range(0)
    if not isinstance(first.value.value, str) or len(function.body) == 1:
        return range(0)
    return range(first.lineno - 1, first.end_lineno)
