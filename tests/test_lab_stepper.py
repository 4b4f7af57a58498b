"""Tests for genlab.lab.stepper: the GeneratorStepper widget driven from Python, no browser."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from genlab.lab import GeneratorStepper  # noqa: E402


def countdown(n=3):
    while n > 0:
        received = yield n
        n -= 1 if received is None else received
    return "liftoff"


def _button(stepper, css_class):
    found = [w for w in _walk(stepper) if css_class in getattr(w, "_dom_classes", ())]
    assert len(found) == 1, css_class
    return found[0]


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_buttons_drive_the_generator_and_update_the_views():
    stepper = GeneratorStepper(countdown)
    assert "state-created" in stepper.title.value
    _button(stepper, "genlab-stepper-next").click()
    assert "state-suspended" in stepper.title.value
    assert "<b>yielded</b> <code>3</code>" in stepper.message.value
    assert "received = yield n" in stepper.source_view.value.split("genlab-paused-line")[1]
    stepper.value_field.value = "2"
    _button(stepper, "genlab-stepper-send").click()
    assert "<b>yielded</b> <code>1</code>" in stepper.message.value
    assert "<code>n</code></td><td><code>1</code>" in stepper.locals_view.value
    _button(stepper, "genlab-stepper-next").click()
    assert "<b>returned</b> <code>&#x27;liftoff&#x27;</code>" in stepper.message.value
    assert "state-closed" in stepper.title.value
    assert stepper.history_view.value.count("<li") == 3


def test_errors_are_shown_in_the_widget():
    stepper = GeneratorStepper(countdown)
    stepper.value_field.value = "oops"
    _button(stepper, "genlab-stepper-send").click()  # non-None into a just-started generator
    assert "TypeError" in stepper.message.value
    _button(stepper, "genlab-stepper-next").click()
    stepper.exception_choice.value = "RuntimeError"
    stepper.value_field.value = "stop here"
    _button(stepper, "genlab-stepper-throw").click()
    assert "RuntimeError: stop here" in stepper.message.value
    assert "state-closed" in stepper.title.value


def test_close_and_reset_buttons():
    stepper = GeneratorStepper(countdown)
    _button(stepper, "genlab-stepper-next").click()
    _button(stepper, "genlab-stepper-close").click()
    assert "state-closed" in stepper.title.value
    _button(stepper, "genlab-stepper-reset").click()
    assert "state-created" in stepper.title.value
    assert stepper.session.history == []


def test_generator_object_has_no_reset_and_inputs_add_a_button():
    plain = GeneratorStepper(countdown(2))
    assert not [w for w in _walk(plain) if "genlab-stepper-reset" in w._dom_classes]
    fed = GeneratorStepper(countdown(5), inputs=[None, 2])
    _button(fed, "genlab-stepper-next").click()
    _button(fed, "genlab-stepper-send-input").click()
    _button(fed, "genlab-stepper-send-input").click()
    assert [s.value for s in fed.session.history] == ["5", "4", "2"]


def test_catalan_generator_from_the_examples():
    from genlab.examples import catalan

    stepper = GeneratorStepper(catalan)
    for _ in range(6):
        stepper.next()
    assert [step.value for step in stepper.session.history] == ["1", "1", "2", "5", "14", "42"]
    assert stepper.session.paused_line_text().strip() == "yield value"
    assert stepper.session.locals() == {"value": "42", "n": "5"}


def test_checkpoint_loss_coroutine_from_the_examples():
    from genlab.examples import val_loss_extractor

    stepper = GeneratorStepper(val_loss_extractor())
    assert "state-suspended" in stepper.title.value  # the example comes primed
    stepper.value_field.value = "weights-epoch03-val_loss0.4321.hdf5"
    _button(stepper, "genlab-stepper-send").click()
    assert stepper.session.history[-1].value == "0.4321"
    assert stepper.session.locals()["name"] == "'weights-epoch03-val_loss0.4321.hdf5'"
    stepper.value_field.value = "notes.txt"
    _button(stepper, "genlab-stepper-send").click()
    assert stepper.session.history[-1].value == "None"
    _button(stepper, "genlab-stepper-close").click()
    assert "state-closed" in stepper.title.value


def test_a_pipeline_stage_fed_its_source_batches(digits_root):
    import genlab

    pipeline = genlab.Pipeline.from_folder(
        digits_root, batch_size=4, stages=[("read_images", {"target_size": (16, 16)})]
    )
    stage = pipeline.build_stages()[0]
    stepper = GeneratorStepper(stage, inputs=pipeline.source_batches(0))
    _button(stepper, "genlab-stepper-next").click()  # the driver's None: to the receiving yield
    assert stepper.session.paused_line_text().strip() == "batch = yield"
    _button(stepper, "genlab-stepper-send-input").click()
    emitted = stepper.session.history[-1]
    assert emitted.outcome == "yielded"
    assert "ndarray(shape=(4, 16, 16, 3), dtype=uint8)" in emitted.value
    assert "yield fn(batch" in stepper.session.paused_line_text()
    assert "Batch" in stepper.session.locals()["batch"]
    _button(
        stepper, "genlab-stepper-next"
    ).click()  # back to the receiving yield for the next batch
    _button(stepper, "genlab-stepper-send-input").click()
    assert stepper.session.history[-1].outcome == "yielded"
