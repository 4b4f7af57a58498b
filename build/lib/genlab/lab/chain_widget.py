"""A widget that steps a whole chain of two-yield stages and draws it as a diagram."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from genlab.lab.chain_model import ChainSession, ChainStep
from genlab.lab.generator_widget import _button, _html
from genlab.lab.summaries import thumbnail_png
from genlab.stages.protocol import GeneratorPipeline

_STATE_STYLE = {  # state -> (css suffix, colour)
    "created": ("created", "#0550ae"),
    "suspended at receive": ("receive", "#9a6700"),
    "suspended at emit": ("emit", "#1a7f37"),
    "closed": ("closed", "#57606a"),
}


class ChainStepper(widgets.VBox):
    """Step a ``GeneratorPipeline`` or a ``Pipeline`` the way its driver runs it, and watch every stage.

    Each stage is a box in a diagram (source on the left, the driver's ``for`` loop on the right):
    its state (created / suspended at receive / suspended at emit / closed), the line it is paused
    at, its locals summarised (arrays by shape, dtype and bytes, with a thumbnail of image arrays),
    and on the arrows what travelled last.

    Parameters
    ----------
    chain
        A fresh ``GeneratorPipeline`` (hand-written stages, genlab's, or both), a
        :class:`genlab.Pipeline`, or a function returning a fresh ``GeneratorPipeline`` (then
        *reset* can rebuild it).
    epoch
        The epoch of a ``Pipeline`` to step.
    direction
        ``"horizontal"`` (left to right, wrapping) or ``"vertical"`` (top to bottom).

    Notes
    -----
    The buttons call :meth:`step` (one driver action), :meth:`step_stage`, :meth:`step_batch`,
    :meth:`run` and :meth:`close_chain` (the chain's ``close()``; the widget's own ``close()``
    removes the widget, as for every ipywidget), which Python code can call too. ``session`` is the
    widget-free :class:`~genlab.lab.chain_model.ChainSession`; :meth:`describe` gives it as text.
    """

    def __init__(
        self,
        chain: GeneratorPipeline | Any | Callable[[], GeneratorPipeline],
        *,
        epoch: int = 0,
        direction: str = "horizontal",
    ) -> None:
        if direction not in ("horizontal", "vertical"):
            raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")
        self.session = ChainSession(chain, epoch=epoch)
        self.direction = direction
        self.title = _html("genlab-chain-title")
        self.message = _html("genlab-chain-message")
        self.diagram = _html("genlab-chain-diagram")
        self.history_view = _html("genlab-chain-history")
        self.buttons = [
            _button("step()", "genlab-chain-step", lambda: self.step()),
            _button("step_stage()", "genlab-chain-step-stage", lambda: self.step_stage()),
            _button("step_batch()", "genlab-chain-step-batch", lambda: self.step_batch()),
            _button("run()", "genlab-chain-run", lambda: self.run()),
            _button("close()", "genlab-chain-close", lambda: self.close_chain()),
        ]
        for button, tip in zip(self.buttons, _TIPS):
            button.tooltip = tip
        controls = list(self.buttons)
        if self.session.can_reset:
            controls.append(_button("reset", "genlab-chain-reset", lambda: self.reset()))
        super().__init__(
            [
                self.title,
                widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap")),
                self.diagram,  # above the message, whose height changes, so it holds still
                self.message,
                widgets.HTML("<b>history</b> (the driver's last actions, oldest first)"),
                self.history_view,
            ]
        )
        self.add_class("genlab-chain-stepper")
        self.refresh()

    # -- actions, usable from Python too ------------------------------------------------------------
    def step(self) -> ChainStep:
        """Do the driver's next action and update the display."""
        return self._show([self.session.step()])[-1]

    def step_stage(self) -> list[ChainStep]:
        """Carry the batch through one more stage and update the display."""
        return self._show(self.session.step_stage())

    def step_batch(self) -> list[ChainStep]:
        """Do the actions up to the batch leaving the chain and update the display."""
        return self._show(self.session.step_batch())

    def run(self, max_steps: int | None = None) -> list[ChainStep]:
        """Step to the end of the epoch (or ``max_steps`` actions) and update the display."""
        return self._show(self.session.run(max_steps))

    def close_chain(self) -> ChainStep:
        """Close every stage and the source (the *close()* button) and update the display.

        ``close()`` itself stays ipywidgets' own: it removes the widget.
        """
        return self._show([self.session.close()])[-1]

    def reset(self) -> None:
        """Build the chain afresh (a ``Pipeline`` or a function was given)."""
        self.session.reset()
        self.message.value = "<i>reset: a fresh chain</i>"
        self.refresh()

    def describe(self) -> str:
        """The chain as text (see :meth:`ChainSession.describe`)."""
        return self.session.describe()

    # -- display ------------------------------------------------------------------------------
    def _show(self, steps: list[ChainStep]) -> list[ChainStep]:
        shown = steps[-8:]
        skipped = len(steps) - len(shown)
        items = "".join(f"<li><code>{html.escape(s.describe())}</code></li>" for s in shown)
        more = f"<i>... and {skipped} actions before these</i>" if skipped else ""
        printed = _last_lines("".join(s.printed for s in steps), PRINTED_LINES)
        printed_html = (
            f"<div>the stages printed:</div><pre class='genlab-chain-printed'>"
            f"{html.escape(printed)}</pre>"
            if printed
            else ""
        )
        self.message.value = f"{more}<ul style='margin:0'>{items}</ul>{printed_html}"
        self.refresh()
        return steps

    def refresh(self) -> None:
        """Redraw the title, the diagram, the failure and the history from the session."""
        session = self.session
        status = "finished" if session.finished else f"{session.batches_out} batches out"
        self.title.value = (
            f"<b>{html.escape(session.kind)}</b> of {len(session)} stages, epoch {session.epoch}: "
            f"<span class='genlab-chain-status'>{status}</span>"
        )
        for button in self.buttons:
            button.disabled = session.finished
        self.diagram.value = diagram_html(session, self.direction) + failure_html(session)
        if not session.history:
            self.history_view.value = "<i>nothing yet: press step()</i>"
        else:
            first = max(len(session.history) - HISTORY_SHOWN, 0)

            def items(start: int, stop: int) -> str:
                return "".join(
                    f"<li value='{i + 1}'><code>{html.escape(s.describe())}</code></li>"
                    for i, s in enumerate(session.history[start:stop], start=start)
                )

            earlier = (
                f"<details class='genlab-chain-earlier'><summary>{first} earlier actions</summary>"
                f"<ol>{items(max(first - HISTORY_FOLDED, 0), first)}</ol></details>"
                if first
                else ""
            )
            self.history_view.value = (
                f"{earlier}<ol class='genlab-chain-history-list'>{items(first, None)}</ol>"
            )


#: Actions the history shows; earlier ones are folded (the last HISTORY_FOLDED of them kept).
HISTORY_SHOWN = 6
HISTORY_FOLDED = 200
#: Most lines of what the stages printed shown after an action.
PRINTED_LINES = 20


def _last_lines(text: str, count: int) -> str:
    """The last ``count`` lines of ``text``, saying how many were left out.

    >>> _last_lines("a\\nb\\nc\\n", 2)
    '... 1 earlier lines\\nb\\nc\\n'
    """
    lines = text.splitlines(keepends=True)
    if len(lines) <= count:
        return text
    return f"... {len(lines) - count} earlier lines\n" + "".join(lines[-count:])


_TIPS = (
    "one driver action: prime, send into, or advance one stage, or hand the batch out",
    "carry the batch through one more stage (the primes come first)",
    "the actions up to the batch leaving the chain",
    "to the end of the epoch: the source runs out and every stage is closed",
    "close every stage (GeneratorExit at its yield, finally blocks run) and the source",
)


def diagram_html(session: ChainSession, direction: str = "horizontal") -> str:
    """Return the chain as an HTML diagram: source, stages with arrows between, the driver's loop."""
    row = direction == "horizontal"
    arrow_sign = "&#10132;" if row else "&#11015;"
    parts = [_box("source", _source_name(session), "genlab-chain-source")]
    for position in range(len(session)):
        parts.append(_arrow(session, position, arrow_sign))
        parts.append(stage_html(session, position))
    parts.append(_arrow(session, len(session), arrow_sign))
    parts.append(_box("the driver", "<code>for x, y in pipeline:</code>", "genlab-chain-loop"))
    flow = "row nowrap;overflow-x:auto" if row else "column"
    return (
        legend_html() + f"<div class='genlab-chain-flow' style='display:flex;flex-flow:{flow};"
        "align-items:flex-start;gap:4px;padding-bottom:4px'>" + "".join(parts) + "</div>"
    )


def legend_html() -> str:
    """What the colours of the stage boxes mean."""
    items = "".join(
        f"<span style='border:2px solid {colour};border-radius:4px;padding:0 4px;margin-right:6px'>"
        f"{html.escape(state)}</span>"
        for state, (_suffix, colour) in _STATE_STYLE.items()
    )
    return f"<div class='genlab-chain-legend' style='font-size:85%;margin:2px 0 4px'>{items}</div>"


def stage_html(session: ChainSession, position: int) -> str:
    """Return one stage's box: name, state, paused line, locals with thumbnails, folded source."""
    snapshot = session.stage_snapshot(position)
    suffix, colour = _STATE_STYLE[snapshot.state]
    line = ""
    if snapshot.line is not None:
        text = html.escape((snapshot.line_text or "").strip())
        line = (
            f"<div class='genlab-chain-line'>line {snapshot.line}: "
            f"<code style='background:#ffe08a'>{text}</code></div>"
        )
    values = session.frame_locals(position)
    rows = []
    for name, summary in snapshot.locals.items():
        png = thumbnail_png(values.get(name))
        thumb = (
            f"<br><img class='genlab-chain-thumb' alt='first images of {html.escape(name)}' "
            f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
            if png is not None
            else ""
        )
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code></td>"
            f"<td><code>{html.escape(summary)}</code>{thumb}</td></tr>"
        )
    table = f"<table class='genlab-chain-locals'>{''.join(rows)}</table>" if rows else ""
    source = ""
    stage_session = session.sessions[position]
    if stage_session is not None:
        source = f"<details><summary>source</summary>{stage_session.source_html()}</details>"
    body = (
        f"<div class='genlab-chain-state genlab-chain-state-{suffix}' "
        f"style='color:{colour};font-weight:bold'>{html.escape(snapshot.state)}</div>"
        f"{line}{table}{source}"
    )
    title = f"stage {position}: {html.escape(snapshot.name)}"
    return _box(title, body, f"genlab-chain-stage genlab-chain-stage-{position}", colour)


def failure_html(session: ChainSession) -> str:
    """Return where the chain failed, the chain at that moment and the traceback (or '')."""
    failure = session.failure
    if failure is None:
        return ""
    return (
        "<div class='genlab-chain-failure' style='border:2px solid #cf222e;padding:4px;"
        "margin-top:6px'><b style='color:#cf222e'>the chain failed</b>"
        f"<pre style='white-space:pre-wrap'>{html.escape(failure.describe())}</pre>"
        + (
            "<div><b>in your code</b></div><pre class='genlab-chain-user-traceback' "
            f"style='white-space:pre-wrap'>{html.escape(failure.user_traceback)}</pre>"
            if failure.user_traceback.strip()
            else ""
        )
        + "<details><summary>the whole traceback</summary><pre class='genlab-chain-traceback' "
        f"style='white-space:pre-wrap'>{html.escape(failure.traceback)}</pre></details></div>"
    )


def _source_name(session: ChainSession) -> str:
    taken = 0 if session.batch_index is None else session.batch_index + 1
    kind = html.escape(type(session.source).__name__)
    return f"a <code>{kind}</code>; batches taken: {taken}"


def _arrow(session: ChainSession, position: int, sign: str) -> str:
    return (
        f"<div class='genlab-chain-arrow genlab-chain-arrow-{position}' "
        "style='text-align:center;flex:0 0 7em;width:7em;overflow-wrap:anywhere;font-size:85%'>"
        f"<div style='font-size:160%'>{sign}</div>{html.escape(session.arrow_text(position))}</div>"
    )


def _box(title: str, body: str, css_class: str, colour: str = "#57606a") -> str:
    return (
        f"<div class='{css_class}' style='border:2px solid {colour};border-radius:6px;"
        f"padding:4px 6px;flex:0 0 15em;width:15em;box-sizing:border-box;overflow:hidden;"
        f"font-size:85%'>"
        f"<div><b>{title}</b></div>{body}</div>"
    )
