"""The op model: ops as stages, per-sample streams by place, records and replay, groups, specs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import genlab
from genlab import Batch, BatchInfo, GeneratorPipeline, Pipeline
from genlab.transforms import get_op, op_names, replay


def image_batch(n=8, size=(24, 32), seed=0, epoch=0):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(n, *size, 3), dtype=np.uint8)
    info = BatchInfo(seed=seed, epoch=epoch, keys=np.arange(50, 50 + n))
    return Batch(x, np.eye(n, dtype=np.int64), info)


def run(batch, *steps):
    return next(GeneratorPipeline(iter([batch]), *steps))


def test_an_op_is_a_stage_factory_in_the_classic_form():
    batch = image_batch()
    out = run(batch, get_op("hflip")(p=1.0))
    np.testing.assert_array_equal(out.x, batch.x[:, :, ::-1])
    assert out.info.applied == (({"op": "hflip"},),) * 8


def test_bad_parameters_fail_at_the_call_naming_op_and_parameter():
    with pytest.raises(
        ValueError, match="random_resized_crop: parameter 'scale' must be an interval"
    ):
        get_op("random_resized_crop")(scale=(0.9, 0.1))
    with pytest.raises(ValueError, match="color_jitter: unknown parameter 'brightnes'"):
        get_op("color_jitter")(brightnes=0.2)


def test_an_op_refuses_float_images_and_says_where_it_belongs():
    batch = image_batch()
    with pytest.raises(genlab.StageError, match="hflip works on uint8 .*before rescale_images"):
        run(batch, genlab.rescale_images(), get_op("hflip")())


def test_records_of_a_chain_replay_every_sample_exactly():
    batch = image_batch()
    steps = [get_op("random_resized_crop")(size=(16, 12)), get_op("hflip")(),
             get_op("color_jitter")(hue=0.2), get_op("rotate90")(p=0.7)]  # fmt: skip
    out = run(batch, *steps)
    assert out.x.shape == (8, 12, 16, 3)
    for original, augmented, records in zip(batch.x, out.x, out.info.applied):
        assert records[0]["op"] == "random_resized_crop"
        np.testing.assert_array_equal(replay(original, records), augmented)


def draws_of(pipeline, name):
    """Per sample, the records that the stage(s) called ``name`` drew on the first batch."""
    batch = next(iter(pipeline))
    return [tuple(r for r in rec if r["op"] == name) for rec in batch.info.applied]


def op_pipeline(root, stages):
    return Pipeline.from_folder(root, batch_size=6, seed=4, stages=[
        ("read_images", {"target_size": (20, 20)}), *stages])  # fmt: skip


def test_a_draw_does_not_change_when_other_ops_are_switched_off_or_moved(digits_root):
    stages = ["hflip", ("color_jitter", {"hue": 0.1}), ("rotate90", {"p": 0.5})]
    full = op_pipeline(digits_root, stages)
    baseline = draws_of(full, "color_jitter")
    assert any(baseline)
    assert draws_of(op_pipeline(digits_root, stages).disable("hflip"), "color_jitter") == baseline
    assert (
        draws_of(op_pipeline(digits_root, stages).move("rotate90", 1), "color_jitter") == baseline
    )


def test_the_same_op_twice_draws_independently(digits_root):
    p = op_pipeline(digits_root, [("color_jitter", {"hue": 0.2}), ("color_jitter", {"hue": 0.2})])
    for records in draws_of(p, "color_jitter"):
        assert len(records) == 2 and records[0] != records[1]


def test_augment_seed_gives_new_draws_on_the_same_images(digits_root):
    p = op_pipeline(digits_root, [("color_jitter", {"hue": 0.2})])
    q = op_pipeline(digits_root, [("color_jitter", {"hue": 0.2})])
    q.augment_seed = 1
    a, b = next(iter(p)), next(iter(q))
    np.testing.assert_array_equal(a.info.keys, b.info.keys)
    assert a.info.applied != b.info.applied
    assert Pipeline.from_spec(json.loads(json.dumps(q.to_spec()))).augment_seed == 1
    assert "augment_seed=1" in repr(q)


def test_op_chains_give_the_same_bytes_with_0_and_2_workers(digits_root):
    stages = [("random_resized_crop", {"size": (16, 16)}), "hflip", ("color_jitter", {"hue": 0.1}),
              ("one_of", {"ops": ["vflip", ("rotate90", {"p": 1.0})]}), "rescale_images"]  # fmt: skip
    serial = [b.x for b in op_pipeline(digits_root, stages)]
    parallel = op_pipeline(digits_root, stages)
    parallel.num_workers = 2
    for a, b in zip(serial, [b.x for b in parallel], strict=True):
        np.testing.assert_array_equal(a, b)


def test_one_of_follows_its_weights_and_records_its_member():
    batch = image_batch(n=40)
    out = run(batch, get_op("one_of")(ops=["hflip", "vflip"], weights=[0.0, 1.0]))
    for original, augmented, records in zip(batch.x, out.x, out.info.applied):
        if records:
            assert records[0]["op"] == "one_of" and [m["op"] for m in records[0]["ops"]] == [
                "vflip"
            ]
        np.testing.assert_array_equal(replay(original, records), augmented)
    picked = [
        r[0]["ops"][0]["op"]
        for r in run(
            batch, get_op("one_of")(ops=[("hflip", {"p": 1}), ("vflip", {"p": 1})])
        ).info.applied
    ]
    assert 10 <= picked.count("hflip") <= 30  # equal weights: about half each of 40


def test_some_of_applies_n_distinct_members():
    batch = image_batch(n=10)
    members = [("hflip", {"p": 1.0}), ("vflip", {"p": 1.0}), ("color_jitter", {"hue": 0.1})]
    out = run(batch, get_op("some_of")(ops=members, n=2))
    for records in out.info.applied:
        names = [m["op"] for m in records[0]["ops"]]
        assert len(names) == len(set(names)) == 2


@pytest.mark.parametrize(
    "members, message",
    [
        (["os.system"], "member 0: unknown op 'os.system'"),
        (["read_images"], "member 0: unknown op 'read_images'"),
        ([{"name": "hflip", "params": {"p": 3}}], "member 0: hflip: parameter 'p' must be between"),
        ([{"name": "hflip", "code": "x"}], "member 0 must be a name"),
        ("hflip", "must be a list of ops"),
    ],
)
def test_a_group_validates_its_members_against_the_op_registry(members, message):
    with pytest.raises(ValueError, match=message):
        get_op("one_of")(ops=members)


def test_groups_of_resizing_ops_must_agree_on_the_size():
    batch = image_batch()
    ok = run(
        batch,
        get_op("one_of")(
            ops=[("center_crop", {"size": (8, 8)}), ("random_crop", {"size": (8, 8)})]
        ),
    )
    assert ok.x.shape[1:3] == (8, 8)
    with pytest.raises(genlab.StageError, match="members that resize must all give the same size"):
        run(batch, get_op("one_of")(ops=[("center_crop", {"size": (8, 8)}), "hflip"]))


def test_a_spec_with_nested_groups_round_trips_and_refuses_unknown_members(digits_root, tmp_path):
    stages = [("some_of", {"ops": ["hflip", ("one_of", {"ops": ["vflip", "rotate90"]})], "n": 1})]
    p = op_pipeline(digits_root, stages)
    q = genlab.load(p.save(tmp_path / "p.json"))
    assert q == p
    np.testing.assert_array_equal(next(iter(p)).x, next(iter(q)).x)
    spec = p.to_spec()
    spec["stages"][1]["params"]["ops"][1]["params"]["ops"][0] = {"name": "__import__", "params": {}}
    with pytest.raises(ValueError, match=r"stage 1 \('some_of'\).*unknown op '__import__'"):
        Pipeline.from_spec(spec)


def test_every_op_is_registered_as_a_stage_with_its_kind():
    for name in op_names():
        info = genlab.registry.get(name)
        assert info.streamed and info.kind == get_op(name).kind and info.help


@pytest.mark.parametrize("group", ["one_of", "some_of"])
def test_an_empty_group_leaves_the_images_as_they_are(group):
    batch = image_batch()
    out = run(batch, get_op(group)())
    np.testing.assert_array_equal(out.x, batch.x)
    assert out.info.applied == ((),) * 8
