"""A widget that steps any generator or coroutine by hand: ``next``, ``send``, ``throw``, ``close``."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from types import GeneratorType
from typing import Any

import ipywidgets as widgets

from genlab.lab.generator_model import THROWABLE, GeneratorSession, Step, parse_value

_OUTCOME_COLOURS = {
    "yielded": "#1a7f37",
    "returned": "#0550ae",
    "raised": "#cf222e",
    "closed": "#57606a",
}
_STATE_COLOURS = {
    "created": "#0550ae",
    "suspended": "#9a6700",
    "running": "#1a7f37",
    "closed": "#57606a",
}


class GeneratorStepper(widgets.VBox):
    """Step a generator with buttons and watch its state, paused line, locals and history.

    Parameters
    ----------
    gen_or_factory
        A generator object, or a function of no arguments returning one (then *reset* restarts it),
        for example ``genlab.examples.catalan``.
    inputs
        Optional values for the *send next input* button, for example ``pipeline.source_batches(0)``
        to feed a pipeline stage its batches and watch the two-yield protocol.

    Notes
    -----
    Python code can drive the same actions with :meth:`next`, :meth:`send`, :meth:`throw` and
    :meth:`close`; ``session`` holds the widget-free :class:`~genlab.lab.generator_model.GeneratorSession`.
    Errors raised by the generator are shown in the widget, never as a traceback.
    """

    def __init__(
        self,
        gen_or_factory: GeneratorType | Callable[[], GeneratorType],
        inputs: Iterable[Any] | None = None,
    ) -> None:
        self.session = GeneratorSession(gen_or_factory, inputs=inputs)
        self.title = _html("genlab-stepper-state")
        self.message = _html("genlab-stepper-message")
        self.source_view = _html("genlab-stepper-source")
        self.locals_view = _html("genlab-stepper-locals")
        self.history_view = _html("genlab-stepper-history")
        self.value_field = widgets.Text(
            placeholder="value to send: a Python literal, else sent as text",
            layout=widgets.Layout(width="18em"),
        )
        self.value_field.add_class("genlab-stepper-value")
        self.exception_choice = widgets.Dropdown(
            options=list(THROWABLE), value="ValueError", layout=widgets.Layout(width="9em")
        )
        self.exception_choice.add_class("genlab-stepper-exception")

        buttons = [
            _button("next()", "genlab-stepper-next", lambda: self.next()),
            _button(
                "send(value)",
                "genlab-stepper-send",
                lambda: self.send(parse_value(self.value_field.value)),
            ),
            self.value_field,
            _button("throw", "genlab-stepper-throw", lambda: self.throw()),
            self.exception_choice,
            _button("close()", "genlab-stepper-close", lambda: self.close()),
        ]
        if self.session.has_inputs:
            buttons.insert(
                1,
                _button("send next input", "genlab-stepper-send-input", lambda: self.send_input()),
            )
        if self.session.factory is not None:
            buttons.append(_button("reset", "genlab-stepper-reset", lambda: self.reset()))

        right = widgets.VBox(
            [
                widgets.HTML("<b>locals</b>"),
                self.locals_view,
                widgets.HTML("<b>history</b>"),
                self.history_view,
            ],
            layout=widgets.Layout(width="45%", padding="0 0 0 1em"),
        )
        source_box = widgets.VBox(
            [self.source_view], layout=widgets.Layout(width="55%", overflow="auto")
        )
        super().__init__(
            [
                self.title,
                widgets.HBox(buttons, layout=widgets.Layout(flex_flow="row wrap")),
                self.message,
                widgets.HBox([source_box, right]),
            ]
        )
        self.add_class("genlab-stepper")
        self.refresh()

    # -- actions, usable from Python too ------------------------------------------------------------
    def next(self) -> Step:
        """Call ``next()`` on the generator and update the display."""
        return self._show(self.session.next())

    def send(self, value: Any) -> Step:
        """Send ``value`` into the generator and update the display."""
        return self._show(self.session.send(value))

    def send_input(self) -> Step:
        """Send the next of the ``inputs`` given at construction and update the display."""
        return self._show(self.session.send_input())

    def throw(
        self, exception: str | type[BaseException] | None = None, message: str | None = None
    ) -> Step:
        """Throw an exception (default: the one chosen in the dropdown) into the generator."""
        exception = self.exception_choice.value if exception is None else exception
        message = self.value_field.value if message is None else message
        return self._show(self.session.throw(exception, message))

    def close(self) -> Step:
        """Close the generator and update the display."""
        return self._show(self.session.close())

    def reset(self) -> None:
        """Start a fresh generator from the factory."""
        self.session.reset()
        self.message.value = "<i>reset: a fresh generator</i>"
        self.refresh()

    # -- display ------------------------------------------------------------------------------
    def _show(self, step: Step) -> Step:
        colour = _OUTCOME_COLOURS.get(step.outcome, "black")
        self.message.value = (
            f"<span style='color:{colour}'><b>{html.escape(step.outcome)}</b> "
            f"<code>{html.escape(step.value)}</code></span>"
            f" &nbsp;<small>after <code>{html.escape(step.describe().split(' -> ')[0])}</code></small>"
        )
        self.refresh()
        return step

    def refresh(self) -> None:
        """Redraw state, source, locals and history from the session."""
        session = self.session
        state = session.state
        self.title.value = (
            f"<b>{html.escape(session.name)}</b> &nbsp; state: "
            f"<span class='genlab-state-{state}' style='color:{_STATE_COLOURS[state]};"
            f"font-weight:bold'>{state}</span>"
        )
        self.source_view.value = session.source_html()
        self.locals_view.value = session.locals_html()
        self.history_view.value = session.history_html()


def _html(css_class: str) -> widgets.HTML:
    widget = widgets.HTML()
    widget.add_class(css_class)
    return widget


def _button(label: str, css_class: str, action: Callable[[], Any]) -> widgets.Button:
    button = widgets.Button(description=label, layout=widgets.Layout(width="auto", flex="0 0 auto"))
    button.add_class(css_class)
    button.on_click(lambda _button: action())
    return button
