"""read_images + random_resized_crop run fused: the same draws, records, skips; pixels within tolerance."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import genlab
from genlab import Batch, GeneratorPipeline, Pipeline, StageError
from genlab.ops.decode import crop_in_source, decode_crop
from genlab.stages.fused import FUSED_NAME, read_and_crop
from genlab.stages.protocol import stage_name
from genlab.transforms import get_op, replay


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Class folders of photographic JPEGs: 500x375, two turned by EXIF (orientation 6 and 8),
    a PNG (not for the fast path) and a broken file."""
    root = genlab.make_sample_data(
        tmp_path_factory.mktemp("fused") / "photos", kind="photos", n_per_class=4
    )
    first, second = sorted(root.glob("china/*.jpg"))[:2]
    for orientation, src in ((6, first), (8, second)):
        exif = Image.Exif()
        exif[0x0112] = orientation
        buf = io.BytesIO()
        Image.open(src).transpose(Image.Transpose.ROTATE_90).save(
            buf, "JPEG", quality=90, exif=exif.tobytes()
        )
        (root / "china" / f"turned-{orientation}.jpg").write_bytes(buf.getvalue())
    Image.open(first).save(root / "flower" / "lossless.png")
    (root / "flower" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 no image")
    return root


def chain(read: dict | None = None, crop: dict | None = None, *between) -> list:
    return [("read_images", {"target_size": (256, 256), **(read or {})}), *between,
            ("random_resized_crop", {"size": (224, 224), **(crop or {})})]  # fmt: skip


def both(pipeline: Pipeline, batch_index: int = 0) -> tuple[Batch, Batch]:
    """The batch fused and unfused."""
    source = pipeline.source_batch(batch_index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.run_stages(source), pipeline.run_stages(source, fuse=False)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def step_names(pipeline: Pipeline) -> list[str]:
    return [stage_name(s) for s in pipeline.build_stages()]


# ----------------------------------------------------------------------------- when


def test_read_images_then_random_resized_crop_build_one_stage(photos):
    p = Pipeline.from_folder(photos, stages=[*chain(), "hflip"])
    assert step_names(p) == [FUSED_NAME, "hflip"]
    assert [stage_name(s) for s in p.build_stages(fuse=False)] == [
        "read_images",
        "random_resized_crop",
        "hflip",
    ]
    with pytest.warns(UserWarning, match="broken"):
        assert [row.name for row in p.trace()] == ["dataset", FUSED_NAME, "hflip"]


@pytest.mark.parametrize(
    "read, between",
    [({"fuse_crop": False}, ()), ({"decoder": "pillow"}, ()), ({"resize": "pad"}, ()),
     ({"draft": False}, ()), ({}, ("hflip",))],
)  # fmt: skip
def test_no_fusion_when_switched_off_or_not_adjacent(photos, read, between):
    p = Pipeline.from_folder(photos, stages=chain(read, None, *between))
    assert FUSED_NAME not in step_names(p)
    assert "read_images" in step_names(p) and "random_resized_crop" in step_names(p)


def test_a_disabled_stage_between_does_not_prevent_fusion(photos):
    p = Pipeline.from_folder(photos, stages=chain(None, None, "hflip")).disable("hflip")
    assert step_names(p) == [FUSED_NAME]
    p.disable("random_resized_crop")
    assert step_names(p) == ["read_images"]


# ----------------------------------------------------------------------------- what


@pytest.mark.parametrize("resize", ["stretch", "center_crop"])
def test_fused_batches_match_the_two_stages(photos, resize):
    p = Pipeline.from_folder(photos, batch_size=32, seed=4, stages=chain({"resize": resize}))
    fused, apart = both(p)
    assert fused.x.shape == apart.x.shape == (apart.size, 224, 224, 3) and fused.x.dtype == np.uint8
    assert np.array_equal(fused.y, apart.y) and np.array_equal(fused.info.keys, apart.info.keys)
    assert fused.info.paths == apart.info.paths
    assert fused.info.applied == apart.info.applied
    assert [r[0]["op"] for r in fused.info.applied] == ["random_resized_crop"] * fused.size
    assert len(fused.info.skipped) == 1 and fused.info.skipped == apart.info.skipped
    # pixels: one resize of the box vs two resizes, sometimes from a smaller DCT scale
    assert mean_abs_diff(fused.x, apart.x) < 3.0
    per_image = [mean_abs_diff(a, b) for a, b in zip(fused.x, apart.x)]
    assert max(per_image) < 10.0  # measured on 200 photos: worst 7.5
    png = [i for i, path in enumerate(fused.info.paths) if path.endswith(".png")]
    assert png and all(
        np.array_equal(fused.x[i], apart.x[i]) for i in png
    )  # the two stages' own code


def test_turned_photos_are_cropped_upright(photos):
    p = Pipeline.from_folder(photos, batch_size=32, seed=1, stages=chain())
    fused, apart = both(p)
    turned = [i for i, path in enumerate(fused.info.paths) if "turned" in path]
    assert len(turned) == 2
    for i in turned:  # a box in the wrong frame would be a different part of the photo
        assert mean_abs_diff(fused.x[i], apart.x[i]) < 8.0


def test_byte_identical_where_no_dct_scaling_happens(photos):
    # read at the photos' own size and crop to it: every box is decoded at 8/8, both ways
    p = Pipeline.from_folder(photos, batch_size=32, seed=2, stages=chain(
        {"target_size": (500, 375)}, {"size": (500, 375), "resample": "bicubic"}))  # fmt: skip
    fused, apart = both(p)
    photos_500 = [i for i, path in enumerate(fused.info.paths) if "turned" not in path]
    assert len(photos_500) > 4
    assert np.array_equal(fused.x[photos_500], apart.x[photos_500])


def test_same_batches_with_thread_workers(photos):
    def run(workers):
        p = Pipeline.from_folder(photos, batch_size=5, seed=7, stages=chain(), num_workers=workers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [(b.x.copy(), b.info.applied) for b in p]

    serial, threaded = run(0), run(2)
    assert len(serial) == len(threaded)
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(serial, threaded))


def test_an_unreadable_file_raises_naming_it_with_on_error_raise(photos):
    p = Pipeline.from_folder(photos, batch_size=64, stages=chain({"on_error": "raise"}))
    with pytest.raises(StageError, match=r"read_images\+random_resized_crop.*broken\.jpg"):
        p.run_stages(p.source_batch(0))


def test_a_keyless_batch_draws_by_position_after_a_skip(photos):
    paths = [str(p) for p in sorted(photos.glob("*/*"))]
    paths.insert(1, paths.pop(next(i for i, p in enumerate(paths) if p.endswith("broken.jpg"))))
    batch = Batch(paths, np.eye(len(paths)))  # no keys: draws go by position in the batch
    read = {"target_size": (256, 256)}
    crop = {"size": (224, 224)}
    with pytest.warns(UserWarning, match=r"read_images skipped .*broken\.jpg"):
        fused = next(GeneratorPipeline(iter([batch]), read_and_crop(read, crop)))
    with pytest.warns(UserWarning, match="broken"):
        apart = next(
            GeneratorPipeline(
                iter([batch]), genlab.read_images(**read), get_op("random_resized_crop")(**crop)
            )
        )
    assert fused.info.applied == apart.info.applied and np.array_equal(fused.y, apart.y)
    assert mean_abs_diff(fused.x, apart.x) < 3.0


# ----------------------------------------------------------------------------- the pure parts


def test_decode_crop_never_decodes_finer_than_its_limit(photos, monkeypatch):
    import genlab.ops.jpeg as jpeg

    asked = []
    real = jpeg.decode_turbo
    monkeypatch.setattr(
        jpeg,
        "decode_turbo",
        lambda data, header, need: asked.append(need) or real(data, header, need),
    )
    data = next(photos.glob("china/*.jpg")).read_bytes()
    small_box = (10.5, 20.25, 60.0, 80.0)  # needs more than the whole 500x375 photo for 224x224
    decode_crop(data, small_box, (224, 224))
    decode_crop(data, small_box, (224, 224), limit=(256, 256))
    assert asked[0][0] > 500 and asked[1] == (256, 256)


def test_decode_crop_and_crop_in_source_refuse_bad_arguments():
    data = io.BytesIO()
    Image.new("RGB", (40, 30)).save(data, "JPEG")
    with pytest.raises(ValueError, match=r"limit must be .* got \(0, 10\)"):
        decode_crop(data.getvalue(), (0, 0, 10, 10), (8, 8), limit=(0, 10))
    with pytest.raises(ValueError, match=r"box must be .* got \(0, 0, nan, 10\)"):
        decode_crop(data.getvalue(), (0, 0, float("nan"), 10), (8, 8))
    with pytest.raises(ValueError, match="resize must be 'stretch' or 'center_crop'.*'pad'"):
        crop_in_source((0, 0, 10, 10), (40, 30), (20, 20), "pad")
    with pytest.raises(ValueError, match="read_images: parameter 'decoder' must be one of"):
        read_and_crop({"decoder": "fast"}, {})


def test_crop_in_source_maps_the_corners_of_the_read_image():
    box, limit = crop_in_source((0, 0, 256, 256), (500, 375), (256, 256), "stretch")
    assert box == (0.0, 0.0, 375.0, 500.0) and limit == (256, 256)
    box, _ = crop_in_source((128, 0, 128, 256), (500, 375), (256, 256), "center_crop")
    # the centre 375x375 square, its lower half
    assert np.allclose(box, (187.5, 62.5, 187.5, 375.0))


def test_the_lab_previews_the_two_stages_with_the_draws_training_uses(photos):
    from genlab.lab.lab_model import LabModel

    p = Pipeline.from_folder(photos, batch_size=32, seed=6, stages=chain())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        preview = LabModel(p).last
        trained = p.run_stages(p.source_batch(0))
    assert [row.name for row in preview.rows] == ["dataset", "read_images", "random_resized_crop"]
    assert preview.batch.info.applied == trained.info.applied
    assert mean_abs_diff(preview.batch.x, trained.x) < 3.0


def test_replay_of_fused_records_gives_the_two_stages_apart_as_the_readme_says(photos):
    # 0.2's README promised exact replay of every record; for a fused crop it holds against the
    # two stages run apart, not against the fused pixels
    p = Pipeline.from_folder(photos, batch_size=32, seed=4, stages=chain())
    source = p.source_batch(0)
    fused, apart = both(p)
    images = genlab.Pipeline.from_folder(photos, batch_size=32, seed=4, stages=chain()[:1])
    decoded = images.run_stages(source)
    assert decoded.info.keys.tolist() == fused.info.keys.tolist()
    replayed = np.stack([replay(img, r) for img, r in zip(decoded.x, fused.info.applied)])
    np.testing.assert_array_equal(replayed, apart.x)
    assert not np.array_equal(replayed, fused.x)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    text = " ".join(readme.split("**Replaying a fused crop.**")[1].split("\n\n")[0].split())
    assert (
        "replays the two stages run apart" in text
        and "does not give the fused batch's pixels" in text
    )
