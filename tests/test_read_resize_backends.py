"""read_images(resize_backend=...): Pillow's bytes by default, OpenCV when asked, recorded in specs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import genlab
from genlab import Pipeline
from genlab.ops import pixels
from genlab.ops.decode import decode_image
from genlab.ops.resize_geometry import resize_mapping
from genlab.stages.fused import FUSED_NAME
from genlab.stages.protocol import stage_name

pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos") / "photos"
    return genlab.make_sample_data(root, kind="photos", n_per_class=4, size=(500, 375))


def _jpegs(root):
    return sorted(root.glob("*/*.jpg"))


@pytest.mark.parametrize("resize", ["stretch", "center_crop", "pad"])
def test_opencv_resizes_the_scaled_decode_close_to_pillow(photos, resize):
    for path in _jpegs(photos):
        data = path.read_bytes()
        pillow = decode_image(data, (224, 160), resize=resize, decoder="turbo")
        opencv = decode_image(data, (224, 160), resize=resize, decoder="turbo",
                              resize_backend="opencv")  # fmt: skip
        assert opencv.shape == pillow.shape == (160, 224, 3) and not opencv.flags.writeable
        assert np.abs(opencv.astype(int) - pillow).mean() < 2.5
        assert decode_image(data, (224, 160), resize=resize, decoder="turbo").tobytes() == (
            pillow.tobytes()
        )  # the default does not move


@pytest.mark.parametrize("resize", ["stretch", "center_crop", "pad"])
def test_opencv_puts_the_pixels_where_resize_mapping_says(resize):
    arr = np.zeros((150, 400, 3), np.uint8)
    arr[60:80, 190:210] = 255
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    out = decode_image(buf.getvalue(), (96, 64), resize=resize, resize_backend="opencv")
    m = resize_mapping((150, 400), (64, 96), resize)
    weight = out[..., 0].astype(float)
    ys, xs = np.mgrid[0:64, 0:96]
    got = ((weight * (ys + 0.5)).sum() / weight.sum(), (weight * (xs + 0.5)).sum() / weight.sum())
    want = (70 * m.scale_y + m.offset_y, 200 * m.scale_x + m.offset_x)
    assert abs(got[0] - want[0]) < 0.3 and abs(got[1] - want[1]) < 0.3


def test_bad_backends_and_filters_are_named(monkeypatch):
    data = io.BytesIO()
    Image.new("RGB", (20, 10)).save(data, "PNG")
    with pytest.raises(ValueError, match="resize_backend must be one of"):
        decode_image(data.getvalue(), (8, 8), resize_backend="vips")
    with pytest.raises(ValueError, match="resize_backend='opencv' resamples with one of"):
        decode_image(data.getvalue(), (8, 8), resample="hamming", resize_backend="opencv")
    monkeypatch.setattr(pixels.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="resize_backend='opencv' needs OpenCV"):
        decode_image(data.getvalue(), (8, 8), resize_backend="opencv")


def test_the_setting_is_recorded_in_specs_and_turns_the_fused_crop_off(photos):
    stages = [("read_images", {"target_size": (64, 48), "resize_backend": "opencv"}),
              ("random_resized_crop", {"size": (32, 32)})]  # fmt: skip
    p = Pipeline.from_folder(photos, batch_size=4, seed=2, stages=stages)
    spec = p.to_spec()
    assert spec["stages"][0]["params"]["resize_backend"] == "opencv"
    again = Pipeline.from_spec(spec)
    assert [b.x.tobytes() for b in again] == [b.x.tobytes() for b in p]
    assert FUSED_NAME not in [stage_name(s) for s in p.build_stages()]
    default = Pipeline.from_folder(photos, batch_size=4, seed=2)
    assert default.stages[0].params["resize_backend"] == "pillow"
