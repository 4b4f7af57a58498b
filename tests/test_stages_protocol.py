"""The two-yield protocol, GeneratorPipeline, the @stage decorator and closing."""

from __future__ import annotations

import numpy as np
import pytest

import genlab
from genlab import Batch, Float, GeneratorPipeline, StageError, stage


def pairs(n, size=3):
    """A source of plain (x, y) tuples like the classic post's."""
    for i in range(n):
        yield np.full((size, 2, 2, 3), i, np.uint8), np.eye(size, dtype=np.int64)


def doubler():
    while True:
        x, y = yield
        yield x * 2, y


def test_hand_written_driver_runs_genlab_stages_unchanged(colours_root):
    # The post's driver, written by hand: send None to every step, then the batch through them.
    steps = [
        genlab.read_images(target_size=(8, 6)),
        genlab.rescale_images(scale=0.5),
        genlab.shuffle_samples(),
    ]
    out = []
    for batch in genlab.dataset(colours_root, batch_size=4, seed=0):
        for step in steps:
            step.send(None)
        for step in steps:
            batch = step.send(batch)
        out.append(batch)
    assert [b[0].shape for b in out] == [(4, 6, 8, 3)] * 3 + [(3, 6, 8, 3)]
    assert out[0][0].dtype == np.float32 and out[0][0].max() <= 127.5


def test_user_coroutine_mixed_with_genlab_stages(colours_root):
    pipe = GeneratorPipeline(
        genlab.dataset(colours_root, batch_size=5, shuffle=False),
        genlab.read_images(target_size=(8, 6)),
        doubler(),  # a hand-written stage returning plain tuples
        genlab.augment(hflip=1.0),
    )
    batches = list(pipe)
    assert len(batches) == 3
    # the hand-written stage's tuple got the batch info back, so augment could seed per sample
    assert all(isinstance(b, Batch) and b.info.keys is not None for b in batches)
    assert batches[0].info.applied[0] == ({"op": "hflip"},)


def test_classic_pipeline_of_plain_generators():
    out = list(GeneratorPipeline(pairs(2), doubler(), doubler()))
    assert [int(x[0, 0, 0, 0]) for x, _ in out] == [0, 4]


def test_stage_that_stops_or_emits_none_is_named():
    def once():
        x = yield
        yield x

    with pytest.raises(StageError, match="stage 'once' stopped"):
        list(GeneratorPipeline(pairs(3), once()))

    def single_yield():
        while True:
            x = yield  # noqa: F841  - Beazley-style sink: never emits

    with pytest.raises(StageError, match="stage 'single_yield' emitted None"):
        list(GeneratorPipeline(pairs(1), single_yield()))


def test_factory_not_called_is_a_clear_error():
    with pytest.raises(TypeError, match="call the stage factory"):
        GeneratorPipeline(pairs(1), genlab.read_images)


def test_error_in_stage_names_it_and_closes_everything():
    closed = []

    def tracked(name, fail_on=None):
        try:
            while True:
                x, y = yield
                if fail_on is not None and int(x[0, 0, 0, 0]) == fail_on:
                    raise ZeroDivisionError("boom")
                yield x, y
        except GeneratorExit:
            closed.append(name)
            raise

    source_closed = []

    def source():
        try:
            yield from pairs(5)
        finally:
            source_closed.append(True)

    pipe = GeneratorPipeline(source(), tracked("a"), tracked("b", fail_on=1), tracked("c"))
    with pytest.raises(StageError, match="stage 'tracked' failed.*ZeroDivisionError: boom") as info:
        list(pipe)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert sorted(closed) == ["a", "c"]  # b died with its exception; the others were closed
    assert source_closed == [True]


def test_leaving_a_for_loop_early_closes_stages_and_source():
    closed = []

    def tracked():
        try:
            while True:
                batch = yield
                yield batch
        finally:
            closed.append("stage")

    def source():
        try:
            yield from pairs(10)
        finally:
            closed.append("source")

    with GeneratorPipeline(source(), tracked()) as pipe:
        for _ in pipe:
            break
    assert closed == ["stage", "source"]


def test_pipeline_for_loop_break_closes_coroutines(colours_root):
    closed = []

    def tracked_close():
        try:
            while True:
                batch = yield
                yield batch
        finally:
            closed.append(True)

    genlab.register("tracked_close", tracked_close)
    try:
        p = genlab.Pipeline.from_folder(
            colours_root,
            batch_size=2,
            stages=[("read_images", {"target_size": (8, 6)}), "tracked_close"],
        )
        for x, _ in p:  # noqa: B007  - leaving the loop early is the point
            break
        assert closed == [True]  # the loop's iterator was released, closing every coroutine
        assert x.shape == (2, 6, 8, 3)
    finally:
        genlab.registry.unregister("tracked_close")


def test_stage_decorator_validates_eagerly_and_registers():
    @stage(params={"amount": Float(1.0, low=0.0, high=5.0, help="added to every pixel")})
    def add_amount(batch, *, amount):
        return batch.replace(x=batch.x + amount)

    try:
        assert "add_amount" in genlab.registry.names()
        with pytest.raises(ValueError, match="add_amount: parameter 'amount' must be between"):
            add_amount(amount=9)
        with pytest.raises(ValueError, match="add_amount: unknown parameter 'amout'"):
            add_amount(amout=1)
        gen = add_amount(amount=2)
        assert gen.__name__ == "add_amount"
        out = list(GeneratorPipeline(pairs(1), gen))
        assert out[0][0].max() == 2
    finally:
        genlab.registry.unregister("add_amount")


def test_stage_with_rng_is_seeded_per_batch():
    @stage
    def jitter(batch, *, rng):
        return batch.replace(x=batch.x + rng.integers(0, 100))

    try:

        def run():
            src = (
                Batch(np.zeros(2), np.eye(2), genlab.BatchInfo(seed=5, index=i)) for i in range(3)
            )
            return [b.x[0] for b in GeneratorPipeline(src, jitter())]

        first, second = run(), run()
        assert first == second and len(set(first)) > 1
    finally:
        genlab.registry.unregister("jitter")


def test_registering_a_name_twice_is_refused():
    def one():
        while True:
            b = yield
            yield b

    def other():
        while True:
            b = yield
            yield b

    genlab.register("twice", one)
    try:
        with pytest.raises(ValueError, match="already registered"):
            genlab.register("twice", other)
        genlab.register("twice", other, replace=True)
        assert genlab.registry.get("twice").factory is other
    finally:
        genlab.registry.unregister("twice")
    with pytest.raises(ValueError, match="unknown stage 'twice'"):
        genlab.registry.get("twice")


def test_trace_stage_prints_and_passes_through(capsys):
    out = list(GeneratorPipeline(pairs(1), genlab.trace(label="here")))
    assert out[0][0].shape == (3, 2, 2, 3)
    assert "[here] epoch 0 batch 0: x (3, 2, 2, 3) uint8" in capsys.readouterr().err


def test_a_users_stage_named_like_a_newer_builtin_op_wins_with_a_warning():
    # 0.1 users registered their own "invert"; 0.2 added a built-in op of that name
    def invert():
        while True:
            x, y = yield
            yield 255 - x, y

    with pytest.warns(UserWarning, match="your stage 'invert' replaces genlab's built-in"):
        genlab.register("invert", invert)
    try:
        assert genlab.registry.get("invert").factory is invert
        x = np.full((1, 2, 2, 3), 10, np.uint8)
        out = next(
            GeneratorPipeline(iter([(x, np.eye(1))]), genlab.registry.get("invert").factory())
        )
        assert int(out[0][0, 0, 0, 0]) == 245
    finally:
        genlab.registry.unregister("invert")
    assert genlab.registry.get("invert").factory is genlab.transforms.get_op("invert")
