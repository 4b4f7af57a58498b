"""Tests for genlab.lab.generator_widget: the GeneratorStepper widget driven from Python, no browser."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from widget_tree import the_one, with_class  # noqa: E402

from genlab.lab import GeneratorStepper  # noqa: E402


def countdown(n=3):
    while n > 0:
        received = yield n
        n -= 1 if received is None else received
    return "liftoff"


def test_buttons_drive_the_generator_and_update_the_views():
    stepper = GeneratorStepper(countdown)
    assert "state-created" in stepper.title.value
    the_one(stepper, "genlab-stepper-next").click()
    assert "state-suspended" in stepper.title.value
    assert "<b>yielded</b> <code>3</code>" in stepper.message.value
    assert "received = yield n" in stepper.source_view.value.split("genlab-paused-line")[1]
    stepper.value_field.value = "2"
    the_one(stepper, "genlab-stepper-send").click()
    assert "<b>yielded</b> <code>1</code>" in stepper.message.value
    assert "<code>n</code></td><td><code>1</code>" in stepper.locals_view.value
    the_one(stepper, "genlab-stepper-next").click()
    assert "<b>returned</b> <code>&#x27;liftoff&#x27;</code>" in stepper.message.value
    assert "state-closed" in stepper.title.value
    assert stepper.history_view.value.count("<li") == 3


def test_errors_are_shown_in_the_widget():
    stepper = GeneratorStepper(countdown)
    stepper.value_field.value = "oops"
    the_one(stepper, "genlab-stepper-send").click()  # non-None into a just-started generator
    assert "TypeError" in stepper.message.value
    the_one(stepper, "genlab-stepper-next").click()
    stepper.exception_choice.value = "RuntimeError"
    stepper.value_field.value = "stop here"
    the_one(stepper, "genlab-stepper-throw").click()
    assert "RuntimeError: stop here" in stepper.message.value
    assert "state-closed" in stepper.title.value


def test_close_and_reset_buttons():
    stepper = GeneratorStepper(countdown)
    the_one(stepper, "genlab-stepper-next").click()
    the_one(stepper, "genlab-stepper-close").click()
    assert "state-closed" in stepper.title.value
    the_one(stepper, "genlab-stepper-reset").click()
    assert "state-created" in stepper.title.value
    assert stepper.session.history == []


def test_generator_object_has_no_reset_and_inputs_add_athe_one():
    plain = GeneratorStepper(countdown(2))
    assert with_class(plain, "genlab-stepper-reset") == []
    fed = GeneratorStepper(countdown(5), inputs=[None, 2])
    the_one(fed, "genlab-stepper-next").click()
    the_one(fed, "genlab-stepper-send-input").click()
    the_one(fed, "genlab-stepper-send-input").click()
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
    the_one(stepper, "genlab-stepper-send").click()
    assert stepper.session.history[-1].value == "0.4321"
    assert stepper.session.locals()["name"] == "'weights-epoch03-val_loss0.4321.hdf5'"
    stepper.value_field.value = "notes.txt"
    the_one(stepper, "genlab-stepper-send").click()
    assert stepper.session.history[-1].value == "None"
    the_one(stepper, "genlab-stepper-close").click()
    assert "state-closed" in stepper.title.value


def test_a_pipeline_stage_fed_its_source_batches(digits_root):
    import genlab

    pipeline = genlab.Pipeline.from_folder(
        digits_root, batch_size=4, stages=[("read_images", {"target_size": (16, 16)})]
    )
    stage = pipeline.build_stages()[0]
    stepper = GeneratorStepper(stage, inputs=pipeline.source_batches(0))
    the_one(stepper, "genlab-stepper-next").click()  # the driver's None: to the receiving yield
    assert stepper.session.paused_line_text().strip() == "batch = yield"
    the_one(stepper, "genlab-stepper-send-input").click()
    emitted = stepper.session.history[-1]
    assert emitted.outcome == "yielded"
    assert "ndarray(shape=(4, 16, 16, 3), dtype=uint8)" in emitted.value
    assert "yield fn(batch" in stepper.session.paused_line_text()
    assert "Batch" in stepper.session.locals()["batch"]
    the_one(
        stepper, "genlab-stepper-next"
    ).click()  # back to the receiving yield for the next batch
    the_one(stepper, "genlab-stepper-send-input").click()
    assert stepper.session.history[-1].outcome == "yielded"
