"""Tests for genlab.lab.generator_model: driving a generator by hand, without widgets."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.lab.generator_model import GeneratorSession, parse_value, short_repr


def squares(limit):
    total = 0
    for n in range(limit):
        total += n * n
        yield n * n
    return total


def echo():
    received = None
    while True:
        try:
            received = yield received
        except KeyError as error:
            received = f"caught {error}"


def two_yield_double():
    while True:
        x, y = yield
        yield x * 2, y


def test_state_follows_the_generator_lifecycle():
    session = GeneratorSession(squares(2))
    assert session.state == "created"
    session.next()
    assert session.state == "suspended"
    session.next()
    step = session.next()
    assert (step.outcome, step.value) == ("returned", "1")  # 0 + 1
    assert session.state == "closed"
    assert session.paused_line is None
    assert session.locals() == {}


def test_paused_line_and_locals_track_the_frame():
    session = GeneratorSession(squares(5))
    session.next()
    session.next()
    assert session.paused_line_text().strip() == "yield n * n"
    assert session.locals() == {"limit": "5", "total": "1", "n": "1"}
    html = session.source_html()
    assert html.count("genlab-paused-line") == 1
    assert "yield n * n" in html.split("genlab-paused-line")[1].split("</span>")[0]


def test_send_throw_close_are_recorded_in_history():
    session = GeneratorSession(echo())
    session.next()
    assert session.send([1, 2]).value == "[1, 2]"
    caught = session.throw("KeyError", "k")
    assert (caught.outcome, caught.value) == ("yielded", "\"caught 'k'\"")
    raised = session.throw(ValueError, "bad")
    assert (raised.outcome, raised.value) == ("raised", "ValueError: bad")
    assert isinstance(session.last_error, ValueError)
    assert session.state == "closed"
    assert [step.describe() for step in session.history] == [
        "next() -> yielded None",
        "send([1, 2]) -> yielded [1, 2]",
        "throw(KeyError('k')) -> yielded \"caught 'k'\"",
        "throw(ValueError('bad')) -> raised ValueError: bad",
    ]


def test_sending_a_value_to_a_new_generator_is_an_error_not_a_crash():
    session = GeneratorSession(echo())
    step = session.send(5)
    assert step.outcome == "raised"
    assert "just-started" in step.value
    assert session.state == "created"


def test_close_then_next_reports_the_end():
    session = GeneratorSession(echo())
    session.next()
    assert session.close().outcome == "closed"
    assert session.next().outcome == "returned"
    assert "closed" in session.locals_html()


def test_factory_allows_reset_and_objects_do_not():
    session = GeneratorSession(lambda: squares(3))
    session.next()
    session.next()
    session.reset()
    assert session.state == "created" and session.history == []
    assert session.next().value == "0"
    with pytest.raises(ValueError, match="reset needs a generator function"):
        GeneratorSession(squares(3)).reset()


def test_bad_arguments_are_type_errors():
    with pytest.raises(TypeError, match="expected a generator"):
        GeneratorSession(42)
    with pytest.raises(TypeError, match="not a generator"):
        GeneratorSession(lambda: [1, 2])
    with pytest.raises(ValueError, match="exception must be one of"):
        GeneratorSession(echo()).throw("SystemExit")


def test_two_yield_stage_with_inputs_shows_the_protocol():
    batches = [
        (np.ones((2, 4, 4, 3), np.uint8), np.eye(2)),
        (np.zeros((1, 4, 4, 3), np.uint8), np.eye(2)[:1]),
    ]
    session = GeneratorSession(two_yield_double, inputs=batches)
    assert session.next().value == "None"  # primed: paused at the receiving yield
    assert session.paused_line_text().strip() == "x, y = yield"
    emitted = session.send_input()
    assert emitted.value.startswith("(ndarray(shape=(2, 4, 4, 3), dtype=uint8)")
    assert session.paused_line_text().strip() == "yield x * 2, y"
    assert session.locals()["x"] == "ndarray(shape=(2, 4, 4, 3), dtype=uint8)"
    session.next()
    assert session.send_input().value.startswith("(ndarray(shape=(1, 4, 4, 3)")
    session.next()
    assert session.send_input().value == "no inputs left"
    session.reset()
    session.next()
    assert session.send_input().value.startswith("(ndarray(shape=(2, 4, 4, 3)")


def test_parse_value_and_short_repr():
    assert parse_value("{'a': 1}") == {"a": 1}
    assert parse_value("checkpoint-0.37.h5") == "checkpoint-0.37.h5"
    assert parse_value("__import__('os')") == "__import__('os')"  # never evaluated
    assert short_repr(np.zeros((3, 2), np.float32)) == "ndarray(shape=(3, 2), dtype=float32)"
    assert len(short_repr(list(range(1000)))) < 40


def documented():
    """Yield twice.

    A docstring long enough to fold.
    """
    yield "a"
    yield "b"


def test_source_html_folds_the_docstring_and_keeps_line_numbers():
    session = GeneratorSession(documented())
    session.next()
    html = session.source_html()
    assert "docstring: 4 lines" in html and "long enough to fold" not in html
    lines, start = session.source()
    assert f"{start + 5:4d}  {'    yield'}" in html.split("genlab-paused-line")[1]
    assert "long enough to fold" in session.source_html(fold_docstring=False)
