"""Controls generated from declared stage parameters.

:func:`control_options` is the pure translation (declaration -> widget class and arguments), built
on :func:`genlab.params.control_kind`; :func:`make_control` builds the widget. Every control offers
``.widget``, ``.value`` (the parameter's value, parsed) and ``.observe(callback)``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from genlab import registry
from genlab.foreign.declare import choice_labels
from genlab.lab.generator_model import parse_value
from genlab.params import Param, control_kind

__all__ = [
    "ParamControl",
    "changed_params",
    "control_options",
    "format_members",
    "members_html",
    "make_control",
    "parse_members",
    "parse_sequence",
]

#: A bounded number with more steps than this gets a bounded number field, not a slider.
MAX_SLIDER_STEPS = 10_000


def control_options(param: Param) -> tuple[str, dict[str, Any]]:
    """Return the ipywidgets class name and its arguments for a parameter declaration.

    >>> from genlab.params import Float, Int, Choice
    >>> control_options(Float(0.5, low=0.0, high=1.0))
    ('FloatSlider', {'min': 0.0, 'max': 1.0, 'step': 0.01, 'readout_format': '.2f'})
    >>> control_options(Int(3, low=1, high=2**40))[0]
    'BoundedIntText'
    >>> control_options(Float(1.0, low=1e-6, high=1e3, step=0.001))[0]
    'BoundedFloatText'
    >>> control_options(Choice("a", choices=("a", "b")))
    ('Dropdown', {'options': ['a', 'b']})
    >>> from genlab.params import Range
    >>> control_options(Range((0.08, 1.0), low=0.0, high=1.0))[0]
    'FloatRangeSlider'
    >>> control_options(Range((0.0, 1.0)))
    ('FloatText', {'count': 2, 'labels': ('low', 'high'), 'step': 0.01})
    """
    kind = control_kind(param)
    if kind == "range":
        bounded = param.low is not None and param.high is not None
        if bounded and (param.high - param.low) / param.step <= MAX_SLIDER_STEPS:
            return "FloatRangeSlider", {
                "min": param.low,
                "max": param.high,
                "step": param.step,
                "readout_format": f".{_decimals(param.step)}f",
            }
        return "FloatText", {"count": 2, "labels": ("low", "high"), "step": param.step}
    if kind == "numbers":
        return "Text", {"continuous_update": False, "placeholder": "numbers, comma separated"}
    if kind == "ops":
        return "Textarea", {"continuous_update": False, "rows": 4}
    if kind == "slider" and (param.high - param.low) / param.step > MAX_SLIDER_STEPS:
        return "BoundedFloatText", {"min": param.low, "max": param.high, "step": param.step}
    if kind == "slider":
        low, high = _aligned(param)
        return "FloatSlider", {
            "min": low,
            "max": high,
            "step": param.step,
            "readout_format": f".{_decimals(param.step)}f",
        }
    if kind == "int_slider":
        if (param.high - param.low) / param.step > MAX_SLIDER_STEPS:
            return "BoundedIntText", {"min": param.low, "max": param.high, "step": param.step}
        return "IntSlider", {"min": param.low, "max": param.high, "step": param.step}
    if kind == "number":
        return "FloatText", {"step": param.step}
    if kind == "int_number":
        return "IntText", {"step": param.step}
    if kind == "checkbox":
        return "Checkbox", {"indent": False}
    if kind == "dropdown":
        return "Dropdown", {"options": list(param.choices)}
    if kind == "size":
        return "IntText", {"count": 2, "labels": ("width", "height")}
    if kind == "floats":
        count = getattr(param, "length", None)
        return "Text", {
            "continuous_update": False,
            "placeholder": f"{count or 'one or more'} numbers, comma separated",
        }
    if kind == "readonly":
        return "Text", {"disabled": True}
    return "Text", {"continuous_update": False}


def _aligned(param: Param) -> tuple[float, float]:
    """A float slider's ends, moved inside the bounds onto the grid of steps through the
    default: the browser's slider snaps values to ``min + k * step``, so with ``low=0.001``,
    ``step=0.01`` it would turn a default of 1.0 into 1.001 the moment it is shown.

    >>> from genlab.params import Float
    >>> _aligned(Float(1.0, low=0.001, high=100.0, step=0.01))
    (0.01, 100.0)
    """
    default, step = param.default, param.step
    if not isinstance(default, (int, float)) or not param.low <= default <= param.high:
        return param.low, param.high
    below = math.floor((default - param.low) / step + 1e-9)
    above = math.floor((param.high - default) / step + 1e-9)
    return round(default - below * step, 10), round(default + above * step, 10)


def _decimals(step: float) -> int:
    return len(f"{step:g}".partition(".")[2])


def parse_sequence(text: str) -> Any:
    """Parse ``"1, 2, 3"`` or ``"[1, 2, 3]"`` into a tuple of numbers; other text is returned as is.

    >>> parse_sequence("103.9, 116.8, 123.7")
    (103.9, 116.8, 123.7)
    >>> parse_sequence("0.5")
    0.5
    >>> parse_sequence("abc")
    'abc'
    """
    value = parse_value(text)
    return tuple(value) if isinstance(value, list) else value


def changed_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of stage ``name`` whose values differ from its defaults (a float a slider
    moved by a rounding error, 0.09999999999999999 for 0.1, is not a change).

    >>> changed_params("hflip", {"p": 0.5}), changed_params("hflip", {"p": 0.8})
    ({}, {'p': 0.8})
    """
    try:
        defaults = registry.get(name).validate({})
    except ValueError:
        return dict(params)
    return {k: v for k, v in params.items() if not _same(defaults.get(k), v)}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def format_members(members: Sequence[Any]) -> str:
    """A group's op list as JSON text, one member per line, showing only changed parameters.

    >>> print(format_members([{"name": "hflip", "params": {"p": 0.5}},
    ...                       {"name": "vflip", "params": {"p": 1.0}}]))
    [
      "hflip",
      ["vflip", {"p": 1.0}]
    ]
    """
    lines = []
    for member in members:
        if isinstance(member, Mapping):
            name, params = member["name"], changed_params(member["name"], member.get("params", {}))
        elif isinstance(member, str):
            name, params = member, {}
        else:
            name, params = member[0], changed_params(member[0], member[1])
        lines.append(json.dumps([name, params] if params else name))
    return "[\n" + ",\n".join(f"  {line}" for line in lines) + "\n]" if lines else "[]"


def parse_members(text: str) -> Any:
    """Parse the op-list text (JSON, or a Python literal); text that does not parse is returned
    as is, so that validating it names the parameter and says what is wrong.

    >>> parse_members('["hflip", ["vflip", {"p": 1.0}]]')
    ['hflip', ['vflip', {'p': 1.0}]]
    >>> parse_members("[('hflip', {'p': True})]")
    [('hflip', {'p': True})]
    >>> parse_members("[hflip")
    '[hflip'
    """
    try:
        return json.loads(text)
    except ValueError:
        value = parse_value(text)
        return [] if value is None else value


def members_html(members: Sequence[Mapping[str, Any]]) -> str:
    """A read-only list of a group's member ops, each with its changed parameters and help."""
    if not members:
        return "<small><i>no ops yet: list them below</i></small>"
    items = []
    for member in members:
        name = member["name"]
        changed = ", ".join(f"{k}={v!r}" for k, v in changed_params(name, member["params"]).items())
        help_line = registry.get(name).help if name in registry.names() else ""
        items.append(
            f"<li><code>{html.escape(name)}</code>"
            f"{html.escape(f' ({changed})') if changed else ''} "
            f"<small style='color:#57606a'>{html.escape(help_line)}</small></li>"
        )
    return "<ol style='margin:0 0 0 1em;padding-left:1em'>" + "".join(items) + "</ol>"


class ParamControl:
    """A widget editing one declared parameter; ``value`` is the parameter value it shows."""

    def __init__(self, name: str, param: Param, value: Any) -> None:
        self.name = name
        self.param = param
        self.kind = control_kind(param)
        class_name, options = control_options(param)
        labels = choice_labels(name, param.choices) if class_name == "Dropdown" else None
        if labels:  # OpenCV constants by name (INTER_LINEAR), the value kept an integer
            options = {"options": list(zip(labels, param.choices))}
        description = name.replace("_", " ")
        style = {"description_width": "10em"}
        layout = widgets.Layout(width="28em")
        self.members: widgets.HTML | None = None
        if "count" in options:  # a pair of number fields: size (width, height), range (low, high)
            options = dict(options)
            labels = options.pop("labels")
            del options["count"]
            self._parts = [
                getattr(widgets, class_name)(
                    description=label,
                    style={"description_width": "4em"},
                    layout=widgets.Layout(width="10em"),
                    **options,
                )
                for label in labels
            ]
            self.widget = widgets.HBox(
                [widgets.Label(description, layout=widgets.Layout(width="10em")), *self._parts]
            )
        elif self.kind == "ops":  # the members, read-only, above the editable list
            self.members = widgets.HTML()
            self.members.add_class("genlab-members")
            self._parts = [widgets.Textarea(layout=widgets.Layout(width="28em"), **options)]
            self.widget = widgets.VBox(
                [
                    widgets.Label(f"{description} (JSON list of names or [name, params])"),
                    self.members,
                    self._parts[0],
                ]
            )
        else:
            self._parts = [
                getattr(widgets, class_name)(
                    description=description, style=style, layout=layout, **options
                )
            ]
            self.widget = self._parts[0]
        self.widget.add_class(f"genlab-param-{name}")
        for part in self._parts:  # on the inputs: a Box view cannot show a tooltip
            part.tooltip = param.help
        self.value = value

    @property
    def value(self) -> Any:
        """The value shown, converted back to the parameter's type (not yet validated)."""
        if len(self._parts) == 2:
            return tuple(part.value for part in self._parts)
        raw = self._parts[0].value
        if self.kind == "floats":
            return None if self.param.optional and not raw.strip() else parse_sequence(raw)
        if self.kind == "ops":
            return parse_members(raw)
        if self.kind == "numbers":  # text that does not parse is passed on for validation
            try:
                return self.param.coerce(raw)
            except (TypeError, ValueError):
                return raw
        if self.kind == "readonly":
            return self._fixed
        return raw

    @value.setter
    def value(self, value: Any) -> None:
        if len(self._parts) == 2:
            for part, v in zip(self._parts, value):
                part.value = int(v) if self.kind == "size" else float(v)
        elif self.kind in ("floats", "numbers"):
            values = (
                value if isinstance(value, (list, tuple)) else () if value is None else (value,)
            )
            self._parts[0].value = ", ".join(f"{v:g}" for v in values)
        elif self.kind == "ops":
            self._parts[0].value = format_members(value)
            self.members.value = members_html(value)
        elif self.kind == "readonly":  # shown, never edited: the value is kept as given
            self._fixed = value
            self._parts[0].value = json.dumps(value)
        elif self.kind == "text" and value is None:
            self._parts[0].value = ""
        else:
            self._parts[0].value = value

    def observe(self, callback: Callable[[ParamControl], None]) -> None:
        """Call ``callback(self)`` whenever the user changes the value."""
        for part in self._parts:
            part.observe(lambda _change: callback(self), names="value")


def make_control(name: str, param: Param, value: Any) -> ParamControl:
    """Build the control for parameter ``name`` declared as ``param``, showing ``value``."""
    return ParamControl(name, param, value)
