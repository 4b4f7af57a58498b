"""Tests for genlab.ops.resize_geometry: resize_mapping agrees with the pixels decode_image makes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from genlab.ops.decode import decode_image
from genlab.ops.resize_geometry import resize_mapping


def _png_with_square(height: int, width: int, top: int, left: int, side: int) -> bytes:
    arr = np.zeros((height, width, 3), dtype=np.uint8)
    arr[top : top + side, left : left + side] = 255
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _centroid(arr: np.ndarray) -> tuple[float, float]:
    """Centre of the bright pixels in continuous pixel-edge coordinates (y, x)."""
    weight = arr[..., 0].astype(np.float64)
    ys, xs = np.mgrid[0 : arr.shape[0], 0 : arr.shape[1]]
    total = weight.sum()
    return (weight * (ys + 0.5)).sum() / total, (weight * (xs + 0.5)).sum() / total


@pytest.mark.parametrize("resize", ["stretch", "center_crop", "pad"])
@pytest.mark.parametrize(("height", "width"), [(150, 400), (400, 150), (123, 77)])
def test_mapping_moves_a_square_where_decode_image_puts_it(resize, height, width):
    out_h, out_w = 64, 96
    side = 20
    top, left = height // 2 - side // 2 + 3, width // 2 - side // 2 - 5
    data = _png_with_square(height, width, top, left, side)
    out = decode_image(data, (out_w, out_h), resize=resize, resample="bilinear")
    m = resize_mapping((height, width), (out_h, out_w), resize)
    cy, cx = top + side / 2, left + side / 2
    want = (cy * m.scale_y + m.offset_y, cx * m.scale_x + m.offset_x)
    assert (m.output_height, m.output_width) == out.shape[:2]
    got = _centroid(out)
    assert abs(got[0] - want[0]) < 0.25 and abs(got[1] - want[1]) < 0.25, (got, want)


def test_mapping_of_the_corners_spans_the_output_or_its_padded_inner_part():
    m = resize_mapping((100, 200), (50, 50), "pad")
    # the whole width fits exactly; the height is centred with equal bands of padding
    assert 0 * m.scale_x + m.offset_x == 0.0 and 200 * m.scale_x + m.offset_x == 50.0
    assert 0 * m.scale_y + m.offset_y == 12.0 and 100 * m.scale_y + m.offset_y == 37.0
    m = resize_mapping((100, 200), (50, 50), "center_crop")
    assert 50 * m.scale_x + m.offset_x == 0.0 and 150 * m.scale_x + m.offset_x == 50.0


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="resize must be one of"):
        resize_mapping((10, 10), (5, 5), "squash")
    with pytest.raises(ValueError, match=r"output_size must be a \(height, width\) pair.*\(5, 0\)"):
        resize_mapping((10, 10), (5, 0), "pad")
