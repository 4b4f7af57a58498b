"""The stage panel of :class:`~genlab.lab.PipelineLab`: one box per stage with its controls.

:class:`StagePanel` builds the boxes from the pipeline (toggle, move, remove, "alone" buttons and
a control per declared parameter) and shows the model's values in them; what a click or a change
does is the lab's business, reached through the callbacks it is given.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from genlab import registry
from genlab.lab.controls import ParamControl, make_control
from genlab.pipeline import Pipeline

__all__ = ["StagePanel", "button", "help_line"]


def button(
    label: str, css_class: str, action: Callable[[], Any], tooltip: str = ""
) -> widgets.Button:
    """A button sized to its label, carrying ``css_class``, calling ``action()`` on click."""
    widget = widgets.Button(
        description=label, tooltip=tooltip, layout=widgets.Layout(width="auto", flex="0 0 auto")
    )
    widget.add_class(css_class)
    widget.on_click(lambda _button: action())
    return widget


def help_line(text: str) -> widgets.HTML:
    """A small line of help text (reStructuredText's double backquotes dropped)."""
    line = widgets.HTML(
        f"<small>{html.escape(text.replace('``', ''))}</small>", layout=widgets.Layout(width="auto")
    )
    line.add_class("genlab-help")
    return line


class StagePanel:
    """The boxes of the stages, top to bottom, and the controls in them.

    Parameters
    ----------
    on_toggle
        ``on_toggle(position, enabled)`` when a stage's checkbox is clicked.
    on_param
        ``on_param(position)`` when one of a stage's controls changes.
    move, remove, show_op
        ``move(position, to)``, ``remove(position)`` and ``show_op(position)`` for the buttons.
    """

    def __init__(
        self,
        on_toggle: Callable[[int, bool], Any],
        on_param: Callable[[int], Any],
        move: Callable[[int, int], Any],
        remove: Callable[[int], Any],
        show_op: Callable[[int], Any],
    ) -> None:
        self.on_toggle, self.on_param = on_toggle, on_param
        self.move, self.remove, self.show_op = move, remove, show_op
        self.controls: dict[tuple[int, str], ParamControl] = {}
        self.toggles: list[widgets.Checkbox] = []
        self.box = widgets.VBox(layout=widgets.Layout(max_height="34em", overflow="auto"))
        self.box.add_class("genlab-stages")

    def rebuild(self, pipeline: Pipeline) -> None:
        """Build one box per stage of ``pipeline`` (controls showing its values)."""
        self.controls.clear()
        self.toggles.clear()
        self.box.children = [
            self._stage_box(position, config) for position, config in enumerate(pipeline.stages)
        ]

    def _stage_box(self, position: int, config) -> widgets.VBox:
        info = registry.get(config.name)
        toggle = widgets.Checkbox(
            value=config.enabled,
            description=f"{position + 1}. {config.name}",
            indent=False,
            layout=widgets.Layout(width="16em"),
        )
        toggle.add_class("genlab-toggle")
        toggle.add_class(f"genlab-toggle-{config.name}")
        toggle.observe(lambda change: self.on_toggle(position, change["new"]), names="value")
        self.toggles.append(toggle)
        p = position
        header = widgets.HBox(
            [
                toggle,
                button("▲", "genlab-move-up", lambda: self.move(p, p - 1), "move up"),
                button("▼", "genlab-move-down", lambda: self.move(p, p + 1), "move down"),
                button("✕", "genlab-remove", lambda: self.remove(p), "remove"),
                button(
                    "alone",
                    "genlab-show-op",
                    lambda: self.show_op(p),
                    "this stage alone on one image, 16 draws",
                ),
                help_line(info.help),
            ]
        )
        controls = []
        for name, param in info.params.items():
            control = make_control(name, param, config.params[name])
            control.observe(lambda _c: self.on_param(p))
            self.controls[(position, name)] = control
            controls.append(control.widget)
        box = widgets.VBox(
            [header, *controls],
            layout=widgets.Layout(
                border="1px solid #d0d7de", padding="2px", margin="2px 0", flex="0 0 auto"
            ),
        )
        box.add_class(f"genlab-stage-{config.name}")
        return box

    def show(self, pipeline: Pipeline) -> None:
        """Show ``pipeline``'s values in the toggles and controls (the caller mutes callbacks)."""
        for position, config in enumerate(pipeline.stages):
            self.toggles[position].value = config.enabled
            for name, value in config.params.items():
                self.controls[(position, name)].value = value

    def values(self, position: int) -> dict[str, Any]:
        """The values the controls of the stage at ``position`` show."""
        return {name: c.value for (p, name), c in self.controls.items() if p == position}
