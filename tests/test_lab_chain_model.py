"""Tests for genlab.lab.chain_model: a whole chain stepped one driver action at a time."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import genlab
from genlab import GeneratorPipeline, StageError
from genlab.lab.chain_model import ChainSession
from genlab.lab.summaries import is_image_array, summarise, thumbnail_png


def pairs(n, size=3):
    """A source of plain (x, y) tuples, as in the classic post; batch i is full of i."""
    for i in range(n):
        yield np.full((size, 8, 8, 3), i, np.uint8), np.eye(size, dtype=np.int64)


def double(log=None):
    try:
        while True:
            x, y = yield
            yield x * 2, y
    finally:
        if log is not None:
            log.append("double")


def plus_one():
    while True:
        x, y = yield
        yield x + 1, y


def running_mean(log=None):
    """Keeps state across batches: centres each batch on the mean of everything seen so far."""
    total, count = 0.0, 0
    try:
        while True:
            x, y = yield
            total += float(x.sum())
            count += x.size
            yield x - total / count, y
    finally:
        print(f"running_mean closed after {count} values")
        if log is not None:
            log.append("running_mean")


def fails_on_second_batch():
    seen = 0
    while True:
        x, y = yield
        seen += 1
        if seen == 2:
            raise ValueError(f"bad batch number {seen}")
        yield x, y


class ClosingSource:
    """An iterator that records being closed."""

    def __init__(self, batches):
        self.batches = iter(batches)
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.batches)

    def close(self):
        self.closed = True


def three_stage(log=None, n=2):
    return GeneratorPipeline(pairs(n), double(log), plus_one(), running_mean(log))


def kinds(steps):
    return [(s.kind, s.stage) for s in steps]


def states(chain):
    return [chain.state(i) for i in range(len(chain))]


def test_actions_follow_the_driver_and_give_generator_pipelines_batches():
    chain = ChainSession(three_stage())
    steps = chain.run()
    per_batch = [("prime", 0), ("prime", 1), ("prime", 2), ("send", 0), ("send", 1), ("send", 2),
                 ("out", None)]  # fmt: skip
    second = [("advance" if k == "prime" else k, s) for k, s in per_batch]
    assert kinds(steps) == per_batch + second + [("end", None)]
    expected = list(three_stage())  # the same stages under GeneratorPipeline itself
    out = [s for s in steps if s.kind == "out"]
    assert len(out) == len(expected) == chain.batches_out == 2
    np.testing.assert_allclose(chain.travelled[-1][0], expected[-1][0])
    assert [s.batch for s in steps[:-1]] == [0] * 7 + [1] * 7


def test_states_move_created_receive_emit_and_back():
    chain = ChainSession(three_stage())
    assert states(chain) == ["created"] * 3
    chain.step()
    assert states(chain) == ["suspended at receive", "created", "created"]
    chain.step_stage()  # the remaining primes, then the batch through stage 0
    assert states(chain) == ["suspended at emit", "suspended at receive", "suspended at receive"]
    assert chain.stage_snapshot(0).line_text.strip() == "yield x * 2, y"
    assert chain.stage_snapshot(1).line_text.strip() == "x, y = yield"
    chain.step_batch()
    assert states(chain) == ["suspended at emit"] * 3
    step = chain.step()  # the next batch: stage 0 goes back to its receiving yield
    assert (step.kind, step.stage, step.batch) == ("advance", 0, 1)
    assert states(chain)[0] == "suspended at receive"
    assert "back to receive" in step.describe()


def test_arrows_show_what_travelled_and_locals_summarise_arrays():
    chain = ChainSession(three_stage())
    assert chain.arrow_text(0) == "(nothing yet)"
    chain.step_stage()
    chain.step_stage()
    assert chain.arrow_text(0) == "x (3, 8, 8, 3) uint8 576 B · y (3, 3) int64 72 B"
    assert chain.arrow_text(2) == "x (3, 8, 8, 3) uint8 576 B · y (3, 3) int64 72 B"
    assert chain.arrow_text(3) == "(nothing yet)"
    chain.step_stage()
    assert (
        chain.arrow_text(3) == "x (3, 8, 8, 3) float64 4.5 KiB · y (3, 3) int64 72 B"
    )  # 576 values x 8 bytes
    snapshot = chain.stage_snapshot(2)
    assert snapshot.locals["x"] == "ndarray (3, 8, 8, 3) uint8, 576 B"
    assert snapshot.locals["count"] == str(3 * 8 * 8 * 3)
    assert thumbnail_png(chain.frame_locals(2)["x"]) is not None
    assert thumbnail_png(chain.frame_locals(2)["y"]) is None


def test_running_mean_keeps_its_state_across_batches(capsys):
    chain = ChainSession(GeneratorPipeline(pairs(3), running_mean()))
    means = []
    for _ in range(3):
        chain.step_batch()
        frame = chain.frame_locals(0)
        means.append(frame["total"] / frame["count"])
    # batch i is full of i: after batches 0, 1, 2 the running mean is 0, 0.5, 1
    assert means == [0.0, 0.5, 1.0]
    out = chain.travelled[-1][0]
    np.testing.assert_allclose(out, np.full((3, 8, 8, 3), 2 - 1.0))
    end = chain.step()
    assert end.kind == "end" and chain.finished
    assert end.printed == f"running_mean closed after {3 * 3 * 8 * 8 * 3} values\n"
    assert "running_mean closed" in capsys.readouterr().out  # still printed, not swallowed


def test_close_mid_batch_runs_every_finally_in_order_and_closes_the_source():
    log = []
    source = ClosingSource(pairs(2))
    chain = ChainSession(GeneratorPipeline(source, double(log), plus_one(), running_mean(log)))
    chain.step_stage()
    step = chain.close()
    assert step.kind == "close" and "finally blocks ran" in step.value
    assert log == ["double", "running_mean"] and source.closed
    assert states(chain) == ["closed"] * 3
    assert "running_mean closed after 0 values" in step.printed
    assert chain.close().value == "already closed"
    assert len(chain.history) == 5  # 3 primes, 1 send, 1 close: the second close is not an action
    with pytest.raises(RuntimeError, match="the chain is closed"):
        chain.step()
    with pytest.raises(RuntimeError, match="the chain is closed"):
        chain.run()


def test_a_stage_that_raises_shows_where_and_the_chain_at_that_moment():
    log = []
    source = ClosingSource(pairs(3))
    chain = ChainSession(
        GeneratorPipeline(source, double(log), fails_on_second_batch(), running_mean(log))
    )
    steps = chain.run()
    raised = steps[-1]
    assert (raised.kind, raised.stage, raised.batch) == ("raised", 1, 1)
    assert raised.value == "ValueError: bad batch number 2"
    failure = chain.failure
    assert failure.stage == 1 and failure.name == "fails_on_second_batch"
    assert failure.line_text.strip() == 'raise ValueError(f"bad batch number {seen}")'
    lines, start = inspect.getsourcelines(fails_on_second_batch)
    assert lines[failure.line - start].strip() == failure.line_text.strip()
    assert (
        "Traceback" in failure.traceback and "ValueError: bad batch number 2" in failure.traceback
    )
    # at the error: stage 0 had emitted batch 1, stage 1 died, stage 2 still waited to receive it
    assert [s.state for s in failure.stages] == [
        "suspended at emit", "closed", "suspended at receive"
    ]  # fmt: skip
    assert failure.stages[2].locals["count"] == str(3 * 8 * 8 * 3)
    # then, as GeneratorPipeline does, every stage and the source were closed
    assert states(chain) == ["closed"] * 3 and source.closed and log == ["double", "running_mean"]
    # the same message GeneratorPipeline raises
    with pytest.raises(StageError, match="stage 'fails_on_second_batch' failed") as info:
        list(GeneratorPipeline(pairs(3), double(), fails_on_second_batch(), running_mean()))
    assert failure.message == str(info.value)
    text = chain.describe()
    assert "error in stage 1 fails_on_second_batch at line" in text
    assert "the chain when it raised:" in text


def test_protocol_errors_are_named_as_generator_pipeline_names_them():
    def once():
        x = yield
        yield x

    def sink():
        while True:
            x = yield  # noqa: F841

    stopped = ChainSession(GeneratorPipeline(pairs(2), once()))
    stopped.run()
    assert stopped.failure.message == "stage 'once' stopped; a stage must loop forever"
    emitted_none = ChainSession(GeneratorPipeline(pairs(1), sink()))
    emitted_none.run()
    assert emitted_none.failure.message.startswith("stage 'sink' emitted None")
    assert emitted_none.failure.stage == 0 and emitted_none.failure.line is None


def test_a_source_that_raises_is_shown_as_the_source():
    def broken_source():
        yield from pairs(1)
        raise OSError("disk gone")

    chain = ChainSession(GeneratorPipeline(broken_source(), double()))
    steps = chain.run()
    assert steps[-1].kind == "raised" and steps[-1].stage is None
    assert chain.failure.message == "OSError: disk gone"
    assert steps[-1].describe() == (
        "batch 1: the source raised OSError: disk gone; the driver closed every stage and the source"
    )


def test_genlab_pipeline_is_stepped_with_its_stages_and_resets(colours_root):
    pipeline = genlab.Pipeline.from_folder(
        colours_root, batch_size=4, seed=3,
        stages=[("read_images", {"target_size": (16, 12)}), "augment", "rescale_images"],
    )  # fmt: skip
    chain = ChainSession(pipeline)
    assert chain.kind == "Pipeline" and chain.names == ["read_images", "augment", "rescale_images"]
    chain.step_stage()
    # genlab's stages are two-yield generators too: paused in protocol.py's two_yield_stage loop
    snapshot = chain.stage_snapshot(0)
    assert snapshot.state == "suspended at emit" and snapshot.line_text.strip().startswith(
        "yield fn("
    )
    assert snapshot.locals["batch"].startswith("Batch(list of 4")
    assert chain.arrow_text(1) == "x (4, 12, 16, 3) uint8 2.2 KiB · y (4, 3) int64 96 B"
    chain.step_batch()
    first = next(iter(pipeline.iter_epoch(0)))
    np.testing.assert_array_equal(chain.travelled[-1].x, first.x)
    png = thumbnail_png(chain.frame_locals(2)["batch"])  # float32 rescaled images, stretched
    assert png.startswith(b"\x89PNG")
    chain.reset()
    assert states(chain) == ["created"] * 3 and chain.history == [] and chain.batches_out == 0
    assert len([s for s in chain.run() if s.kind == "out"]) == len(pipeline)


def test_function_returning_a_chain_can_be_reset_but_a_chain_object_cannot():
    chain = ChainSession(lambda: three_stage(n=1))
    chain.run()
    chain.reset()
    assert not chain.finished and states(chain) == ["created"] * 3
    fixed = ChainSession(three_stage())
    with pytest.raises(ValueError, match="reset needs a genlab.Pipeline or a function"):
        fixed.reset()


def test_bad_chains_are_refused_with_clear_errors():
    with pytest.raises(TypeError, match="ChainSession needs a GeneratorPipeline"):
        ChainSession([double()])
    used = three_stage()
    next(used)
    with pytest.raises(ValueError, match="stage 0 'double' has already run"):
        ChainSession(used)
    with pytest.raises(TypeError, match="returned 3, not a GeneratorPipeline"):
        ChainSession(lambda: 3)


def test_summaries_and_thumbnails():
    images = np.zeros((5, 32, 48, 3), np.uint8)
    assert summarise(images) == "ndarray (5, 32, 48, 3) uint8, 22.5 KiB"
    assert summarise(list(range(10))) == "list of 10"
    assert summarise([1, 2]) == "[1, 2]"
    assert summarise(double) == "function double"
    assert is_image_array(images[0]) and not is_image_array(np.zeros((5, 32, 48)))
    import io

    from PIL import Image

    strip = Image.open(io.BytesIO(thumbnail_png(images, height=16, count=4)))
    assert strip.size == (4 * 24 + 3 * 2, 16)  # 4 images 24 px wide (aspect kept), 2 px gaps
    assert thumbnail_png(np.zeros((5, 10))) is None
