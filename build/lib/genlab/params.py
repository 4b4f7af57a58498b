"""Declared stage parameters: type, default, range or choices, and a one-line help.

A declaration validates and normalises a value (so a spec can be checked before anything
runs) and says which kind of control edits it (so widgets can be generated from it, the
way ``ipywidgets.interact`` maps a signature to controls).

>>> p = Float(0.5, low=0.0, high=1.0, help="probability")
>>> p.validate(1, stage="augment", name="hflip")
1.0
>>> p.validate(2.0, stage="augment", name="hflip")
Traceback (most recent call last):
...
ValueError: augment: parameter 'hflip' must be between 0.0 and 1.0, got 2.0
>>> control_kind(p)
'slider'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "Param",
    "Int",
    "Float",
    "Bool",
    "Choice",
    "Size",
    "HeightWidth",
    "Floats",
    "Range",
    "Numbers",
    "Text",
    "Numbers",
    "Fixed",
    "control_kind",
    "validate_params",
]


def _fail(stage: str, name: str, message: str) -> ValueError:
    return ValueError(f"{stage}: parameter {name!r} {message}")


@dataclass(frozen=True)
class Param:
    """Base declaration. Subclasses define ``coerce``; ``validate`` adds the naming."""

    default: Any = None
    help: str = ""
    optional: bool = False  # None is an accepted value

    kind = "any"

    def validate(self, value: Any, *, stage: str = "stage", name: str = "value") -> Any:
        """Return ``value`` normalised, or raise ValueError naming the stage and parameter."""
        if value is None and self.optional:
            return None
        try:
            return self.coerce(value)
        except (TypeError, ValueError) as e:
            raise _fail(stage, name, str(e)) from None

    def coerce(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type; TypeError or ValueError if it is not one."""
        return value

    def describe(self) -> dict:
        """A JSON-friendly description (used by the lab and the docs)."""
        d = {"kind": self.kind, "default": self.default, "help": self.help}
        for attr in ("low", "high", "step", "choices", "length"):
            if hasattr(self, attr):
                d[attr] = getattr(self, attr)
        return d


def _number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"must be a number, got {value!r}")
    if integer:
        if not float(value).is_integer():
            raise ValueError(f"must be a whole number, got {value!r}")
        return int(value)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"must be finite, got {value!r}")
    return value


def _check_range(value: float, low: float | None, high: float | None) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"must be between {low} and {high}, got {value!r}")


@dataclass(frozen=True)
class Int(Param):
    """A whole number in ``[low, high]``."""

    low: int | None = None
    high: int | None = None
    step: int = 1
    kind = "int"

    def coerce(self, value: Any) -> int:
        """Return ``value`` as a whole number within the bounds."""
        value = _number(value, integer=True)
        _check_range(value, self.low, self.high)
        return value


@dataclass(frozen=True)
class Float(Param):
    """A real number in ``[low, high]``. Booleans count as 1.0 / 0.0 (``rotate90=True``)."""

    low: float | None = None
    high: float | None = None
    step: float = 0.01
    kind = "float"

    def coerce(self, value: Any) -> float:
        """Return ``value`` as a finite float within the bounds."""
        if isinstance(value, bool):
            value = float(value)
        value = _number(value, integer=False)
        _check_range(value, self.low, self.high)
        return value


@dataclass(frozen=True)
class Bool(Param):
    """A flag."""

    kind = "bool"

    def coerce(self, value: Any) -> bool:
        """Return ``value`` if it is True or False."""
        if not isinstance(value, bool):
            raise TypeError(f"must be True or False, got {value!r}")
        return value


@dataclass(frozen=True)
class Choice(Param):
    """One of a fixed set of strings."""

    choices: tuple[str, ...] = ()
    kind = "choice"

    def coerce(self, value: Any) -> str:
        """Return ``value`` if it is one of the choices."""
        if value not in self.choices:
            raise ValueError(f"must be one of {list(self.choices)}, got {value!r}")
        return value


@dataclass(frozen=True)
class Size(Param):
    """A ``(width, height)`` pair of positive whole numbers (Pillow's order)."""

    low: int = 1
    high: int = 8192
    kind = "size"

    def coerce(self, value: Any) -> tuple[int, int]:
        """Return ``value`` as a ``(width, height)`` tuple of whole numbers within the bounds."""
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
            raise TypeError(f"must be a (width, height) pair, got {value!r}")
        out = tuple(_number(v, integer=True) for v in value)
        for v in out:
            _check_range(v, self.low, self.high)
        return out  # type: ignore[return-value]


class HeightWidth(NamedTuple):
    """An image's size in NumPy's order, ``(height, width)``, with its axes named.

    genlab's one convention: a size a user writes as a parameter (``target_size``, ``size``) is
    ``(width, height)``, Pillow's order (:class:`Size`); everything else is ``(height, width)``,
    the order of ``x.shape``: the size an op's ``draw`` and ``output_size`` get and give, the
    ``image_size`` of :mod:`genlab.targets`. A ``HeightWidth`` is that tuple with names, so code
    and records can say which axis a number is. Boxes of targets are ``xyxy`` pixels; a window
    in a record names its numbers (``top``, ``left``, ``height``, ``width``).

    >>> HeightWidth.from_size((640, 480))
    HeightWidth(height=480, width=640)
    >>> HeightWidth(480, 640).size, HeightWidth(480, 640) == (480, 640)
    ((640, 480), True)
    """

    height: int
    width: int

    @classmethod
    def from_size(cls, size: Sequence[int]) -> HeightWidth:
        """From a ``(width, height)`` parameter."""
        width, height = size
        return cls(int(height), int(width))

    @property
    def size(self) -> tuple[int, int]:
        """As a ``(width, height)`` parameter."""
        return (self.width, self.height)


@dataclass(frozen=True)
class Floats(Param):
    """A fixed-length list of real numbers (per-channel mean or std)."""

    length: int = 3
    low: float | None = None
    high: float | None = None
    kind = "floats"

    def coerce(self, value: Any) -> tuple[float, ...]:
        """Return ``value`` as a tuple of ``length`` floats (one number is repeated)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value] * self.length
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"must be a list of {self.length} numbers, got {value!r}")
        if len(value) != self.length:
            raise ValueError(f"must have {self.length} values, got {len(value)}: {value!r}")
        out = tuple(_number(v, integer=False) for v in value)
        for v in out:
            _check_range(v, self.low, self.high)
        return out


@dataclass(frozen=True)
class Range(Param):
    """A ``(low, high)`` interval of real numbers within ``[low, high]`` bounds.

    A single number ``m`` stands for ``(-m, m)`` when ``symmetric`` (torchvision's
    ``degrees=15`` meaning ``(-15, 15)``).

    >>> Range((0.08, 1.0), low=0.0, high=1.0).validate([0.5, 0.2], stage="op", name="scale")
    Traceback (most recent call last):
    ...
    ValueError: op: parameter 'scale' must be an interval (low <= high), got (0.5, 0.2)
    >>> Range((-10.0, 10.0), low=-180.0, high=180.0, symmetric=True).validate(30)
    (-30.0, 30.0)
    """

    low: float | None = None
    high: float | None = None
    step: float = 0.01
    symmetric: bool = False
    kind = "range"

    def coerce(self, value: Any) -> tuple[float, float]:
        """Return ``value`` as a ``(low, high)`` tuple within the bounds (``m`` is ``(-m, m)`` when symmetric)."""
        if self.symmetric and isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = (-abs(value), abs(value))
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
            raise TypeError(f"must be a (low, high) pair, got {value!r}")
        out = tuple(_number(v, integer=False) for v in value)
        if out[0] > out[1]:
            raise ValueError(f"must be an interval (low <= high), got {out!r}")
        for v in out:
            _check_range(v, self.low, self.high)
        return out  # type: ignore[return-value]


@dataclass(frozen=True)
class Text(Param):
    """A free string."""

    kind = "text"

    def coerce(self, value: Any) -> str:
        """Return ``value`` if it is a string."""
        if not isinstance(value, str):
            raise TypeError(f"must be a string, got {value!r}")
        return value


@dataclass(frozen=True)
class Numbers(Param):
    """A number or a list of numbers of any length: ranges as libraries take them (``0.2`` or
    ``(-0.2, 0.2)``), per-op weights. A comma-separated string is read as a list (the lab's text field).

    Lists become tuples; whole numbers stay ``int`` when ``integer`` is set.

    >>> Numbers((0.8, 1.2)).validate([0.9, 1])
    (0.9, 1.0)
    >>> Numbers(224, integer=True).validate([224, 224])
    (224, 224)
    >>> Numbers((), low=0.0).validate("1, 2.5")
    (1.0, 2.5)
    """

    low: float | None = None
    high: float | None = None
    integer: bool = False
    kind = "numbers"

    def coerce(self, value: Any) -> float | int | tuple:
        """Check ``value`` and return it as a number or a tuple of numbers."""
        if isinstance(value, str):  # "0.2" is a number, "0.1, 0.2" a list
            try:
                parts = tuple(float(v) for v in value.replace(",", " ").split())
            except ValueError:
                raise TypeError(f"must be a number or a list of numbers, got {value!r}") from None
            value = parts[0] if len(parts) == 1 else parts
        if isinstance(value, bytes) or not isinstance(value, (numbers.Real, Sequence)):
            raise TypeError(f"must be a number or a list of numbers, got {value!r}")
        out = tuple(value) if isinstance(value, Sequence) else (value,)
        out = tuple(_number(v, integer=self.integer) for v in out)
        for v in out:
            _check_range(v, self.low, self.high)
        return out if isinstance(value, Sequence) else out[0]


def _frozen_json(value: Any) -> Any:
    """``value`` with lists as tuples, checked to hold only JSON types."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Real):
        return _number(value, integer=isinstance(value, numbers.Integral))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen_json(v) for v in value)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _frozen_json(v) for k, v in value.items()}
    raise TypeError(f"must be plain data (numbers, strings, lists, objects), got {value!r}")


@dataclass(frozen=True)
class Fixed(Param):
    """A value kept as it was given and shown read-only: no control can edit it.

    It still goes into specs, so it must be plain data (numbers, strings, lists, objects).

    >>> Fixed().validate([1, [2, "a"]])
    (1, (2, 'a'))
    >>> control_kind(Fixed())
    'readonly'
    """

    kind = "fixed"

    def coerce(self, value: Any) -> Any:
        """Return ``value`` as frozen plain data (lists become tuples); TypeError if it holds anything else."""
        return _frozen_json(value)


_CONTROL_RULES: tuple[tuple[type, str], ...] = (
    (Fixed, "readonly"),
    (Bool, "checkbox"),
    (Choice, "dropdown"),
    (Size, "size"),
    (Floats, "floats"),
    (Range, "range"),
    (Numbers, "numbers"),
    (Text, "text"),
)


def control_kind(param: Param) -> str:
    """Which control edits this parameter: 'slider', 'int_slider', 'checkbox', 'dropdown', ...

    Numbers with both bounds become sliders; unbounded numbers become number fields. A
    declaration may name its control itself (``control`` attribute, e.g. a group's op list).
    """
    own = getattr(param, "control", None)
    if own:
        return own
    for cls, kind in _CONTROL_RULES:
        if isinstance(param, cls):
            return kind
    if isinstance(param, (Int, Float)):
        bounded = param.low is not None and param.high is not None
        prefix = "int_" if isinstance(param, Int) else ""
        return prefix + ("slider" if bounded else "number")
    return "text"


def validate_params(
    stage: str, declared: dict[str, Param], given: dict[str, Any]
) -> dict[str, Any]:
    """Complete ``given`` with defaults and validate every value; unknown names are an error."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(
            f"{stage}: unknown parameter {unknown[0]!r}; known parameters: {sorted(declared)}"
        )
    return {
        name: decl.validate(given.get(name, decl.default), stage=stage, name=name)
        for name, decl in declared.items()
    }
