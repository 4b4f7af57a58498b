"""genlab.overlay: targets drawn where they are, each kind switchable, dropped boxes dashed."""

import numpy as np
import pytest

from genlab.overlay import PALETTE, draw_targets, dropped_ids, format_options
from genlab.sample_shapes import shape_targets, shapes_format
from genlab.targets import Targets

GREY = 100


def _image(h=60, w=80):
    return np.full((h, w, 3), GREY, np.uint8)


def _one(label=1, **parts):
    return Targets(boxes=[[10, 20, 50, 40]], labels=[label], **parts)


def _changed(a, b):
    return np.any(a != b, axis=-1)


def test_a_box_is_outlined_in_its_class_colour_and_nothing_else_changes():
    out = draw_targets(_image(), _one(), labels=False)
    changed = _changed(out, _image())
    assert out[20, 30].tolist() == PALETTE[1].tolist()  # top edge
    assert out[39, 30].tolist() == PALETTE[1].tolist()  # bottom edge: last pixel row inside
    assert (
        out[25, 10].tolist() == PALETTE[1].tolist() and out[25, 49].tolist() == PALETTE[1].tolist()
    )
    assert not changed[30, 30] and not changed[5, 5] and not changed[41, 30]
    assert not _changed(draw_targets(_image(), _one(), boxes=False), _image()).any()


def test_class_names_are_written_above_the_box():
    plain = draw_targets(_image(), _one(), labels=False)
    named = draw_targets(_image(), _one(), class_names=["a", "dog"])
    assert _changed(named[:20], plain[:20]).any() and not _changed(named[40:], plain[40:]).any()


def test_masks_shade_exactly_their_pixels():
    masks = np.zeros((1, 60, 80), np.uint8)
    masks[0, 25:35, 15:30] = 1
    out = draw_targets(_image(), _one(masks=masks), boxes=False)
    np.testing.assert_array_equal(_changed(out, _image()), masks[0].astype(bool))
    semantic = np.zeros((60, 80), np.uint8)
    semantic[:10, :10] = 2
    out = draw_targets(_image(), Targets(mask=semantic))
    np.testing.assert_array_equal(_changed(out, _image()), semantic > 0)
    assert not _changed(
        draw_targets(_image(), _one(masks=masks), masks=False, boxes=False), _image()
    ).any()


def test_keypoints_and_skeleton():
    points = np.array([[[20, 30, 2], [40, 30, 2], [60, 50, 0]]], np.float32)
    t = _one(keypoints=points)
    out = draw_targets(_image(), t, boxes=False, skeleton=[(0, 1), (1, 2)])
    assert out[30, 20].tolist() == [255, 255, 255] and out[30, 40].tolist() == [255, 255, 255]
    assert out[30, 30].tolist() == PALETTE[1].tolist()  # the bone between the visible points
    assert not _changed(out, _image())[50, 60]  # not labelled: not drawn, nor its bone
    assert not _changed(draw_targets(_image(), t, boxes=False, keypoints=False), _image()).any()


def test_dropped_boxes_are_dashed():
    solid = _changed(draw_targets(_image(), _one(), labels=False), _image())[20, 10:50]
    dashed = _changed(draw_targets(_image(), _one(), labels=False, dashed={0}), _image())[20, 10:50]
    assert solid.all() and 0.3 < dashed.mean() < 0.7
    before = Targets(boxes=[[0, 0, 5, 5]] * 3, labels=[0, 0, 0], ids=[4, 7, 9])
    assert dropped_ids(before, before.select([1])) == {4, 9}
    assert dropped_ids(before, None) == {4, 7, 9}


def test_a_smaller_display_scales_the_targets():
    truth = shape_targets(0, 0, 0, (96, 64))
    full = draw_targets(np.zeros((64, 96, 3), np.uint8), truth, labels=False, keypoints=False)
    half = draw_targets(
        np.zeros((32, 48, 3), np.uint8), truth, labels=False, keypoints=False, canvas_size=(64, 96)
    )
    assert half.shape == (32, 48, 3)
    assert np.abs(_changed(full, 0)[::2, ::2].mean() - _changed(half, 0).mean()) < 0.05


def test_grid_draws_the_targets():
    pytest.importorskip("matplotlib")
    from genlab.plotting import GridRenderer

    truth = shape_targets(0, 0, 0, (96, 64))
    images = np.full((2, 64, 96, 3), GREY, np.uint8)
    grid = GridRenderer(capacity=2, columns=2, cell_px=96)
    plain = grid.mosaic(images, ["a", "b"])
    drawn = grid.mosaic(images, ["a", "b"], targets=[truth, None], target_format=shapes_format())
    top, left = grid._cell_origin(0)
    assert _changed(plain, drawn)[top : top + 64, left : left + 96].any()
    top, left = grid._cell_origin(1)
    assert not _changed(plain, drawn)[top : top + 64, left : left + 96].any()
    hidden = grid.mosaic(images, ["a", "b"], targets=[truth, None], show={"boxes": False, "masks": False, "keypoints": False})  # fmt: skip
    np.testing.assert_array_equal(hidden, plain)
    assert format_options(shapes_format())["skeleton"][0] == (0, 1)
