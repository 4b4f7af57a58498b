"""albumentations and torchvision v2 transforms as genlab stages: in, tuned, run, saved, out."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import genlab
from genlab import Pipeline, StageConfig
from genlab.foreign import export_files, resolve, torchvision_snippet
from genlab.params import control_kind

A = pytest.importorskip("albumentations")
torch = pytest.importorskip("torch")
v2 = pytest.importorskip("torchvision.transforms.v2")

READ = ("read_images", {"target_size": (40, 32)})


def albumentations_compose():
    """Nine common transforms, as in a typical training script."""
    return A.Compose([
        A.RandomResizedCrop(size=(24, 24), scale=(0.5, 1.0)),
        A.HorizontalFlip(p=0.5),
        A.Rotate(limit=20, p=0.7),
        A.RandomBrightnessContrast(brightness_limit=0.3, p=0.8),
        A.HueSaturationValue(p=0.5),
        A.GaussNoise(p=0.3),
        A.CoarseDropout(p=0.4),
        A.OneOf([A.Blur(blur_limit=3), A.MotionBlur(blur_limit=3)], p=0.5),
        A.Normalize(),
    ])  # fmt: skip


def torchvision_compose():
    """Nine common v2 transforms, as in a typical training script."""
    return v2.Compose([
        v2.RandomResizedCrop(24, scale=(0.5, 1.0)),
        v2.RandomHorizontalFlip(),
        v2.ColorJitter(0.3, 0.3, 0.3, 0.05),
        v2.RandomRotation(15),
        v2.RandomGrayscale(0.2),
        v2.GaussianBlur(3),
        v2.RandomErasing(p=0.3),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])  # fmt: skip


def pipeline_of(root, stages, **kwargs):
    return Pipeline.from_folder(root, batch_size=8, seed=5, stages=[READ, *stages], **kwargs)


def first_batch(pipeline):
    return next(iter(pipeline))


# -- into genlab and back out -----------------------------------------------------------------


def test_albumentations_compose_round_trips_with_a_tuned_value(digits_root):
    stages = genlab.from_albumentations(albumentations_compose())
    assert [s.name for s in stages][:3] == [
        "albumentations.RandomResizedCrop", "albumentations.HorizontalFlip", "albumentations.Rotate",
    ]  # fmt: skip
    assert len(stages) == 9 and stages[2].params["limit"] == (-20.0, 20.0)
    p = pipeline_of(digits_root, stages)
    p.set_params("albumentations.Rotate", limit=(-7, 12), p=0.25)
    with pytest.warns(UserWarning, match=r"\['read_images'\] are not albumentations"):
        back = genlab.to_albumentations(p)
    rotate = back.transforms[2]
    assert isinstance(rotate, A.Rotate) and rotate.limit == (-7.0, 12.0) and rotate.p == 0.25
    rebuilt = A.from_dict(A.to_dict(back))
    assert rebuilt.transforms[2].limit == (-7.0, 12.0)
    assert [type(t).__name__ for t in rebuilt.transforms] == [
        type(t).__name__ for t in back.transforms
    ]
    assert [type(t).__name__ for t in rebuilt.transforms[7].transforms] == ["Blur", "MotionBlur"]


def test_torchvision_compose_round_trips_with_a_tuned_value(digits_root):
    stages = genlab.from_torchvision(torchvision_compose())
    assert len(stages) == 9 and stages[3].params["degrees"] == (-15.0, 15.0)
    p = pipeline_of(digits_root, stages)
    p.set_params("torchvision.RandomRotation", degrees=(-3, 4))
    p.set_params("torchvision.ColorJitter", brightness=(0.5, 1.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = genlab.to_torchvision(p)
    assert list(back.transforms[3].degrees) == [-3.0, 4.0]
    assert back.transforms[2].brightness == (0.5, 1.5)
    assert back.transforms[7].dtype == torch.float32
    namespace: dict = {}
    exec(torchvision_snippet(p), namespace)  # the snippet builds the same transforms
    built = namespace["transform"]
    assert [type(t).__name__ for t in built.transforms] == [
        type(t).__name__ for t in back.transforms
    ]
    assert list(built.transforms[3].degrees) == [-3.0, 4.0]
    image = torch.randint(0, 256, (3, 40, 32), dtype=torch.uint8)
    torch.manual_seed(0)
    a = built(image)
    torch.manual_seed(0)
    assert torch.equal(a, back(image))


def test_compositions_become_one_stage_holding_their_transforms(digits_root):
    (one_of,) = genlab.from_albumentations(A.OneOf([A.Blur(), A.ToGray()], p=0.9))
    assert one_of.name == "albumentations.OneOf" and one_of.params["p"] == 0.9
    assert [c["name"] for c in one_of.params["transforms"]] == [
        "albumentations.Blur",
        "albumentations.ToGray",
    ]
    (apply,) = genlab.from_torchvision(v2.RandomApply([v2.RandomInvert(p=1.0)], p=0.4))
    assert apply.params["transforms"][0] == {
        "name": "torchvision.RandomInvert",
        "params": {"p": 1.0},
    }
    p = pipeline_of(digits_root, [one_of, apply])
    assert first_batch(p).x.shape == (8, 32, 40, 3)  # target_size is (width, height)


# -- determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [albumentations_compose, torchvision_compose], ids=["albu", "tv"])
def test_same_seed_same_bytes_twice_and_with_two_workers(make, digits_root):
    convert = (
        genlab.from_albumentations if make is albumentations_compose else genlab.from_torchvision
    )
    p = pipeline_of(digits_root, convert(make()))
    first = [b.x for b in p]
    again = [b.x for b in p.copy()]
    threads = [
        b.x for b in pipeline_of(digits_root, convert(make()), num_workers=2, worker_kind="thread")
    ]
    processes = [
        b.x for b in pipeline_of(digits_root, convert(make()), num_workers=2, worker_kind="process")
    ]
    assert len(first) == 8 and first[0].shape == (8, 24, 24, 3) and first[0].dtype == np.float32
    for a, b, c, d in zip(first, again, threads, processes, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)
    other = pipeline_of(digits_root, convert(make()))
    other.seed = 6
    assert not np.array_equal(first_batch(other).x, first[0])


def test_draws_are_per_sample_and_leave_the_callers_random_state(digits_root):
    state = torch.random.get_rng_state()
    p = pipeline_of(digits_root, genlab.from_torchvision(v2.RandomRotation(40)))
    x = first_batch(p).x
    assert torch.equal(state, torch.random.get_rng_state())
    alone = [
        first_batch(pipeline_of(digits_root, [("torchvision.RandomRotation", {"degrees": 40})]))
    ]
    assert np.array_equal(alone[0].x, x)
    # one sample gets the same draw whichever batch it lands in: the sample keys seed it
    big = Pipeline.from_folder(digits_root, batch_size=16, seed=5, shuffle=True, stages=[
        READ, ("torchvision.RandomRotation", {"degrees": 40})])  # fmt: skip
    small = big.copy()
    small.source["batch_size"] = 4
    by_key = {}
    for pipeline in (big, small):
        for b in pipeline:
            for k, img in zip(b.info.keys, b.x):
                by_key.setdefault(int(k), []).append(img)
    assert all(np.array_equal(v[0], v[1]) for v in by_key.values())


def test_two_stages_of_the_same_class_draw_differently(digits_root):
    stage = ("albumentations.Rotate", {"limit": 45, "p": 1.0})
    b = first_batch(pipeline_of(digits_root, [stage, stage]))
    angles = [[r["params"]["matrix"] for r in applied] for applied in b.info.applied]
    assert all(m[0] != m[1] for m in angles)


def test_records_say_what_was_applied(digits_root):
    b = first_batch(pipeline_of(digits_root, [
        ("albumentations.HorizontalFlip", {"p": 0.5}), ("torchvision.RandomInvert", {"p": 0.5})]))  # fmt: skip
    flips = [applied[0] for applied in b.info.applied]
    assert {r["op"] for r in flips} == {"albumentations.HorizontalFlip"}
    assert {r["applied"] for r in flips} == {True, False}  # 8 samples at p=0.5, seed 5
    assert all(
        applied[1] == {"op": "torchvision.RandomInvert", "params": "not recorded"}
        for applied in b.info.applied
    )
    json.dumps([list(a) for a in b.info.applied])


def test_input_batch_is_not_modified(digits_root):
    p = pipeline_of(digits_root, genlab.from_albumentations(albumentations_compose()))
    source = p.source_batch(0)
    read = p.copy()
    read.stages = read.stages[:1]
    before = read.run_stages(source)
    kept = before.x.copy()
    with genlab.GeneratorPipeline(iter([before]), *p.build_stages()[1:]) as run:
        next(run)
    assert np.array_equal(before.x, kept)


# -- specs --------------------------------------------------------------------------------------


def test_spec_round_trip_rebuilds_the_same_batches(digits_root, tmp_path):
    p = pipeline_of(digits_root, [
        *genlab.from_albumentations(albumentations_compose()), ])  # fmt: skip
    p.set_params("albumentations.RandomBrightnessContrast", brightness_limit=(-0.1, 0.4))
    spec = json.loads(json.dumps(p.to_spec()))
    assert spec["stages"][4]["name"] == "albumentations.RandomBrightnessContrast"
    assert spec["stages"][4]["params"]["brightness_limit"] == [-0.1, 0.4]
    q = genlab.load(p.save(tmp_path / "p.json"))
    assert q == p
    assert np.array_equal(first_batch(q).x, first_batch(p).x)
    tv = pipeline_of(digits_root, genlab.from_torchvision(torchvision_compose()))
    assert Pipeline.from_spec(json.loads(json.dumps(tv.to_spec()))) == tv


@pytest.mark.parametrize(
    "name, message",
    [
        ("albumentations.os", "not a public transform class of albumentations"),
        ("torchvision.__import__", "not a public transform class of torchvision"),
        ("albumentations.NoSuchTransform", "not a public transform class"),
        ("albumentations.core.serialization.from_dict", "not a public transform class"),
        ("albumentations.Compose", "whole pipeline"),
        ("albumentations.Lambda", "Python functions"),
        # transforms of masks, boxes and keypoints are accepted: they run on batches with
        # targets and refuse batches without (tests/test_targets_foreign.py)
        ("torchvision.CutMix", "mixes samples"),
        ("numpy.random", "unknown stage 'numpy.random'"),
    ],
)
def test_a_spec_naming_anything_else_is_refused_before_anything_runs(name, message, digits_root):
    spec = pipeline_of(digits_root, []).to_spec()
    spec["stages"].append({"name": name, "params": {}})
    with pytest.raises(ValueError, match=message):
        Pipeline.from_spec(spec)


def test_a_composition_in_a_spec_holds_only_that_librarys_classes(digits_root):
    spec = pipeline_of(digits_root, []).to_spec()
    evil = {"name": "albumentations.os", "params": {}}
    spec["stages"].append({"name": "albumentations.OneOf", "params": {"transforms": [evil]}})
    with pytest.raises(ValueError, match="not a public transform class"):
        Pipeline.from_spec(spec)
    spec["stages"][-1]["params"]["transforms"] = [{"name": "torchvision.RandomInvert"}]
    with pytest.raises(ValueError, match="can only hold albumentations transforms"):
        Pipeline.from_spec(spec)


def test_bad_values_are_refused_naming_the_stage_and_parameter(digits_root):
    p = pipeline_of(digits_root, genlab.from_albumentations(A.Rotate()))
    with pytest.raises(ValueError, match=r"albumentations.Rotate: parameter 'p' must be between"):
        p.set_params("albumentations.Rotate", p=2.0)
    with pytest.raises(ValueError, match=r"albumentations.Rotate: .*interpolation"):
        p.set_params("albumentations.Rotate", interpolation=9)
    with pytest.raises(
        ValueError, match=r"torchvision.RandomResizedCrop: parameter 'size' is required"
    ):
        StageConfig("torchvision.RandomResizedCrop")
    with pytest.raises(ValueError, match=r"albumentations.Rotate: unknown parameter 'angle'"):
        StageConfig("albumentations.Rotate", {"angle": 3})


def test_varying_output_size_is_an_error_naming_the_stage(digits_root):
    p = pipeline_of(digits_root, [("torchvision.RandomRotation", {"degrees": 30, "expand": True})])
    with pytest.raises(
        genlab.StageError,
        match=r"torchvision.RandomRotation gave images of different sizes.*fixed-size",
    ):
        first_batch(p)


# -- declarations and controls ----------------------------------------------------------------


@pytest.mark.parametrize("make", [albumentations_compose, torchvision_compose], ids=["albu", "tv"])
def test_every_parameter_has_a_control_editable_when_its_type_is(make):
    convert = (
        genlab.from_albumentations if make is albumentations_compose else genlab.from_torchvision
    )
    kinds = {}
    for config in convert(make()):
        for name, param in resolve(config.name).params.items():
            kinds[f"{config.name}.{name}"] = control_kind(param)
            value = config.params[name]
            if control_kind(param) == "readonly":
                assert param.kind == "fixed"
            else:
                assert param.validate(value) == value  # the control can show the value it holds
    assert all(k != "readonly" for n, k in kinds.items() if n.endswith(".p"))
    editable = [k for k in kinds.values() if k != "readonly"]
    assert len(editable) >= 20 and {"slider", "checkbox", "dropdown", "numbers"} <= set(editable)


def test_lab_controls_edit_foreign_parameters_and_show_the_others_read_only():
    pytest.importorskip("ipywidgets")
    from genlab.lab.controls import make_control

    info = resolve("torchvision.RandomRotation")
    degrees = make_control("degrees", info.params["degrees"], (-15.0, 15.0))
    assert degrees.widget.value == "-15, 15" and degrees.value == (-15.0, 15.0)
    center = make_control("center", info.params["center"], (4.0, 5.0))
    assert center.widget.disabled and center.value == (4.0, 5.0)
    holder = resolve("albumentations.OneOf")
    children = ({"name": "albumentations.Blur", "params": {"p": 0.5}},)
    transforms = make_control("transforms", holder.params["transforms"], children)
    assert transforms.widget.disabled and "albumentations.Blur" in transforms.widget.value
    assert transforms.value == children


# -- export files, the lab model, the optional import ----------------------------------------


def test_export_writes_the_libraries_own_forms(digits_root, tmp_path):
    p = pipeline_of(
        digits_root,
        [
            *genlab.from_albumentations(A.Rotate(limit=11)),
            *genlab.from_torchvision(v2.RandomInvert()),
        ],
    )
    paths = export_files(p, tmp_path / "tuned")
    assert [x.name for x in paths] == [
        "tuned.albumentations.json",
        "tuned.albumentations.yaml",
        "tuned.torchvision.py",
    ]
    for path in paths[:2]:
        loaded = A.load(str(path), data_format=path.suffix[1:])
        assert loaded.transforms[0].limit == (-11.0, 11.0)
    assert "v2.RandomInvert()" in paths[2].read_text()


def test_lab_model_export_includes_library_files(digits_root, tmp_path):
    pytest.importorskip("ipywidgets")
    from genlab.lab.lab_model import LabModel

    model = LabModel(
        pipeline_of(digits_root, genlab.from_albumentations(A.Rotate(limit=11, p=1.0)))
    )
    before = model.last.batch.x.copy()
    model.set_params(1, limit=(30, 31))
    assert not np.array_equal(model.last.batch.x, before)
    result = model.export(tmp_path / "out" / "lab")
    trained = next(iter(genlab.load(result.spec_path).iter_epoch(result.epoch)))
    assert np.array_equal(trained.x, model.last.batch.x)  # the preview is what training gets
    assert [p.name for p in result.library_paths] == [
        "lab.albumentations.json",
        "lab.albumentations.yaml",
    ]
    assert A.load(str(result.library_paths[0])).transforms[0].limit == (30.0, 31.0)


def test_core_import_does_not_import_the_libraries_and_a_missing_one_names_the_extra():
    code = (
        "import sys, genlab\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('albumentations', 'torch', 'torchvision', 'cv2')]\n"
        "sys.modules['albumentations'] = None\n"
        "try:\n"
        "    genlab.StageConfig('albumentations.HorizontalFlip')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install genlab[albumentations]" in out.stdout


def test_standalone_python_export_rebuilds_foreign_stages(digits_root, tmp_path):
    p = pipeline_of(digits_root, genlab.from_albumentations(A.Rotate(limit=9, p=0.6)))
    path = tmp_path / "exported.py"
    p.to_python(path)
    code = f"import runpy; q = runpy.run_path({str(path)!r})['pipeline']; print(q.stages[1])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "StageConfig('albumentations.Rotate', {'limit': (-9.0, 9.0), 'p': 0.6})" in out.stdout


def test_numbers_and_fixed_declarations_check_their_values():
    from genlab.params import Fixed, Numbers

    assert Numbers(None, integer=True).validate((3, 4.0)) == (3, 4)
    with pytest.raises(ValueError, match=r"size: parameter 'size' must be a whole number, got 3.5"):
        Numbers(None, integer=True).validate((3, 3.5), stage="size", name="size")
    with pytest.raises(
        ValueError, match=r"parameter 'limit' must be a number or a list of numbers, got 'a'"
    ):
        Numbers().validate("a", name="limit")
    with pytest.raises(ValueError, match=r"parameter 'fill' must be plain data"):
        Fixed().validate([object()], name="fill")
    assert Fixed().validate({"a": [1, [2]]}) == {"a": (1, (2,))}


def test_libraries_and_genlab_stages_mix_in_one_chain(digits_root):
    from genlab.seeding import sample_seeds

    rotate = ("torchvision.RandomRotation", {"degrees": 20})
    p = pipeline_of(digits_root, [rotate])
    source = p.source_batch(0)
    read = p.copy()
    read.stages = read.stages[:1]
    images = read.run_stages(source)
    rotated = p.run_stages(source)
    # each image is exactly what torchvision gives for its per-sample seed, in H x W x C order
    # the stream of the chain's first RandomRotation, named as every op's (name + occurrence)
    seeds = sample_seeds(
        images.info, genlab.transforms.stream_name("torchvision.RandomRotation", 0)
    )
    transform = v2.RandomRotation(20)
    for img, seed, out in zip(images.x, seeds.tolist(), rotated.x):
        torch.default_generator.manual_seed(seed)
        expected = transform(torch.from_numpy(img).permute(2, 0, 1)).permute(1, 2, 0).numpy()
        assert np.array_equal(out, expected)
    chain = [
        rotate,
        ("albumentations.HorizontalFlip", {"p": 0.5}),
        ("rescale_images", {"scale": 1 / 255}),
    ]
    a = first_batch(pipeline_of(digits_root, chain))
    b = first_batch(pipeline_of(digits_root, chain, num_workers=2))
    assert a.x.shape == (8, 32, 40, 3) and a.x.dtype == np.float32 and np.array_equal(a.x, b.x)
    assert [r["op"] for r in a.info.applied[0]] == [
        "torchvision.RandomRotation",
        "albumentations.HorizontalFlip",
    ]


@pytest.mark.parametrize("library", ["albumentations", "torchvision"])
def test_validated_values_are_kept_when_validated_again(library):
    # a saved spec is validated on every load: its values must not drift from load to load
    pytest.importorskip(library)
    from genlab.foreign import LIBRARIES

    checked = 0
    for name in sorted(LIBRARIES[library].transform_classes()):
        try:
            info = resolve(f"{library}.{name}")
            once = info.validate({})
        except ValueError:
            continue  # refused (masks, boxes, ...) or needs arguments the library requires
        assert info.validate(once) == once, name
        info.build(once)  # and what is kept builds the transform
        checked += 1
    assert checked >= 20  # torchvision: 24 build from defaults alone, albumentations: over 100


def test_shift_scale_rotate_keeps_its_scale_limit_across_reloads():
    pytest.importorskip("albumentations")
    info = resolve("albumentations.ShiftScaleRotate")
    values = info.validate({})
    for _ in range(3):
        values = info.validate(values)
    assert values["scale_limit"] == (-0.1, 0.1)
    assert tuple(info.build(values).scale_limit) == pytest.approx((0.9, 1.1))  # scale 0.9 to 1.1


def test_an_enum_parameter_builds_from_its_plain_value():
    v2 = pytest.importorskip("torchvision.transforms.v2")
    info = resolve("torchvision.AutoAugment")
    assert info.build(info.validate({})).policy == v2.AutoAugmentPolicy.IMAGENET
    assert info.build(info.validate({"policy": "cifar10"})).policy == v2.AutoAugmentPolicy.CIFAR10


def test_foreign_stages_draw_anew_with_the_pipelines_augment_seed(digits_root):
    # the lab's "new draw" raises augment_seed: new draws for foreign stages too, same images
    stages = [("albumentations.Rotate", {"limit": (-40, 40), "p": 1.0})]
    a = first_batch(pipeline_of(digits_root, stages))
    b = first_batch(pipeline_of(digits_root, stages, augment_seed=1))
    np.testing.assert_array_equal(a.info.keys, b.info.keys)
    assert not np.array_equal(a.x, b.x)
    assert genlab.registry.get("albumentations.Rotate").streamed
