"""Targets through read_images' resize, the fused crop-in-decode, and 0 / 2 workers."""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genlab import Batch, BatchInfo, GeneratorPipeline, Pipeline
from genlab.stages.protocol import stage
from genlab.stages.read import read_images
from genlab.targets import TargetFormat, Targets

NAME = re.compile(r"r(\d+)_(\d+)_(\d+)_(\d+)_")  # x0, y0, x1, y1 of the drawn rectangle


def shape_targets(path: str) -> Targets:
    """The exact targets of one test picture, from its name (so worker processes agree)."""
    x0, y0, x1, y1 = (int(v) for v in NAME.search(Path(path).name).groups())
    width, height = Image.open(path).size
    masks = np.zeros((1, height, width), np.uint8)
    masks[0, y0:y1, x0:x1] = 1
    corners = [[x0, y0, 2], [x1, y0, 2], [x1, y1, 2], [x0, y1, 2]]
    return Targets.from_boxes([[x0, y0, x1, y1]], [1], masks=masks, keypoints=[corners],
                              mask=masks[0] * 2)  # fmt: skip


@stage
def attach_shapes(batch):
    """A stand-in source of targets: each picture's drawn rectangle, read from its name."""
    fmt = TargetFormat(class_names=("bg", "box", "fill"), min_visibility=0.2)
    targets = tuple(shape_targets(p) for p in batch.x)
    return batch.replace(targets=targets, target_format=fmt)


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory):
    """Two class folders of pictures of different sizes and aspects, each a white rectangle on
    a dark noisy ground, as PNG (exact pixels) and JPEG (for the fused crop)."""
    root = tmp_path_factory.mktemp("shapes")
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / cls).mkdir()
        for i in range(6):
            width, height = int(rng.integers(60, 140)), int(rng.integers(50, 120))
            w, h = int(rng.integers(12, width // 2)), int(rng.integers(12, height // 2))
            x0, y0 = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
            img = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
            img[y0 : y0 + h, x0 : x0 + w] = 255
            ext = "png" if i % 2 else "jpg"
            Image.fromarray(img).save(root / cls / f"r{x0}_{y0}_{x0 + w}_{y0 + h}_{i}.{ext}")
    return root


def source_batch(root: Path, ext: str = "png") -> Batch:
    paths = sorted(str(p) for p in root.glob(f"*/*.{ext}"))
    batch = Batch(paths, np.eye(len(paths), dtype=np.int64), BatchInfo(keys=np.arange(len(paths))))
    return next(GeneratorPipeline(iter([batch]), attach_shapes()))


def bright_box(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img[..., 0] > 160)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize("resize", ["stretch", "center_crop", "pad"])
def test_read_images_resize_moves_targets_with_the_pixels(shapes_root, resize):
    batch = source_batch(shapes_root)
    out = next(GeneratorPipeline(iter([batch]), read_images(target_size=(64, 48), resize=resize)))
    assert out.x.shape == (len(batch.x), 48, 64, 3)
    for img, t in zip(out.x, out.targets):
        if not len(t):  # center_crop cut it away (min_visibility)
            continue
        (box,) = t.boxes
        assert t.masks.shape == (1, 48, 64) and t.mask.shape == (48, 64)
        ys, xs = np.nonzero(t.masks[0])
        mask_box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
        np.testing.assert_allclose(mask_box, box, atol=1.0)  # scaling: equal to the pixel
        if resize != "center_crop" or (box > 0).all() and box[2] < 64 and box[3] < 48:
            np.testing.assert_allclose(bright_box(img), box, atol=1.0)  # on the pixels too
        for (x, y, v), corner in zip(t.keypoints[0, [0, 2]], box.reshape(2, 2)):
            if v:  # the corners on the box's corners; cut away: invisible
                np.testing.assert_allclose((x, y), corner, atol=1e-4)
            else:
                assert not (0 <= x <= 64 and 0 <= y <= 48)
        assert set(np.unique(t.mask)) <= {0, 2}


def test_read_images_without_targets_reads_as_before(shapes_root):
    batch = source_batch(shapes_root).replace(targets=None)
    out = next(GeneratorPipeline(iter([batch]), read_images(target_size=(32, 32))))
    assert out.targets is None and out.x.shape[1:] == (32, 32, 3)


def test_a_skipped_file_drops_its_targets_with_it(shapes_root, tmp_path):
    batch = source_batch(shapes_root)
    broken = tmp_path / "r1_1_5_5_broken.png"
    broken.write_bytes(b"not a png")
    paths = [batch.x[0], str(broken), batch.x[1]]
    info = BatchInfo(
        keys=np.arange(3), targets=(batch.targets[0], batch.targets[0], batch.targets[1])
    )
    with pytest.warns(UserWarning, match="skipped"):
        out = next(GeneratorPipeline(iter([Batch(paths, np.eye(3), info)]), read_images()))
    assert len(out.targets) == 2
    np.testing.assert_allclose(out.targets[1].boxes, batch.targets[1].boxes * [224 / s for s in
                               Image.open(batch.x[1]).size * 2], atol=1e-3)  # fmt: skip


def chain(**read) -> list:
    return [
        ("attach_shapes", {}),
        ("read_images", {"target_size": (72, 64), **read}),
        ("random_resized_crop", {"size": (48, 48), "scale": (0.3, 1.0)}),
        ("random_affine", {"degrees": (-20.0, 20.0)}),
        ("hflip", {}),
    ]


def run_all(pipeline: Pipeline) -> list[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(b.x.copy(), b.info.applied, b.targets) for b in pipeline]


def same_targets(a: Targets, b: Targets) -> bool:
    parts = ("boxes", "labels", "ids", "masks", "keypoints", "mask")
    return all(np.array_equal(getattr(a, p), getattr(b, p)) for p in parts)


def test_fused_crop_in_decode_moves_targets_as_the_two_stages(shapes_root):
    pipeline = Pipeline.from_folder(str(shapes_root), batch_size=12, stages=chain()[:3], seed=3)
    source = pipeline.source_batch(0)
    fused, plain = pipeline.run_stages(source), pipeline.run_stages(source, fuse=False)
    assert "read_images+random_resized_crop" in [
        getattr(s, "__name__", "") for s in pipeline.build_stages()
    ]
    assert fused.info.applied == plain.info.applied
    assert all(same_targets(a, b) for a, b in zip(fused.targets, plain.targets))
    assert sum(len(t) for t in fused.targets) > 0


@pytest.mark.parametrize("worker_kind", ["thread", "process"])
def test_targets_are_the_same_with_0_and_2_workers(shapes_root, worker_kind):
    def pipeline(workers):
        return Pipeline.from_folder(str(shapes_root), batch_size=4, stages=chain(), seed=7,
                                    num_workers=workers, worker_kind=worker_kind)  # fmt: skip

    alone, parallel = run_all(pipeline(0)), run_all(pipeline(2))
    assert len(alone) == len(parallel) == 3
    for (x0, applied0, t0), (x2, applied2, t2) in zip(alone, parallel):
        np.testing.assert_array_equal(x0, x2)
        assert applied0 == applied2
        assert all(same_targets(a, b) for a, b in zip(t0, t2))
    assert sum(len(t) for _, _, ts in alone for t in ts) > 0


def test_a_batch_with_targets_pickles(shapes_root):
    batch = source_batch(shapes_root)
    back = pickle.loads(pickle.dumps(batch))
    assert back.info.target_format == batch.info.target_format
    assert all(same_targets(a, b) for a, b in zip(back.targets, batch.targets))
