"""The stage panel of :class:`~genlab.lab.PipelineLab`: one box per stage, folded to one line.

:class:`StagePanel` builds the boxes from the pipeline. A folded box is one line: the fold
arrow, the on/off checkbox with the stage's full name, a summary of the values that differ from
the defaults, and the move, remove and "alone" buttons. Unfolded, it shows the stage's help and a
control per declared parameter, the advanced ones (decoder internals, mask-only settings of
foreign transforms: :func:`is_advanced`) folded once more. An error caused by a stage's control
is shown in that stage's box (:meth:`StagePanel.show_error`), with the control keeping the text
the user typed. What a click or a change does is the lab's business, reached through callbacks.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from genlab import registry
from genlab.lab.controls import ParamControl, changed_params, make_control
from genlab.lab.menu import GROUP_ORDER, is_heading, menu_options
from genlab.pipeline import Pipeline, StageConfig

__all__ = [
    "STYLE",
    "AddMenu",
    "ADVANCED",
    "StagePanel",
    "button",
    "help_line",
    "is_advanced",
    "short_error",
    "summary",
]

#: Parameters of genlab's own stages that are folded away as advanced settings.
ADVANCED: dict[str, tuple[str, ...]] = {
    "read_images": ("decoder", "draft", "on_error", "allow_truncated", "max_pixels", "fuse_crop"),
}
#: The most characters of a folded stage's summary.
SUMMARY_CHARS = 70


def is_advanced(stage: str, param: str) -> bool:
    """Whether ``param`` of ``stage`` is folded away: listed in :data:`ADVANCED`, or a mask-only
    setting of a foreign transform (genlab's own chains carry images and labels only).

    >>> is_advanced("read_images", "draft"), is_advanced("read_images", "target_size")
    (True, False)
    """
    if param in ADVANCED.get(stage, ()):
        return True
    kind = registry.get(stage).kind if stage in registry.names() else "stage"
    return kind not in (*GROUP_ORDER, "stage") and "mask" in param


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


def summary(config: StageConfig) -> str:
    """The values of a stage that differ from its defaults, as one short line.

    >>> from genlab.pipeline import StageConfig
    >>> summary(StageConfig("hflip", {"p": 0.8}))
    'p=0.8'
    >>> summary(StageConfig("hflip", {"p": 0.5}))
    'defaults'
    """
    changed = changed_params(config.name, config.params)
    if not changed:
        return "defaults"
    text = ", ".join(f"{k}={_short(v)}" for k, v in changed.items())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) and "name" in v for v in value):
            return "[" + ", ".join(v["name"] for v in value) + "]"
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)


def short_error(error: BaseException) -> str:
    """The message of ``error`` made short: a list of every registered name is replaced by the
    closest names to the one given.

    >>> short_error(ValueError("one_of: unknown op 'hflp'; registered ops: ['hflip', 'vflip', 'jpeg']"))
    "ValueError: one_of: unknown op 'hflp'; did you mean 'hflip', 'vflip'?"
    """
    text = str(error)
    match = re.search(r"(unknown \w+ '([^']*)')[;,]? registered \w+: \[([^\]]*)\]", text)
    if match:
        names = re.findall(r"'([^']*)'", match.group(3))
        close = difflib.get_close_matches(match.group(2), names, n=3, cutoff=0.5)
        hint = (
            "did you mean " + ", ".join(f"'{c}'" for c in close) + "?"
            if close
            else "see the add menu"
        )
        text = text.replace(match.group(0), f"{match.group(1)}; {hint}")
    return f"{type(error).__name__}: {text}"


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
        self.boxes: list[widgets.VBox] = []
        self.bodies: list[widgets.VBox] = []
        self.summaries: list[widgets.HTML] = []
        self.errors: list[widgets.HTML] = []
        self.unfolded: set[int] = set()
        #: Stages whose last edit failed: their controls keep the user's text until fixed.
        self.failing: set[int] = set()
        self.new: int | None = None
        self.box = widgets.VBox()
        self.box.add_class("genlab-stages")

    def rebuild(self, pipeline: Pipeline, new: int | None = None) -> None:
        """Build one box per stage of ``pipeline``; ``new`` is the stage just added: it alone
        is unfolded, highlighted and scrolled into view."""
        if new is not None:
            self.unfolded = {new}
        self.unfolded = {p for p in self.unfolded if p < len(pipeline.stages)}
        self.new = new
        self.failing.clear()
        self.controls.clear()
        self.toggles.clear()
        for parts in (self.boxes, self.bodies, self.summaries, self.errors):
            parts.clear()
        self.box.children = [
            self._stage_box(position, config) for position, config in enumerate(pipeline.stages)
        ]

    def _stage_box(self, position: int, config: StageConfig) -> widgets.VBox:
        info = registry.get(config.name)
        p = position
        toggle = widgets.Checkbox(
            value=config.enabled,
            description=f"{position + 1}. {config.name}",
            indent=False,
            layout=widgets.Layout(width="auto", flex="0 0 auto"),
        )
        toggle.add_class("genlab-toggle")
        toggle.add_class(f"genlab-toggle-{config.name}")
        toggle.observe(lambda change: self.on_toggle(p, change["new"]), names="value")
        self.toggles.append(toggle)
        fold = button(
            "▾" if p in self.unfolded else "▸",
            "genlab-fold",
            lambda: self.fold(p),
            "show or hide the settings",
        )
        text = summary(config)
        line = widgets.HTML(
            f"<span title='{html.escape(text, quote=True)}'><small>{html.escape(text)}</small></span>",
            layout=widgets.Layout(flex="1 1 auto", overflow="hidden", min_width="2em"),
        )
        line.add_class("genlab-summary")
        self.summaries.append(line)
        header = widgets.HBox(
            [
                fold,
                toggle,
                line,
                button("▲", "genlab-move-up", lambda: self.move(p, p - 1), "move up"),
                button("▼", "genlab-move-down", lambda: self.move(p, p + 1), "move down"),
                button("✕", "genlab-remove", lambda: self.remove(p), "remove"),
                button(
                    "alone",
                    "genlab-show-op",
                    lambda: self.show_op(p),
                    "this stage alone on one image, 16 draws",
                ),
            ],
            layout=widgets.Layout(align_items="center"),
        )
        basic, advanced = [], []
        for name, param in info.params.items():
            control = make_control(name, param, config.params[name])
            control.observe(lambda _c: self.on_param(p))
            self.controls[(position, name)] = control
            (advanced if is_advanced(config.name, name) else basic).append(control.widget)
        parts = [help_line(info.help), *basic]
        if advanced:
            more = widgets.Accordion([widgets.VBox(advanced)], selected_index=None)
            more.set_title(0, f"advanced settings ({len(advanced)})")
            more.add_class("genlab-advanced")
            parts.append(more)
        body = widgets.VBox(
            parts, layout=widgets.Layout(display="" if p in self.unfolded else "none")
        )
        body.add_class("genlab-stage-body")
        self.bodies.append(body)
        error = widgets.HTML()
        error.add_class("genlab-stage-error")
        self.errors.append(error)
        box = widgets.VBox(
            [header, error, body],
            layout=widgets.Layout(
                border="1px solid #d0d7de", padding="2px", margin="2px 0", flex="0 0 auto"
            ),
        )
        box.add_class("genlab-stage")
        box.add_class(f"genlab-stage-{config.name}")
        if position == self.new:
            box.add_class("genlab-stage-new")
            error.value = _SCROLL_INTO_VIEW
        self.boxes.append(box)
        return box

    def fold(self, position: int, folded: bool | None = None) -> None:
        """Fold (or unfold) the box of the stage at ``position``; None switches it."""
        folded = position in self.unfolded if folded is None else folded
        if folded:
            self.unfolded.discard(position)
        else:
            self.unfolded.add(position)
        self.bodies[position].layout.display = "none" if folded else ""
        header = self.boxes[position].children[0]
        header.children[0].description = "▸" if folded else "▾"

    def show(self, pipeline: Pipeline, keep: int | None = None) -> None:
        """Show ``pipeline``'s values in the toggles, controls and summaries, except the
        controls of stage ``keep`` and of the :attr:`failing` stages (they keep what the user
        typed, to correct it). The caller mutes callbacks."""
        for position, config in enumerate(pipeline.stages):
            self.toggles[position].value = config.enabled
            text = summary(config)
            self.summaries[
                position
            ].value = f"<span title='{html.escape(text, quote=True)}'><small>{html.escape(text)}</small></span>"
            if position == keep or position in self.failing:
                continue
            self.errors[position].value = ""
            for name, value in config.params.items():
                self.controls[(position, name)].value = value

    def show_error(self, position: int, error: BaseException) -> None:
        """Show ``error`` in the box of the stage at ``position`` (unfolded)."""
        self.failing.add(position)
        self.errors[position].value = (
            f"<div class='genlab-error' style='color:#cf222e'><b>not applied:</b> "
            f"{html.escape(short_error(error))}<br><small>the lab keeps the last good state; "
            f"your text is kept here to correct</small></div>"
        )
        self.fold(position, folded=False)

    def fixed(self, position: int) -> None:
        """The stage at ``position`` was edited successfully: clear its error."""
        self.failing.discard(position)
        if position < len(self.errors):
            self.errors[position].value = ""

    def values(self, position: int) -> dict[str, Any]:
        """The values the controls of the stage at ``position`` show."""
        return {name: c.value for (p, name), c in self.controls.items() if p == position}


#: Scrolls the box of the stage just added into view and takes itself away (an HTML widget
#: sets its value as innerHTML: the image fails to load and its handler runs once).
_SCROLL_INTO_VIEW = (
    "<img src='data:,' alt='' style='display:none' onerror=\"var b=this.closest('.genlab-stage');"
    "if(b){b.scrollIntoView({block:'nearest'});}this.remove();\">"
)


class AddMenu:
    """The "add" dropdown (grouped by kind, :mod:`genlab.lab.menu`), its help line and button;
    ``add(name)`` is called with the chosen stage."""

    def __init__(self, add: Callable[[str], Any]) -> None:
        self.add = add
        self.choice = widgets.Dropdown(options=menu_options(), layout=widgets.Layout(width="18em"))
        self.choice.add_class("genlab-add-choice")
        self.help = widgets.HTML()
        self.help.add_class("genlab-add-help")
        self.help.add_class("genlab-help")
        self.choice.observe(lambda _change: self.on_choice(), names="index")
        self.on_choice()
        self.widget = widgets.VBox(
            [widgets.HBox([self.choice, button("add", "genlab-add", self.on_add)]), self.help]
        )

    def refresh(self) -> None:
        """List the stages registered now, keeping the choice."""
        chosen = self.choice.value
        self.choice.options = menu_options()
        if chosen in registry.names():
            self.choice.value = chosen

    def on_choice(self) -> None:
        """A heading chosen moves to its first entry; the chosen entry's help shows below."""
        index, name = self.choice.index, self.choice.value
        if is_heading(name):
            if index + 1 < len(self.choice.options):
                self.choice.index = index + 1  # observed: this method runs again
            return
        info = registry.get(name) if name is not None else None
        self.help.value = (
            "" if info is None else
            f"<small><code>{html.escape(name)}</code> ({html.escape(info.kind)}): "
            f"{html.escape(info.help.replace('``', ''))}</small>"
        )  # fmt: skip

    def on_add(self) -> None:
        """The add button: the chosen op joins the chain (a group heading adds nothing)."""
        if not is_heading(self.choice.value):
            self.add(self.choice.value)


#: The lab's style: tabs sized to their titles (a row that wraps when narrow) so every title
#: reads in full; folded stage lines; the highlighted new stage; the buttons over the tiles.
STYLE = """<style>
.jupyter-widgets.genlab-views > .lm-TabBar { height: auto !important; min-height: 0 !important; }
.jupyter-widgets.genlab-views > .lm-TabBar .lm-TabBar-content { flex-wrap: wrap; }
.jupyter-widgets.genlab-views > .lm-TabBar .lm-TabBar-tab {
  flex: 0 0 auto !important; max-width: none !important; padding: 0 8px; }
.jupyter-widgets.genlab-views > .lm-TabBar .lm-TabBar-tabLabel { overflow: visible !important; }
.genlab-help .widget-html-content, .genlab-members .widget-html-content {
  line-height: 1.3; align-self: center; }
.genlab-summary .widget-html-content { white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; color: #57606a; }
.genlab-stage-new { outline: 2px solid #bf8700; background: #fff8c5; }
.genlab-grid-stack { position: relative; width: fit-content; max-width: 100%; }
.genlab-tile-buttons { position: absolute; inset: 0; pointer-events: none; }
.genlab-tile-buttons .genlab-tile { position: absolute; margin: 0; padding: 0; opacity: 0;
  pointer-events: auto; cursor: zoom-in; }
.genlab-tile-buttons .genlab-tile:hover { opacity: 0.15; }
</style>"""
