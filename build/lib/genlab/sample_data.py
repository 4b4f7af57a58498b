"""Small class-folder image datasets made from what scikit-learn ships (no download).

Two kinds are available:

``"digits"``
    The 8x8 handwritten digit scans of :func:`sklearn.datasets.load_digits`, one folder
    per class ``"0"`` .. ``"9"``, upscaled (64x64 by default) and written as black ink on
    light paper in a deliberate mix of formats and modes so that the reader is exercised:
    greyscale PNG, RGB PNG, palette PNG, RGB and greyscale JPEG, larger images that need
    resizing, and JPEGs whose pixels are stored rotated with an EXIF orientation tag.
    This is the default dataset of the ``genlab`` command, the notebooks and the tests.

``"photos"``
    Photographic JPEGs (500x375 by default) made from the two photographs scikit-learn
    ships (``china.jpg`` and ``flower.jpg``, :func:`sklearn.datasets.load_sample_images`)
    by random crops, scales, flips and colour jitter; the class is the source photograph.
    Large sets (10,000 images) for benchmarks are written with several processes.

``"shapes"``
    Detection, segmentation and keypoint data with exact ground truth: filled rectangles,
    ellipses and right triangles drawn on crops of the same photographs (256x192 by default),
    written in COCO, YOLO, Pascal VOC and semantic-mask layouts (see :mod:`genlab.sample_shapes`;
    ``n_per_class`` images per photograph).

Every file depends only on ``(kind, seed, class, index, size)``, so the same call writes
the same bytes, whatever the number of worker processes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from .sample_shapes import write_shapes

__all__ = [
    "KINDS",
    "MARKER_NAME",
    "ensure_sample_data",
    "make_sample_data",
    "sample_data_path",
]

KINDS = ("digits", "photos", "shapes")
MARKER_NAME = ".genlab-sample.json"
"""Hidden file written last into every sample folder; it records how the folder was made."""

_FORMAT_VERSION = 1
_DEFAULT_N_PER_CLASS = {"digits": 30, "photos": 50, "shapes": 20}
_DEFAULT_SIZE = {"digits": (64, 64), "photos": (500, 375), "shapes": (256, 192)}
_PHOTO_NAMES = ("china", "flower")
_EXIF_ORIENTATION_TAG = 0x0112
_DIGITS_PER_CLASS_MAX = 174  # scans of the rarest class ("8") in load_digits
_PARALLEL_THRESHOLD = 400  # photos written by one process below this many images


def make_sample_data(
    dest: str | os.PathLike[str],
    *,
    kind: str = "digits",
    n_per_class: int | None = None,
    seed: int = 0,
    size: tuple[int, int] | None = None,
    overwrite: bool = False,
    workers: int | None = None,
) -> Path:
    """Write a small class-folder dataset of real images into `dest`.

    Parameters
    ----------
    dest : path-like
        Folder to write into; created if missing. It must be empty unless `overwrite`.
    kind : {"digits", "photos", "shapes"}
        Which dataset to write (see the module docstring).
    n_per_class : int, optional
        Images per class; defaults to 30 for digits (300 images) and 50 for photos
        (100 images). Digits are limited to the scans available for the rarest class (174).
    seed : int
        Seed of every random choice; the same seed writes the same bytes.
    size : (width, height), optional
        Image size in pixels, Pillow order. Defaults to (64, 64) for digits and
        (500, 375) for photos. For digits, the images of two variants out of ten are
        written 1.5 times larger so that the reader has to resize them.
    overwrite : bool
        Allow writing into a non-empty folder. The image folders of an earlier sample set
        found there (recorded in its hidden marker file) are removed first; other files
        are left alone, and files with the same names are replaced.
    workers : int, optional
        Processes used to write photos. Defaults to one per CPU for more than 400 images,
        one process below. The output does not depend on it. Digits ignore it.

    Returns
    -------
    pathlib.Path
        `dest`, holding one folder per class and the hidden marker file.

    Raises
    ------
    ValueError
        For an unknown `kind`, a bad `n_per_class`, `seed`, `size` or `workers`, or a non-empty
        `dest` without `overwrite`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = make_sample_data(tmp, n_per_class=3)
    ...     print(sorted(p.name for p in root.iterdir())[:3], len(list(root.glob("*/*"))))
    ['.genlab-sample.json', '0', '1'] 30
    """
    if kind not in KINDS:
        raise ValueError(f"make_sample_data: kind must be one of {KINDS!r}, got {kind!r}")
    n = _DEFAULT_N_PER_CLASS[kind] if n_per_class is None else n_per_class
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"make_sample_data: n_per_class must be a positive int, got {n!r}")
    size = _check_size(_DEFAULT_SIZE[kind] if size is None else size)
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"make_sample_data: workers must be a positive int, got {workers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"make_sample_data: seed must be an int >= 0, got {seed!r}")
    if kind == "digits" and n > _DIGITS_PER_CLASS_MAX:
        raise ValueError(
            f"make_sample_data: n_per_class for digits is at most {_DIGITS_PER_CLASS_MAX} "
            f"(scans of the rarest class), got {n!r}"
        )

    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"make_sample_data: dest {str(dest)!r} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()):
        if not overwrite:
            raise ValueError(
                f"make_sample_data: refusing to write into non-empty folder {str(dest)!r}; "
                "pass overwrite=True or choose an empty folder"
            )
        _remove_previous_sample(dest)
    dest.mkdir(parents=True, exist_ok=True)

    if kind == "digits":
        classes, count = _write_digits(dest, int(n), seed, size)
    elif kind == "shapes":
        classes, count = write_shapes(dest, int(n), seed, size, photo_image), 2 * int(n)
    else:
        classes, count = _write_photos(dest, int(n), seed, size, workers)
    config = {"kind": kind, "n_per_class": int(n), "seed": int(seed), "size": list(size)}
    marker = {**config, "version": _FORMAT_VERSION, "classes": list(classes), "n_images": count}
    (dest / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
    return dest


def sample_data_path(kind: str = "digits") -> Path:
    """Return the default folder of the `kind` sample set (it may not exist yet).

    The base folder is ``$GENLAB_DATA`` when set, else ``$XDG_CACHE_HOME/genlab``, else
    ``~/.cache/genlab``; the set lives in its ``sample-<kind>`` subfolder.

    Examples
    --------
    >>> sample_data_path().name
    'sample-digits'
    """
    if kind not in KINDS:
        raise ValueError(f"sample_data_path: kind must be one of {KINDS!r}, got {kind!r}")
    base = os.environ.get("GENLAB_DATA")
    if not base:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        base = os.path.join(cache, "genlab")
    return Path(base).expanduser() / f"sample-{kind}"


def ensure_sample_data(kind: str = "digits") -> Path:
    """Return the default `kind` sample set, writing it once if it is missing.

    The set is written into a temporary sibling folder and renamed into place, so an
    interrupted run or several processes starting together never leave a partial set.

    Returns
    -------
    pathlib.Path
        :func:`sample_data_path` of `kind`, holding the default sample set.
    """
    path = sample_data_path(kind)
    if _is_complete(path, kind):
        return path
    if path.exists() and any(path.iterdir()):
        raise ValueError(
            f"ensure_sample_data: {str(path)!r} is not empty and holds no complete default "
            f"{kind!r} sample set; remove it or set GENLAB_DATA to another folder"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        make_sample_data(tmp, kind=kind)
        try:
            if path.exists():
                path.rmdir()  # empty, checked above
            tmp.rename(path)
        except OSError:
            if not _is_complete(path, kind):  # another process did not win the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


# -- helpers -----------------------------------------------------------------------------


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
        ok = (width, height) == tuple(size) and width >= 8 and height >= 8
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"make_sample_data: size must be (width, height) ints of at least 8, got {size!r}"
        )
    return width, height


def _read_marker(path: Path) -> dict | None:
    try:
        return json.loads((path / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_complete(path: Path, kind: str) -> bool:
    marker = _read_marker(path)
    return (
        marker is not None
        and marker.get("version") == _FORMAT_VERSION
        and marker.get("kind") == kind
        and marker.get("n_per_class") == _DEFAULT_N_PER_CLASS[kind]
        and marker.get("seed") == 0
        and marker.get("size") == list(_DEFAULT_SIZE[kind])
    )


def _remove_previous_sample(dest: Path) -> None:
    marker = _read_marker(dest)
    if marker is None:
        return
    for name in marker.get("classes", []):
        folder = dest / str(name)
        if folder.parent == dest and folder.is_dir():
            shutil.rmtree(folder)
    (dest / MARKER_NAME).unlink(missing_ok=True)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *key]))


# -- digits ------------------------------------------------------------------------------

# Ten variants, used in turn within each class: (extension, mode, larger, exif_rotated).
_DIGIT_VARIANTS = (
    (".png", "L", False, False),
    (".png", "L", False, False),
    (".png", "L", False, False),
    (".png", "L", False, False),
    (".jpg", "RGB", False, False),
    (".png", "RGB", True, False),
    (".png", "L", False, False),
    (".jpeg", "L", True, False),
    (".png", "P", False, False),
    (".jpg", "RGB", False, True),
)


def _write_digits(
    dest: Path, n_per_class: int, seed: int, size: tuple[int, int]
) -> tuple[list[str], int]:
    from sklearn.datasets import (
        load_digits,
    )  # scikit-learn imports in ~1 s: only when digits are made

    digits = load_digits()
    if np.bincount(digits.target, minlength=10).min() < n_per_class:  # a changed sklearn
        raise ValueError(f"make_sample_data: too few digit scans for n_per_class={n_per_class!r}")
    classes = [str(c) for c in range(10)]
    for label, name in enumerate(classes):
        folder = dest / name
        folder.mkdir(exist_ok=True)
        rng = _rng(seed, 0, label)
        chosen = rng.permutation(np.flatnonzero(digits.target == label))[:n_per_class]
        for k, index in enumerate(chosen):
            ext, mode, larger, rotated = _DIGIT_VARIANTS[k % len(_DIGIT_VARIANTS)]
            image = _digit_image(digits.images[index], mode, size, larger, rng)
            _save_digit(image, folder / f"{name}-{k:03d}{ext}", rotated)
    return classes, 10 * n_per_class


def _digit_image(
    scan: np.ndarray, mode: str, size: tuple[int, int], larger: bool, rng: np.random.Generator
) -> Image.Image:
    ink = np.clip(scan / 16.0, 0.0, 1.0)  # 0 = paper, 1 = ink
    small = Image.fromarray(np.round(255 * (1.0 - ink)).astype(np.uint8), mode="L")
    width, height = size
    if larger:
        width, height = (width * 3) // 2, (height * 3) // 2
    grey = small.resize((width, height), Image.Resampling.BICUBIC)
    if mode == "L":
        return grey
    paper = rng.uniform(225, 255, size=3)
    pen = rng.uniform(0, 90, size=3)
    g = np.asarray(grey, dtype=np.float64)[..., None] / 255.0
    rgb = Image.fromarray(np.round(pen + g * (paper - pen)).astype(np.uint8), mode="RGB")
    if mode == "P":
        return rgb.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return rgb


def _save_digit(image: Image.Image, path: Path, rotated: bool) -> None:
    if path.suffix == ".png":
        image.save(path, format="PNG")
        return
    if not rotated:
        image.save(path, format="JPEG", quality=92)
        return
    # Stored pixels are turned a quarter to the left; EXIF orientation 6 says "turn right
    # to display", so PIL.ImageOps.exif_transpose gives back the upright digit.
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION_TAG] = 6
    stored = image.transpose(Image.Transpose.ROTATE_90)
    stored.save(path, format="JPEG", quality=92, exif=exif.tobytes())


# -- photos ------------------------------------------------------------------------------

_photo_cache: dict[str, Image.Image] = {}


def _photo(name: str) -> Image.Image:
    if name not in _photo_cache:
        from sklearn.datasets import load_sample_image  # as above, for photos

        _photo_cache[name] = Image.fromarray(load_sample_image(f"{name}.jpg"))
    return _photo_cache[name]


def _write_photos(
    dest: Path, n_per_class: int, seed: int, size: tuple[int, int], workers: int | None
) -> tuple[list[str], int]:
    classes = list(_PHOTO_NAMES)
    for name in classes:
        (dest / name).mkdir(exist_ok=True)
    jobs = [(label, k) for label in range(len(classes)) for k in range(n_per_class)]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(jobs) > _PARALLEL_THRESHOLD else 1
    workers = min(workers, max(1, len(jobs) // 50))
    if workers == 1:
        _write_photo_chunk(str(dest), jobs, seed, size)
    else:
        chunk = -(-len(jobs) // (workers * 4))
        chunks = [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(_write_photo_chunk, str(dest), part, seed, size) for part in chunks
            ]
            for future in futures:
                future.result()
    return classes, len(jobs)


def _write_photo_chunk(
    dest: str, jobs: list[tuple[int, int]], seed: int, size: tuple[int, int]
) -> None:
    for label, k in jobs:
        name = _PHOTO_NAMES[label]
        data = _photo_jpeg(name, _rng(seed, 1, label, k), size)
        Path(dest, name, f"{name}-{k:05d}.jpg").write_bytes(data)


def _photo_jpeg(name: str, rng: np.random.Generator, size: tuple[int, int]) -> bytes:
    image = photo_image(name, rng, size)
    out = BytesIO()
    image.save(out, format="JPEG", quality=int(rng.integers(80, 96)))
    return out.getvalue()


def photo_image(name: str, rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """A jittered crop of scikit-learn's photograph ``name``, ``size = (width, height)``."""
    source = _photo(name)
    width, height = size
    aspect = width / height * rng.uniform(0.9, 1.1)
    src_w, src_h = source.size
    full_w = min(src_w, src_h * aspect)
    scale = rng.uniform(0.45, 1.0)
    crop_w, crop_h = full_w * scale, full_w * scale / aspect
    left = rng.uniform(0, src_w - crop_w)
    top = rng.uniform(0, src_h - crop_h)
    # Jitter the crop at source resolution, then resize: cheaper than jittering the output.
    box = (round(left), round(top), round(left + crop_w), round(top + crop_h))
    image = source.crop(box)
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.7, 1.3))
    gains = rng.uniform(0.88, 1.12, size=3) * rng.uniform(0.8, 1.2)
    gamma = rng.uniform(0.8, 1.25)
    ramp = (np.arange(256) / 255.0) ** gamma * 255.0
    lut = np.clip(np.round(ramp[None, :] * gains[:, None]), 0, 255).astype(np.uint8)
    image = image.point(lut.ravel().tolist())
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
