"""What a user would write instead of genlab, each a function ``run(items, batch_size) -> images``.

``items`` is a list of ``(path, class_index)``.  Each function consumes the
whole set once and returns how many images reached the consumer.

- ``post_style``: the post's own pipeline, hand-written two-yield coroutines
  chained by a ``GeneratorPipeline``-style driver, in one process
  (``Image.open(...).convert('RGB').resize(...)`` with NEAREST, rot90, mean
  subtraction, shuffle within the batch).
- ``one_process``: plain Pillow decode + BILINEAR resize + flip + float32
  normalize in a loop, one process.
- ``dataloader``: ``torch.utils.data.DataLoader(num_workers=2)`` over a
  ``Dataset`` doing the same work as ``one_process``.
- ``dataloader_v2``: the usual PyTorch choice, ``DataLoader(num_workers=2)`` over
  Pillow-opened images with ``torchvision.transforms.v2`` (Resize, RandomHorizontalFlip,
  ToImage, ToDtype(float32, scale=True), Normalize): the same work.
- ``bare_scaled``: libjpeg-turbo's scaled decode alone (simplejpeg at the smallest M/8
  scale keeping 224x224), one process: this machine's limit for getting the pixels.
- ``bare_scaled_resize``: the same plus one Pillow bilinear resize to 224x224.
- ``ceiling``: a bare 2-process pool doing only decode + resize, returning
  nothing: no pipeline can beat it on the same cores.
- ``eager``: load the whole set into one float32 array first, the way the
  post warns against.
"""

from __future__ import annotations

from multiprocessing import get_context

import numpy as np
from PIL import Image

TARGET = (224, 224)
POST_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)
NORM_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255
NORM_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255


# --- the post's style: two-yield coroutines and their driver --------------------------------


def post_dataset(items, batch_size):
    n_classes = max(label for _, label in items) + 1
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        paths = [p for p, _ in chunk]
        y = np.eye(n_classes, dtype=np.int64)[[label for _, label in chunk]]
        yield paths, y


def post_read_images(target_size=TARGET):
    while True:
        paths, y = yield
        x = np.array(
            [
                np.array(Image.open(p).convert("RGB").resize(target_size, Image.NEAREST))
                for p in paths
            ]
        )
        yield x, y


def post_augment(rotate90=True):
    while True:
        x, y = yield
        if rotate90:
            x = np.array([np.rot90(img, k=np.random.randint(4)) for img in x])
        yield x, y


def post_rescale_images(mean):
    while True:
        x, y = yield
        x = x.astype(np.float32)
        x -= mean
        yield x, y


def post_shuffle_samples():
    while True:
        x, y = yield
        order = np.random.permutation(len(x))
        yield x[order], y[order]


class PostGeneratorPipeline:
    """The post's driver: for each source batch send None to every step, then the batch through."""

    def __init__(self, source, *steps):
        self.source = source
        self.steps = steps

    def __iter__(self):
        for batch in self.source:
            for step in self.steps:
                next(step)
            for step in self.steps:
                batch = step.send(batch)
            yield batch


def post_style(items, batch_size):
    np.random.seed(0)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(items))
    shuffled = [items[i] for i in order]
    pipeline = PostGeneratorPipeline(
        post_dataset(shuffled, batch_size),
        post_read_images(),
        post_augment(rotate90=True),
        post_rescale_images(mean=POST_MEAN),
        post_shuffle_samples(),
    )
    n = 0
    for x, _y in pipeline:
        n += len(x)
    return n


# --- the same work as genlab with workers: decode, BILINEAR 224, flip, float32 normalize ----


def load_normalized(path: str, flip: bool) -> np.ndarray:
    img = Image.open(path).convert("RGB").resize(TARGET, Image.BILINEAR)
    if flip:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    arr = np.asarray(img, dtype=np.float32)
    return (arr - NORM_MEAN) / NORM_STD


def one_process(items, batch_size):
    rng = np.random.default_rng(0)
    order = rng.permutation(len(items))
    n_classes = max(label for _, label in items) + 1
    n = 0
    for start in range(0, len(items), batch_size):
        chunk = [items[i] for i in order[start : start + batch_size]]
        x = np.stack([load_normalized(p, rng.random() < 0.5) for p, _ in chunk])
        y = np.eye(n_classes, dtype=np.int64)[[label for _, label in chunk]]
        assert len(y) == len(x)
        n += len(x)
    return n


def _run_loader(load, items, batch_size, num_workers):
    """Consume a shuffled ``DataLoader(num_workers)`` over ``load(path) -> image`` once."""
    import torch
    from torch.utils.data import DataLoader, Dataset

    class FolderDataset(Dataset):
        def __init__(self, items):
            self.items = items

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            path, label = self.items[i]
            return load(path), label

    torch.manual_seed(0)
    loader = DataLoader(
        FolderDataset(items), batch_size=batch_size, shuffle=True, num_workers=num_workers
    )
    n = 0
    for x, _y in loader:
        n += len(x)
    return n


def dataloader(items, batch_size, num_workers=2):
    def load(path):
        return load_normalized(path, bool(np.random.random() < 0.5))

    return _run_loader(load, items, batch_size, num_workers)


def dataloader_v2(items, batch_size, num_workers=2):
    import torch
    from torchvision.transforms import v2

    transform = v2.Compose([
        v2.Resize(TARGET[::-1], interpolation=v2.InterpolationMode.BILINEAR, antialias=True),
        v2.RandomHorizontalFlip(),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=(NORM_MEAN / 255).tolist(), std=(NORM_STD / 255).tolist()),
    ])  # fmt: skip

    def load(path):
        with Image.open(path) as img:
            return transform(img.convert("RGB"))

    return _run_loader(load, items, batch_size, num_workers)


# --- the bare scaled decode: libjpeg-turbo alone, one process -------------------------------


def bare_scaled(items, batch_size):
    import simplejpeg

    for path, _ in items:
        with open(path, "rb") as f:
            simplejpeg.decode_jpeg(f.read(), min_width=TARGET[0], min_height=TARGET[1])
    return len(items)


def bare_scaled_resize(items, batch_size):
    import simplejpeg

    for path, _ in items:
        with open(path, "rb") as f:
            arr = simplejpeg.decode_jpeg(f.read(), min_width=TARGET[0], min_height=TARGET[1])
        Image.fromarray(arr).resize(TARGET, Image.BILINEAR)
    return len(items)


# --- the ceiling and the eager load -----------------------------------------------------------


def _decode_resize(path: str) -> None:
    Image.open(path).convert("RGB").resize(TARGET, Image.BILINEAR)


def ceiling(items, batch_size, processes=2):
    paths = [p for p, _ in items]
    with get_context("fork").Pool(processes) as pool:
        for _ in pool.imap_unordered(_decode_resize, paths, chunksize=batch_size):
            pass
    return len(paths)


def eager(items, batch_size):
    """Load everything first as a user would, then iterate batches from memory."""
    x = np.array([load_normalized(p, False) for p, _ in items])
    y = np.array([label for _, label in items])
    n = 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        n += min(len(xb), len(yb))
    return n


ROWS = {
    "post_style": post_style,
    "one_process": one_process,
    "dataloader": dataloader,
    "dataloader_v2": dataloader_v2,
    "bare_scaled": bare_scaled,
    "bare_scaled_resize": bare_scaled_resize,
    "ceiling": ceiling,
    "eager": eager,
}
