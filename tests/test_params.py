"""Parameter declarations: validation, normalisation, control kinds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genlab.params import (
    Bool,
    Choice,
    Float,
    Floats,
    Int,
    Size,
    Text,
    control_kind,
    validate_params,
)


@pytest.mark.parametrize(
    "decl, value, message",
    [
        (Float(0.5, low=0.0, high=1.0), 1.5, "must be between 0.0 and 1.0, got 1.5"),
        (Float(0.5), "0.5", "must be a number, got '0.5'"),
        (Float(0.5), float("nan"), "must be finite"),
        (Int(1, low=0, high=3), 2.5, "must be a whole number, got 2.5"),
        (Int(1, low=0, high=3), True, "must be a number, got True"),
        (Bool(True), 1, "must be True or False, got 1"),
        (Choice("a", choices=("a", "b")), "c", r"must be one of \['a', 'b'\], got 'c'"),
        (Size((4, 4)), (4,), r"must be a \(width, height\) pair, got \(4,\)"),
        (Size((4, 4)), (0, 4), "must be between 1 and 8192, got 0"),
        (Floats((0, 0, 0)), (1, 2), "must have 3 values, got 2"),
        (Text(""), 3, "must be a string, got 3"),
    ],
)
def test_bad_values_name_stage_and_parameter(decl, value, message):
    with pytest.raises(ValueError, match=f"^mystage: parameter 'p' {message}"):
        decl.validate(value, stage="mystage", name="p")


def test_values_are_normalised():
    assert Float(0.0).validate(True) == 1.0  # rotate90=True means probability 1
    assert Size((1, 1)).validate([3, 4]) == (3, 4)
    assert Floats((0, 0, 0)).validate(2) == (2.0, 2.0, 2.0)
    assert Int(0).validate(3.0) == 3


def test_validate_params_fills_defaults_and_rejects_unknown():
    declared = {"a": Int(1, low=0, high=9), "b": Bool(False)}
    assert validate_params("s", declared, {"a": 3}) == {"a": 3, "b": False}
    with pytest.raises(
        ValueError, match=r"s: unknown parameter 'c'; known parameters: \['a', 'b'\]"
    ):
        validate_params("s", declared, {"c": 1})


def test_control_kinds():
    assert control_kind(Float(0, low=0, high=1)) == "slider"
    assert control_kind(Float(0)) == "number"
    assert control_kind(Int(0, low=0, high=5)) == "int_slider"
    assert control_kind(Bool(False)) == "checkbox"
    assert control_kind(Choice("a", choices=("a",))) == "dropdown"
    assert control_kind(Size((1, 1))) == "size"
    assert control_kind(Floats((0, 0, 0))) == "floats"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_range_is_exact(value):
    decl = Float(0.0, low=-1.0, high=1.0)
    if -1.0 <= value <= 1.0:
        assert decl.validate(value) == value
    else:
        with pytest.raises(ValueError):
            decl.validate(value)
