"""Tests for genlab.lab.chain_widget: the ChainStepper widget driven from Python, no browser."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from widget_tree import the_one, with_class  # noqa: E402

from genlab import GeneratorPipeline  # noqa: E402
from genlab.lab import ChainStepper  # noqa: E402


def pairs(n):
    for i in range(n):
        yield np.full((2, 8, 8, 3), 10 * i, np.uint8), np.eye(2, dtype=np.int64)


def invert():
    while True:
        x, y = yield
        yield 255 - x, y


def to_float():
    while True:
        x, y = yield
        yield x.astype(np.float32) / 255, y


def breaks():
    while True:
        x, y = yield
        raise KeyError("no such label")


def _states(stepper):
    return re.findall(r"genlab-chain-state-(\w+)", stepper.diagram.value)


def test_buttons_step_the_chain_and_redraw_states_arrows_and_thumbnails():
    stepper = ChainStepper(lambda: GeneratorPipeline(pairs(2), invert(), to_float(), invert()))
    assert _states(stepper) == ["created"] * 3
    assert "genlab-chain-thumb" not in stepper.diagram.value
    the_one(stepper, "genlab-chain-step").click()
    assert _states(stepper) == ["receive", "created", "created"]
    assert "prime stage 0 invert" in stepper.message.value
    the_one(stepper, "genlab-chain-step-stage").click()
    assert _states(stepper) == ["emit", "receive", "receive"]
    assert stepper.diagram.value.count("genlab-chain-thumb") == 1  # stage 0's x
    assert "x (2, 8, 8, 3) uint8 384 B" in stepper.diagram.value
    thumbs_before = re.findall(r"src='(data:image/png[^']+)'", stepper.diagram.value)
    the_one(stepper, "genlab-chain-step-batch").click()
    assert _states(stepper) == ["emit"] * 3
    assert "the batch leaves the chain" in stepper.message.value
    assert "1 batches out" in stepper.title.value
    thumbs_after = re.findall(r"src='(data:image/png[^']+)'", stepper.diagram.value)
    assert len(thumbs_after) == 3 and thumbs_after[0] == thumbs_before[0]
    assert "float32" in stepper.diagram.value
    the_one(stepper, "genlab-chain-run").click()
    assert _states(stepper) == ["closed"] * 3
    assert all(b.disabled for b in stepper.buttons)
    assert "end of the source" in stepper.history_view.value
    the_one(stepper, "genlab-chain-reset").click()
    assert _states(stepper) == ["created"] * 3 and not stepper.buttons[0].disabled


def test_a_failing_stage_shows_its_line_traceback_and_the_chain_then():
    stepper = ChainStepper(GeneratorPipeline(pairs(1), invert(), breaks()))
    steps = stepper.step_batch()
    assert steps[-1].kind == "raised"
    value = stepper.diagram.value
    assert "genlab-chain-failure" in value and "genlab-chain-traceback" in value
    assert "KeyError: &#x27;no such label&#x27;" in value
    assert "error in stage 1 breaks at line" in value
    assert _states(stepper) == ["closed", "closed"]
    assert with_class(stepper, "genlab-chain-reset") == []  # a chain object cannot be rebuilt


def test_close_shows_what_finally_blocks_printed_and_describe_is_text():
    def noisy():
        try:
            while True:
                x, y = yield
                yield x, y
        finally:
            print("noisy cleaned up")

    stepper = ChainStepper(GeneratorPipeline(pairs(1), noisy()), direction="vertical")
    assert "flex-flow:column" in stepper.diagram.value
    stepper.step()
    the_one(stepper, "genlab-chain-close").click()
    assert "noisy cleaned up" in stepper.message.value
    assert stepper.close_chain().value == "already closed"
    text = stepper.describe()
    assert "stage 0 noisy: closed" in text and "close(): every stage closed" in text
    with pytest.raises(ValueError, match="direction must be 'horizontal' or 'vertical'"):
        ChainStepper(GeneratorPipeline(pairs(1), noisy()), direction="diagonal")


def test_a_failing_genlab_stage_is_shown_at_the_users_line_not_genlabs_wrapper():
    import genlab

    @genlab.stage
    def wants_small_batches(batch):
        if batch.size > 1:
            raise ValueError(f"batch of {batch.size} is too big")  # the user's line
        return batch

    try:
        pipeline = genlab.Pipeline.from_folder(
            genlab.ensure_sample_data("digits"),
            batch_size=2,
            stages=["read_images", "wants_small_batches"],
        )
        stepper = ChainStepper(pipeline)
        stepper.run()
    finally:
        genlab.registry.unregister("wants_small_batches")
    failure = stepper.session.failure
    assert failure.line_text.strip().startswith('raise ValueError(f"batch of {batch.size}')
    assert "test_lab_chain_widget.py" in failure.user_traceback
    assert "genlab/stages" not in failure.user_traceback  # genlab's own frames left out
    value = stepper.diagram.value
    assert "genlab-chain-user-traceback" in value and "in your code" in value


def test_the_layout_holds_still_with_a_legend_and_a_bounded_log():
    stepper = ChainStepper(lambda: GeneratorPipeline(pairs(30), invert(), to_float()))
    assert "genlab-chain-legend" in stepper.diagram.value
    assert all(state in stepper.diagram.value for state in ("created", "suspended at emit"))
    assert "row nowrap" in stepper.diagram.value  # one row that does not wrap
    assert "flex:0 0 15em" in stepper.diagram.value  # boxes of a fixed width
    stepper.run()
    shown = re.findall(r"<li value='(\d+)'>", stepper.history_view.value.split("</details>")[-1])
    assert len(shown) == 6 and int(shown[-1]) == len(stepper.session.history)
    assert f"{len(stepper.session.history) - 6} earlier actions" in stepper.history_view.value
