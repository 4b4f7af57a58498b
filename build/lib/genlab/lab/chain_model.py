"""Step a whole chain of two-yield stages the way its driver runs it, one ``send`` at a time.

This is the logic behind :class:`genlab.lab.ChainStepper`, free of widgets. The actions are
:class:`~genlab.stages.protocol.GeneratorPipeline`'s own (:func:`~genlab.stages.protocol.driver_actions`):
for each batch the driver sends ``None`` to every stage (*prime* a new stage, *advance* one waiting
at its emitting ``yield`` back to receive), then sends the batch into each stage in order and takes
what it emits, then hands the batch out. Each stage is watched through a
:class:`~genlab.lab.generator_model.GeneratorSession` (its paused line and locals).

>>> import numpy as np
>>> def double():
...     while True:
...         x, y = yield
...         yield x * 2, y
>>> batches = [(np.arange(3, dtype=np.int64), ["a", "b", "c"])]
>>> chain = ChainSession(GeneratorPipeline(iter(batches), double(), double()))
>>> [chain.step().describe() for _ in range(3)]  # doctest: +NORMALIZE_WHITESPACE
['batch 0: prime stage 0 double: send(None) -> suspended at receive',
 'batch 0: prime stage 1 double: send(None) -> suspended at receive',
 'batch 0: send into stage 0 double: x (3,) int64 24 B · y list of 3 -> emitted x (3,) int64 24 B · y list of 3']
>>> print(chain.describe())
GeneratorPipeline of 2 stages, epoch 0: 0 batches out
last: batch 0: send into stage 0 double: x (3,) int64 24 B · y list of 3 -> emitted x (3,) int64 24 B · y list of 3
source
  --> x (3,) int64 24 B · y list of 3
stage 0 double: suspended at emit, line 4: yield x * 2, y
  locals: x = ndarray (3,) int64, 24 B; y = ['a', 'b', 'c']
  --> x (3,) int64 24 B · y list of 3
stage 1 double: suspended at receive, line 3: x, y = yield
  locals: (none yet)
  --> (nothing yet)
the driver's for loop
>>> chain.step_batch()[-1].kind, chain.batches_out
('out', 1)
>>> chain.run()[-1].describe()
'end of the source: every stage closed (finally blocks ran) and the source'
>>> chain.state(0), chain.finished
('closed', True)
"""

from __future__ import annotations

import contextlib
import inspect
import io
import sys
import sysconfig
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import GeneratorType
from typing import Any

from genlab.lab.generator_model import GeneratorSession
from genlab.lab.summaries import summarise, travelled
from genlab.stages.protocol import (
    DriverAction,
    GeneratorPipeline,
    StageError,
    close_chain,
    driver_actions,
    stage_name,
)

__all__ = ["ChainFailure", "ChainSession", "ChainStep", "StageSnapshot"]

_ENDS_STAGE = ("send", "out", "end", "raised")
_ENDS_BATCH = ("out", "end", "raised")
_ENDS_RUN = ("end", "raised")


@dataclass(frozen=True)
class ChainStep:
    """One driver action on the chain and what came of it.

    ``kind`` is ``prime``, ``advance``, ``send`` or ``out`` (the driver's actions, see
    :class:`~genlab.stages.protocol.DriverAction`), ``end`` (the source ran out and the
    chain was closed), ``raised`` (a stage or the source raised; the chain was closed) or
    ``close``. ``sent`` and ``value`` summarise what went in and what came back; ``printed``
    is what the stages printed meanwhile (for example from their ``finally`` blocks).
    """

    kind: str
    batch: int | None
    stage: int | None
    name: str
    sent: str
    value: str
    printed: str = ""

    def describe(self) -> str:
        """Return the step as one line of text."""
        where = f"stage {self.stage} {self.name}"
        text = {
            "prime": f"prime {where}: send(None) -> suspended at receive",
            "advance": f"advance {where} back to receive: send(None) -> suspended at receive",
            "send": f"send into {where}: {self.sent} -> emitted {self.value}",
            "out": f"the batch leaves the chain: {self.value}",
            "end": f"end of the source: {self.value}",
            "raised": f"{'the source' if self.stage is None else where} raised {self.value}; "
            "the driver closed every stage and the source",
            "close": f"close(): {self.value}",
        }[self.kind]
        if self.kind in ("prime", "advance") and self.value != "None":
            text += f" (it yielded {self.value}, which the driver ignores)"
        return text if self.batch is None else f"batch {self.batch}: {text}"


@dataclass(frozen=True)
class StageSnapshot:
    """One stage's state as text: where it is paused and its locals summarised."""

    position: int
    name: str
    state: str
    line: int | None
    line_text: str | None
    locals: dict[str, str]

    def describe(self) -> str:
        """Return the stage as two lines: state and paused line, then its locals."""
        head = f"stage {self.position} {self.name}: {self.state}"
        if self.line is not None:
            head += f", line {self.line}"
            if self.line_text:
                head += f": {self.line_text.strip()}"
        if self.locals:
            values = "; ".join(f"{k} = {v}" for k, v in self.locals.items())
        else:
            values = "(closed)" if self.state == "closed" else "(none yet)"
        return f"{head}\n  locals: {values}"


@dataclass(frozen=True)
class ChainFailure:
    """Where the chain failed: the stage, its line, the traceback and every stage's state then."""

    stage: int | None
    name: str
    message: str
    line: int | None
    line_text: str | None
    traceback: str
    stages: tuple[StageSnapshot, ...]
    #: The traceback's frames in the user's own code (not genlab's, not installed packages').
    user_traceback: str = ""

    def describe(self) -> str:
        """Return the failure and the chain's state at that moment as text."""
        where = "the source" if self.stage is None else f"stage {self.stage} {self.name}"
        if self.line is not None:
            where += f" at line {self.line}"
            if self.line_text:
                where += f": {self.line_text.strip()}"
        states = "\n".join(s.describe() for s in self.stages)
        return f"error in {where}\n{self.message}\nthe chain when it raised:\n{states}"


_LIBRARY_FOLDERS = tuple(
    {
        str(Path(__file__).resolve().parents[1]),  # genlab itself
        *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
)


def user_frames(frames: Sequence[traceback.FrameSummary]) -> list[traceback.FrameSummary]:
    """The frames of ``frames`` in the user's own code: not in genlab, the standard library or
    an installed package (a notebook cell's frames are the user's)."""
    return [f for f in frames if not str(Path(f.filename).resolve()).startswith(_LIBRARY_FOLDERS)]


class _Tee(io.TextIOBase):
    """Write to a stream and keep a copy."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text) if self.stream is not None else len(text)

    def flush(self) -> None:
        if self.stream is not None:
            self.stream.flush()


class ChainSession:
    """Drive a chain of two-yield stages one driver action at a time and keep its history.

    Parameters
    ----------
    chain
        A fresh :class:`~genlab.stages.protocol.GeneratorPipeline` (not yet iterated), a
        :class:`genlab.Pipeline` (its enabled stages over the source batches of ``epoch``), or a
        function of no arguments returning a fresh ``GeneratorPipeline``. The last two make
        :meth:`reset` possible.
    epoch
        The epoch of a ``Pipeline`` to step.

    Notes
    -----
    The stages run exactly as in ``GeneratorPipeline``: the same driver, the same errors, the same
    closing (when the source runs out or a stage raises, every stage and the source are closed).
    Anything the stages print while an action runs is kept in :attr:`ChainStep.printed` (and still
    printed).
    """

    def __init__(
        self,
        chain: GeneratorPipeline | Any | Callable[[], GeneratorPipeline],
        *,
        epoch: int = 0,
    ) -> None:
        self._chain = chain
        self.epoch = epoch
        if _is_pipeline(chain):
            self.kind = "Pipeline"
        elif isinstance(chain, GeneratorPipeline) or callable(chain):
            self.kind = "GeneratorPipeline"
        else:
            raise TypeError(
                "ChainSession needs a GeneratorPipeline, a genlab.Pipeline or a function returning "
                f"a GeneratorPipeline, got {chain!r}"
            )
        self._start(chain if isinstance(chain, GeneratorPipeline) else None)

    def _start(self, given: GeneratorPipeline | None) -> None:
        if given is not None:
            source, steps = given.source, list(given.steps)
        elif _is_pipeline(self._chain):
            source, steps = self._chain.source_batches(self.epoch), self._chain.build_stages()
        else:
            made = self._chain()
            if not isinstance(made, GeneratorPipeline):
                raise TypeError(f"{self._chain!r} returned {made!r}, not a GeneratorPipeline")
            source, steps = made.source, list(made.steps)
        for position, step in enumerate(steps):
            if (
                isinstance(step, GeneratorType)
                and inspect.getgeneratorstate(step) != inspect.GEN_CREATED
            ):
                raise ValueError(
                    f"stage {position} {stage_name(step)!r} has already run: step a fresh chain "
                    f"(build the stages again) or pass a function that builds it"
                )
        self.source = source
        self.steps: list[Any] = steps
        self.names = [stage_name(s) for s in steps]
        self.sessions = [
            GeneratorSession(s) if isinstance(s, GeneratorType) else None for s in steps
        ]
        self._actions = driver_actions(source, steps)
        self._at = ["created"] * len(steps)  # where the driver left each stage
        #: The last value that went along each arrow: source -> stage 0, ..., last stage -> out.
        self.travelled: list[Any] = [None] * (len(steps) + 1)
        self.history: list[ChainStep] = []
        self.failure: ChainFailure | None = None
        self.batches_out = 0
        self.batch_index: int | None = None
        self.finished = False

    # -- state --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.steps)

    def state(self, position: int) -> str:
        """``created``, ``suspended at receive``, ``suspended at emit`` or ``closed``."""
        step = self.steps[position]
        if isinstance(step, GeneratorType):
            generator_state = inspect.getgeneratorstate(step)
            if generator_state == inspect.GEN_CLOSED:
                return "closed"
            if generator_state == inspect.GEN_CREATED:
                return "created"
        elif self.finished:
            return "closed"
        at = self._at[position]
        return at if at == "created" else f"suspended at {at}"

    def stage_snapshot(self, position: int) -> StageSnapshot:
        """The state, paused line and summarised locals of the stage at ``position``."""
        session = self.sessions[position]
        line = line_text = None
        values: dict[str, str] = {}
        if session is not None:
            line, line_text = session.paused_line, session.paused_line_text()
            values = {k: summarise(v) for k, v in session.frame_locals().items()}
        return StageSnapshot(
            position, self.names[position], self.state(position), line, line_text, values
        )

    def snapshot(self) -> tuple[StageSnapshot, ...]:
        """Every stage's :class:`StageSnapshot`, in order."""
        return tuple(self.stage_snapshot(i) for i in range(len(self.steps)))

    def frame_locals(self, position: int) -> dict[str, Any]:
        """The paused frame's locals of the stage at ``position`` themselves (for thumbnails)."""
        session = self.sessions[position]
        return {} if session is None else session.frame_locals()

    def arrow_text(self, position: int) -> str:
        """What last went along arrow ``position`` (0: into the first stage; last: out)."""
        value = self.travelled[position]
        return "(nothing yet)" if value is None else travelled(value)

    def describe(self) -> str:
        """The whole chain as text, source to the driver's loop: for screen readers and doctests."""
        plural = "" if len(self.steps) == 1 else "s"
        lines = [
            f"{self.kind} of {len(self.steps)} stage{plural}, epoch {self.epoch}: "
            f"{self.batches_out} batch{'' if self.batches_out == 1 else 'es'} out"
            + (" (finished)" if self.finished else "")
        ]
        lines.append("last: " + (self.history[-1].describe() if self.history else "nothing yet"))
        lines.append("source")
        for position in range(len(self.steps)):
            lines.append(f"  --> {self.arrow_text(position)}")
            lines.append(self.stage_snapshot(position).describe())
        lines.append(f"  --> {self.arrow_text(len(self.steps))}")
        lines.append("the driver's for loop")
        if self.failure is not None:
            lines.append(self.failure.describe())
        return "\n".join(lines)

    # -- actions ------------------------------------------------------------------------------
    def step(self) -> ChainStep:
        """Do the driver's next action: prime, send or advance one stage, or hand the batch out."""
        self._check_open()
        tee = _Tee(sys.stdout)
        with contextlib.redirect_stdout(tee):
            try:
                action = next(self._actions)
            except StopIteration:  # the source ran out: the driver's loop ends and closes all
                step = ChainStep("end", None, None, "", "", self._close_all())
            except Exception as error:  # a stage or the source raised: shown, not re-raised
                step = self._fail(error)
            else:
                step = self._take(action)
        return self._record(step, tee)

    def _take(self, action: DriverAction) -> ChainStep:
        self.batch_index = action.batch_index
        if action.kind == "out":
            self.batches_out += 1
            self.travelled[-1] = action.out
            return ChainStep("out", action.batch_index, None, "", "", travelled(action.out))
        position = action.stage
        if action.kind == "send":
            self._at[position] = "emit"
            self.travelled[position] = action.sent
            self.travelled[position + 1] = action.out
            sent, value = travelled(action.sent), travelled(action.out)
        else:
            self._at[position] = "receive"
            sent, value = "None", summarise(action.out)
        return ChainStep(action.kind, action.batch_index, position, action.name, sent, value)

    def _fail(self, error: Exception) -> ChainStep:
        position = error.position if isinstance(error, StageError) else None
        cause = error.__cause__ if error.__cause__ is not None else error
        line = line_text = None
        frames = traceback.extract_tb(cause.__traceback__)
        if position is not None and isinstance(self.steps[position], GeneratorType):
            code = self.steps[position].gi_code
            for frame in frames:
                if frame.filename == code.co_filename and frame.name == code.co_name:
                    line, line_text = frame.lineno, frame.line
        yours = user_frames(frames)
        if position is not None and yours:  # the user's own line, not genlab's wrapper
            line, line_text = yours[-1].lineno, yours[-1].line
        message = str(error) if position is not None else f"{type(error).__name__}: {error}"
        self.failure = ChainFailure(
            position,
            self.names[position] if position is not None else "",
            message,
            line,
            line_text,
            "".join(traceback.format_exception(cause)),
            self.snapshot(),
            "".join(traceback.format_list(yours)) + "".join(traceback.format_exception_only(cause)),
        )
        self._close_all()
        name = self.names[position] if position is not None else ""
        value = f"{type(cause).__name__}: {cause}"
        batch = self.batch_index
        if batch is not None and self.history and self.history[-1].kind == "out":
            batch += 1  # it failed on the next batch's first action
        return ChainStep("raised", batch, position, name, "", value)

    def _close_all(self) -> str:
        """Close every stage and the source as GeneratorPipeline does; say how it went."""
        self.finished = True
        try:
            close_chain(self.steps, self.source)
        except (
            Exception
        ) as error:  # a finally block that raises: shown, as the driver would raise it
            return f"closing raised {type(error).__name__}: {error}"
        return "every stage closed (finally blocks ran) and the source"

    def _record(self, step: ChainStep, tee: _Tee) -> ChainStep:
        printed = tee.copy.getvalue()
        if printed:
            step = replace(step, printed=printed)
        self.history.append(step)
        return step

    def _check_open(self) -> None:
        if self.finished:
            hint = " or reset()" if self.can_reset else ""
            raise RuntimeError(f"the chain is closed: build a new one{hint} to step again")

    def _until(self, kinds: Sequence[str], max_steps: int | None = None) -> list[ChainStep]:
        self._check_open()
        steps: list[ChainStep] = []
        while max_steps is None or len(steps) < max_steps:
            steps.append(self.step())
            if steps[-1].kind in kinds or self.finished:
                break
        return steps

    def step_stage(self) -> list[ChainStep]:
        """Carry the batch through one more stage (with the primes that come first), or out."""
        return self._until(_ENDS_STAGE)

    def step_batch(self) -> list[ChainStep]:
        """Do the actions up to the batch leaving the chain (or the end of the source)."""
        return self._until(_ENDS_BATCH)

    def run(self, max_steps: int | None = None) -> list[ChainStep]:
        """Step to the end of the epoch (the source runs out and the chain closes).

        ``max_steps`` stops earlier, for a source that never ends.
        """
        return self._until(_ENDS_RUN, max_steps)

    def close(self) -> ChainStep:
        """Close every stage (``GeneratorExit`` at its paused ``yield``; finally blocks run) and the source."""
        if self.finished:
            return ChainStep("close", None, None, "", "", "already closed")
        self._actions.close()
        tee = _Tee(sys.stdout)
        with contextlib.redirect_stdout(tee):
            outcome = self._close_all()
        return self._record(ChainStep("close", None, None, "", "", outcome), tee)

    @property
    def can_reset(self) -> bool:
        """Whether :meth:`reset` can build the chain again (a Pipeline or a function was given)."""
        return not isinstance(self._chain, GeneratorPipeline)

    def reset(self) -> None:
        """Close the chain and build it afresh from the Pipeline or function given."""
        if not self.can_reset:
            raise ValueError(
                "reset needs a genlab.Pipeline or a function returning a GeneratorPipeline, "
                "not a GeneratorPipeline object"
            )
        if not self.finished:
            self._actions.close()
            self._close_all()
        self._start(None)


def _is_pipeline(chain: Any) -> bool:
    return hasattr(chain, "build_stages") and hasattr(chain, "source_batches")
