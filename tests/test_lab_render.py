"""Tests for genlab.lab.render and genlab.lab.controls: grid pictures and generated controls."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")

from PIL import Image  # noqa: E402

from genlab.lab.controls import control_options, make_control  # noqa: E402
from genlab.lab.render import GridRenderer, displayable_batch, labels_of  # noqa: E402
from genlab.params import Bool, Choice, Float, Floats, Int, Numbers, Range, Size, Text  # noqa: E402


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_grid_pastes_images_pixel_for_pixel_and_crops_unused_rows():
    renderer = GridRenderer(capacity=16, columns=4, cell_px=32)
    images = np.zeros((3, 32, 32, 3), np.uint8)
    images[1, :, :, 0] = 255  # a red square in the second cell
    picture = _decode(renderer.render(images, ["a", "b", "c"], "header"))
    assert picture.shape == (renderer.header_px + 32 + renderer.title_px, renderer.width, 3)
    top, left = renderer._cell_origin(1)
    np.testing.assert_array_equal(picture[top : top + 32, left : left + 32], images[1])
    title_band = picture[top - renderer.title_px : top, left : left + 32]
    assert (title_band < 128).any()  # matplotlib drew the title "b" above it


def test_grid_fits_other_sizes_and_floats_and_jpeg():
    renderer = GridRenderer(capacity=4, columns=2, cell_px=16, image_format="jpeg")
    floats = np.random.default_rng(0).normal(size=(4, 48, 32, 3)).astype(np.float32)
    data = renderer.render(floats, ["w", "x", "y", "z"])
    assert data[:2] == b"\xff\xd8"  # JPEG
    mosaic = renderer.mosaic(floats, ["w", "x", "y", "z"])
    top, left = renderer._cell_origin(0)
    assert (
        mosaic[top : top + 16, left + 11 : left + 16].min() == 255
    )  # 48x32 fits as 16x11, white beside
    with pytest.raises(ValueError, match="image_format"):
        GridRenderer(image_format="gif")


def test_labels_of_names_each_one_hot_row():
    assert labels_of(np.eye(3)[[2, 0]], ("cat", "dog", "emu")) == ["emu", "cat"]
    assert labels_of(np.eye(3)[[1]], ()) == ["1"]


@pytest.mark.parametrize(
    ("param", "value", "widget"),
    [
        (Float(0.5, low=0.0, high=1.0), 0.25, "FloatSlider"),
        (Float(1.0, low=1e-6, high=1e3, step=0.001), 0.5, "BoundedFloatText"),
        (Float(1.0), 2.5, "FloatText"),
        (Int(3, low=1, high=9), 4, "IntSlider"),
        (Int(3), 7, "IntText"),
        (Bool(True), False, "Checkbox"),
        (Choice("a", choices=("a", "b")), "b", "Dropdown"),
        (Size((8, 4)), (6, 2), "HBox"),
        (Floats((0.0, 0.0, 0.0)), (1.0, 2.0, 3.5), "Text"),
        (Text("x"), "y", "Text"),
        (Range((0.08, 1.0), low=0.0, high=1.0), (0.25, 0.5), "FloatRangeSlider"),
        (Range((-10.0, 10.0)), (-3.5, 20.0), "HBox"),  # unbounded: two number fields
        (Numbers(()), (1.0, 2.5, 4.0), "Text"),
        (Numbers((1.0,)), (), "Text"),
    ],
)
def test_each_declaration_gets_a_control_that_round_trips_its_value(param, value, widget):
    control = make_control("p", param, param.default)
    assert type(control.widget).__name__ == widget
    assert "genlab-param-p" in control.widget._dom_classes
    seen = []
    control.observe(lambda c: seen.append(c.value))
    control.value = value
    assert control.value == value
    assert seen and seen[-1] == value


def test_floats_field_passes_bad_text_on_for_validation():
    control = make_control("mean", Floats((0.0, 0.0, 0.0)), (0.0, 0.0, 0.0))
    control.widget.value = "1, two"
    assert control.value == "1, two"
    with pytest.raises(ValueError, match="mean"):
        Floats((0.0, 0.0, 0.0)).validate(control.value, stage="rescale_images", name="mean")
    assert control_options(Floats((0.0, 0.0, 0.0)))[0] == "Text"


def test_grid_takes_a_list_of_images_of_different_sizes_and_dtypes():
    renderer = GridRenderer(capacity=4, columns=2, cell_px=16)
    images = [np.full((16, 16, 3), 200, np.uint8), np.linspace(0, 1, 8 * 8 * 3).reshape(8, 8, 3)]
    mosaic = renderer.mosaic(images, ["big", "small float"])
    top, left = renderer._cell_origin(1)
    cell = mosaic[top : top + 16, left : left + 16]
    assert cell.min() == 0 and cell.max() == 255  # the float image, stretched and upscaled
    assert (mosaic[renderer._cell_origin(0)[0], :16] == 200).all()


def test_numbers_field_passes_bad_text_on_for_validation():
    control = make_control("weights", Numbers((), low=0.0), ())
    control.widget.value = "1, 3"
    assert control.value == (1.0, 3.0)
    control.widget.value = "1, x"
    assert control.value == "1, x"
    with pytest.raises(ValueError, match="one_of: parameter 'weights'"):
        Numbers((), low=0.0).validate(control.value, stage="one_of", name="weights")


def test_a_float_batch_is_shown_with_one_stretch_per_channel_for_all_images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, 8, 8, 3)).astype(np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # the batch spans 0..255 in every channel
    darker = images.copy()
    darker[1] = darker[1] // 2  # a darker image must stay darker
    normalised = (darker / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    shown = displayable_batch(normalised.astype(np.float32))
    assert shown.dtype == np.uint8
    assert np.abs(shown.astype(int) - darker).max() <= 1  # the same picture as the uint8 batch
    assert shown[1].mean() < shown[2].mean()
    assert displayable_batch(images) is images


def test_opencv_constants_are_named_choices_and_stay_integers():
    pytest.importorskip("albumentations")
    import genlab.foreign  # noqa: F401  (registers the foreign names)
    from genlab import registry

    params = registry.get("albumentations.Rotate").params
    border = make_control("border_mode", params["border_mode"], 4)
    assert border.widget.label == "BORDER_REFLECT_101" and border.value == 4
    border.widget.label = "BORDER_REFLECT"
    assert border.value == 2  # the spec keeps albumentations' integer
    interpolation = make_control("interpolation", params["interpolation"], 1)
    assert interpolation.widget.label == "INTER_LINEAR"
    method = make_control("rotate_method", params["rotate_method"], "largest_box")
    assert method.widget.options == ("largest_box", "ellipse")  # not a cv2 constant: as it is


def test_foreign_draws_that_did_not_apply_are_told_apart(digits_root):
    pytest.importorskip("albumentations")
    import albumentations as A

    import genlab
    from genlab.lab import LabModel
    from genlab.lab.tiles import describe_record, was_applied

    stages = genlab.from_albumentations(A.Compose([A.Rotate(limit=30, p=0.5)]))
    pipeline = genlab.Pipeline.from_folder(
        digits_root, batch_size=4, stages=[("read_images", {"target_size": (32, 32)}), *stages]
    )
    draws = LabModel(pipeline).op_draws(1, 16)
    applied = [was_applied(records) for records in draws.info.applied]
    assert True in applied and False in applied  # p = 0.5 over 16 draws
    skipped = draws.info.applied[applied.index(False)]
    assert describe_record(skipped[0]) == "albumentations.Rotate: not applied"
    done = describe_record(draws.info.applied[applied.index(True)][0])
    assert done.startswith("albumentations.Rotate: ") and "3×3 matrix" in done
