"""Controls generated from declared stage parameters.

:func:`control_options` is the pure translation (declaration -> widget class and arguments), built
on :func:`genlab.params.control_kind`; :func:`make_control` builds the widget. Every control offers
``.widget``, ``.value`` (the parameter's value, parsed) and ``.observe(callback)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from genlab.lab.stepping import parse_value
from genlab.params import Param, control_kind

__all__ = ["ParamControl", "control_options", "make_control", "parse_sequence"]

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
    """
    kind = control_kind(param)
    if kind == "slider" and (param.high - param.low) / param.step > MAX_SLIDER_STEPS:
        return "BoundedFloatText", {"min": param.low, "max": param.high, "step": param.step}
    if kind == "slider":
        decimals = max(0, len(f"{param.step:g}".partition(".")[2]))
        return "FloatSlider", {
            "min": param.low,
            "max": param.high,
            "step": param.step,
            "readout_format": f".{decimals}f",
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


class ParamControl:
    """A widget editing one declared parameter; ``value`` is the parameter value it shows."""

    def __init__(self, name: str, param: Param, value: Any) -> None:
        self.name = name
        self.param = param
        self.kind = control_kind(param)
        class_name, options = control_options(param)
        description = name.replace("_", " ")
        style = {"description_width": "10em"}
        layout = widgets.Layout(width="28em")
        if self.kind == "size":
            self._parts = [
                widgets.IntText(
                    description=label,
                    style={"description_width": "4em"},
                    layout=widgets.Layout(width="10em"),
                )
                for label in options["labels"]
            ]
            self.widget = widgets.HBox(
                [widgets.Label(description, layout=widgets.Layout(width="10em")), *self._parts]
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
        if self.kind == "size":
            return tuple(part.value for part in self._parts)
        raw = self._parts[0].value
        if self.kind == "floats":
            return None if self.param.optional and not raw.strip() else parse_sequence(raw)
        if self.kind == "readonly":
            return self._fixed
        return raw

    @value.setter
    def value(self, value: Any) -> None:
        if self.kind == "size":
            for part, v in zip(self._parts, value):
                part.value = int(v)
        elif self.kind == "floats":
            values = value if isinstance(value, (list, tuple)) else () if value is None else (value,)
            self._parts[0].value = ", ".join(f"{v:g}" for v in values)
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
