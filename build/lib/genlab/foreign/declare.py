"""From a library's own declaration of a parameter to a genlab :class:`~genlab.params.Param`.

Both libraries declare parameters with Python annotations (albumentations through a pydantic
``InitSchema`` with bounds, torchvision through ``__init__`` signatures) and keep the value a
transform was built with as an attribute, normalised (``limit=30`` is kept as ``(-30, 30)``).
:func:`declare` picks the editable declaration from the normalised default value, checked against
the annotation; whatever has no editable type (a dict, a callable, ``None`` without a type) is
declared :class:`~genlab.params.Fixed`: kept as given and shown read-only.
"""

from __future__ import annotations

import enum
import math
import numbers
import types
import typing
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..params import Bool, Choice, Fixed, Float, Int, Numbers, Param, Range, Text

__all__ = ["CV2_CONSTANTS", "choice_labels", "declare", "literal_choices", "plain", "record_value"]


#: OpenCV's constants by the parameter names libraries give them: albumentations declares
#: ``interpolation``, ``mask_interpolation`` and ``border_mode`` as ``Literal`` cv2 integers.
CV2_CONSTANTS: dict[str, dict[int, str]] = {
    "interpolation": {
        0: "INTER_NEAREST",
        1: "INTER_LINEAR",
        2: "INTER_CUBIC",
        3: "INTER_AREA",
        4: "INTER_LANCZOS4",
        5: "INTER_LINEAR_EXACT",
        6: "INTER_NEAREST_EXACT",
    },
    "border_mode": {
        0: "BORDER_CONSTANT",
        1: "BORDER_REPLICATE",
        2: "BORDER_REFLECT",
        3: "BORDER_WRAP",
        4: "BORDER_REFLECT_101",
    },
}


def choice_labels(name: str, choices: Sequence[Any]) -> tuple[str, ...] | None:
    """The names of integer ``choices`` of parameter ``name`` when they are OpenCV constants
    (:data:`CV2_CONSTANTS`; ``mask_interpolation`` is an interpolation), else None.

    >>> choice_labels("border_mode", (0, 4))
    ('BORDER_CONSTANT', 'BORDER_REFLECT_101')
    >>> choice_labels("mask_interpolation", (0, 1))
    ('INTER_NEAREST', 'INTER_LINEAR')
    >>> choice_labels("rotate_method", ("largest_box", "ellipse")) is None
    True
    """
    key = "interpolation" if name.endswith("interpolation") else name
    names = CV2_CONSTANTS.get(key)
    if names is None or not choices:
        return None
    if not all(isinstance(c, int) and not isinstance(c, bool) and c in names for c in choices):
        return None
    return tuple(names[c] for c in choices)


def literal_choices(annotation: Any) -> tuple:
    """The values of every ``Literal[...]`` inside ``annotation`` (through unions and Annotated)."""
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    return tuple(v for arg in typing.get_args(annotation) for v in literal_choices(arg))


def plain(value: Any) -> Any:
    """A library value as plain data: enums by value, dtypes by name, sequences as tuples."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, np.generic):
        return value.item()
    if type(value).__module__ == "torch" and type(value).__name__ == "dtype":
        return str(value).removeprefix("torch.")
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _is_numbers(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
    )


def declare(
    value: Any,
    annotation: Any,
    *,
    required: bool = False,
    low: float | None = None,
    high: float | None = None,
    choices: tuple = (),
    interval: bool = False,
    help: str = "",
) -> Param:
    """The genlab declaration of one library parameter.

    ``value`` is the normalised default (for a required parameter, the value of a probe
    instance: only its type is used and the declared default is ``None``); ``annotation`` is the
    library's annotation (its text decides between whole and real numbers); ``choices`` the
    values of a ``Literal`` or an enum; ``interval`` says the library requires ``low <= high``
    of a pair.

    A pair of real numbers is a :class:`~genlab.params.Range` (a range slider in the lab) when
    it is an ``interval`` with both bounds, its annotation takes no single number and its default
    sits on the slider's steps: then every value the library accepts is one the Range accepts.
    Other lists of numbers are :class:`~genlab.params.Numbers`.

    >>> declare(0.5, float, low=0.0, high=1.0)
    Float(default=0.5, help='', optional=False, low=0.0, high=1.0, step=0.01)
    >>> declare((0.08, 1.0), tuple[float, float], low=0, high=1, interval=True)
    Range(default=(0.08, 1.0), help='', optional=False, low=0.0, high=1.0, step=0.01, symmetric=False)
    >>> declare((0.08, 1.0), tuple[float, float] | float, low=0, high=1, interval=True).kind
    'numbers'
    >>> declare((-30.0, 30.0), "tuple[float, float] | float").kind
    'numbers'
    >>> declare({"a": 1}, dict).kind
    'fixed'
    """
    text = annotation if isinstance(annotation, str) else repr(annotation)
    default = None if required else value
    common = {"help": help, "optional": value is None or required}
    if choices and (value in choices or value is None):
        return Choice(default, choices=tuple(choices), **common)
    if isinstance(value, bool):
        return Bool(default, **common)
    if isinstance(value, numbers.Integral) and "float" not in text and "Number" not in text:
        return Int(default, low=_int(low), high=_int(high), **common)
    if isinstance(value, numbers.Real):
        return Float(default, low=_float(low), high=_float(high), step=_step(low, high), **common)
    if _is_numbers(value):
        whole = all(isinstance(v, numbers.Integral) for v in value) and "float" not in text
        if interval and not whole and len(value) == 2 and _is_range(value, annotation, low, high):
            low, high = float(low), float(high)
            return Range(default, low=low, high=high, step=_step(low, high), **common)
        return Numbers(default, integer=whole, **common)
    if value is None and ("Sequence[float]" in text or "tuple[float" in text):
        return Numbers(None, **common)
    if isinstance(value, str):
        return Text(default, **common)
    return Fixed(default, **common)


def _step(low: float | None, high: float | None) -> float:
    return 0.01 if low is not None and high is not None and high - low <= 10 else 0.1


def _is_range(pair: Sequence, annotation: Any, low: float | None, high: float | None) -> bool:
    """Whether ``pair`` can be a range slider's value: finite bounds, an annotation that takes
    no single number (a spec giving one must still load), both ends on the slider's steps from
    ``low`` (a browser slider snaps its value onto them, which would change it unasked)."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return False
    if isinstance(annotation, str) or _takes_number(annotation):
        return False
    step = _step(low, high)
    return all(abs((v - low) / step - round((v - low) / step)) < 1e-6 for v in pair)


def _takes_number(annotation: Any) -> bool:
    """Whether ``annotation`` (through unions, ``Optional`` and ``Annotated``) takes a single number."""
    if annotation in (int, float):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        return any(_takes_number(arg) for arg in typing.get_args(annotation))
    return False


def _int(bound: float | None) -> int | None:
    return None if bound is None else int(bound)


def _float(bound: float | None) -> float | None:
    return None if bound is None else float(bound)


#: Arrays larger than this are recorded by shape and dtype, not by value.
MAX_RECORDED_VALUES = 16


def record_value(value: Any) -> Any:
    """A drawn parameter as JSON-friendly data; big arrays are described, not copied."""
    if isinstance(value, np.ndarray):
        if value.size > MAX_RECORDED_VALUES:
            return f"array of shape {value.shape} ({value.dtype})"
        return value.tolist()
    if isinstance(value, (np.generic, enum.Enum)):
        return plain(value)
    if isinstance(value, (list, tuple)):
        return [record_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): record_value(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
