from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from corpus import BOMB_PIXELS, BOMB_SIZE, write_class_folders, write_corpus
from PIL import Image, ImageOps

import genlab
from genlab.sample_data import (
    MARKER_NAME,
    ensure_sample_data,
    make_sample_data,
    sample_data_path,
)


def image_files(root):
    return sorted(p for p in Path(root).rglob("*") if p.is_file() and not p.name.startswith("."))


def digest(root):
    h = hashlib.sha256()
    for path in sorted(Path(root).rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def read_upright(path, size=None):
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return upright.resize(size) if size else upright


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return make_sample_data(tmp_path_factory.mktemp("digits"))


# -- digits ------------------------------------------------------------------------------


def test_digits_default_is_300_images_in_ten_class_folders(digits):
    files = image_files(digits)
    assert len(files) == 300
    assert Counter(p.parent.name for p in files) == {str(c): 30 for c in range(10)}
    assert sorted(p.name for p in digits.iterdir() if p.is_dir()) == [str(c) for c in range(10)]
    assert sum(p.stat().st_size for p in files) < 5 * 2**20


def test_digits_mix_formats_and_modes_that_all_decode(digits):
    kinds = Counter()
    for path in image_files(digits):
        with Image.open(path) as image:
            image.load()
            rotated = image.getexif().get(0x0112, 1) != 1
            kinds[(image.format, image.mode, path.suffix, rotated)] += 1
            assert image.size in {(64, 64), (96, 96)}
    assert kinds[("PNG", "L", ".png", False)] == 150
    assert kinds[("PNG", "RGB", ".png", False)] == 30
    assert kinds[("PNG", "P", ".png", False)] == 30
    assert kinds[("JPEG", "RGB", ".jpg", False)] == 30
    assert kinds[("JPEG", "L", ".jpeg", False)] == 30
    assert kinds[("JPEG", "RGB", ".jpg", True)] == 30
    assert sum(kinds.values()) == 300


def test_digits_exif_orientation_turns_the_stored_pixels_upright(tmp_path):
    root = make_sample_data(tmp_path, n_per_class=10, size=(64, 40))
    rotated = [p for p in image_files(root) if Image.open(p).getexif().get(0x0112) == 6]
    assert len(rotated) == 10
    for path in rotated:
        with Image.open(path) as image:
            assert image.size == (40, 64)  # stored a quarter turn away
            assert ImageOps.exif_transpose(image).size == (64, 40)


def test_digits_are_dark_ink_on_light_paper(digits):
    for path in image_files(digits)[::7]:
        grey = np.asarray(read_upright(path).convert("L"), dtype=np.float64)
        assert np.mean(grey > 128) > 0.5  # mostly paper
        assert np.percentile(grey, 95) > 200 and grey.min() < 100  # light paper, dark ink


def test_digits_are_learnable_by_a_linear_model_at_32x32(digits):
    from sklearn.linear_model import SGDClassifier

    files = image_files(digits)
    x = np.stack([np.asarray(read_upright(p, (32, 32)), np.float32).ravel() / 255 for p in files])
    y = np.array([int(p.parent.name) for p in files])
    index = np.array([int(p.stem.split("-")[1]) for p in files])
    train = index % 3 != 0
    model = SGDClassifier(random_state=0)
    for epoch in range(5):
        order = np.random.default_rng(epoch).permutation(np.flatnonzero(train))
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            model.partial_fit(x[batch], y[batch], classes=np.arange(10))
    accuracy = model.score(x[~train], y[~train])
    assert accuracy > 0.4, accuracy  # chance is 0.1; 0.66 measured


def test_digits_through_a_genlab_pipeline_train_a_linear_model(digits):
    from sklearn.linear_model import SGDClassifier

    stages = [("read_images", {"target_size": (32, 32)}), ("rescale_images", {}), "shuffle_samples"]
    pipeline = genlab.Pipeline.from_folder(str(digits), batch_size=32, seed=0, stages=stages)
    batches = [(x.reshape(len(x), -1), y.argmax(axis=1)) for x, y in pipeline]
    assert sum(len(y) for _, y in batches) == 300
    train, test = batches[:7], batches[7:]  # batches are shuffled: 224 to train, 76 to test
    model = SGDClassifier(random_state=0)
    for _ in range(5):
        for x, y in train:
            model.partial_fit(x, y, classes=np.arange(10))
    accuracy = model.score(
        np.concatenate([x for x, _ in test]), np.concatenate([y for _, y in test])
    )
    assert accuracy > 0.4, accuracy  # chance is 0.1


def test_digits_are_deterministic_for_a_seed(tmp_path):
    first = make_sample_data(tmp_path / "a", n_per_class=10, seed=5)
    second = make_sample_data(tmp_path / "b", n_per_class=10, seed=5)
    other = make_sample_data(tmp_path / "c", n_per_class=10, seed=6)
    assert digest(first) == digest(second)
    assert digest(first) != digest(other)


def test_marker_records_how_the_folder_was_made(tmp_path):
    root = make_sample_data(tmp_path, n_per_class=2, seed=3)
    marker = json.loads((root / MARKER_NAME).read_text())
    assert marker["kind"] == "digits" and marker["seed"] == 3 and marker["n_per_class"] == 2
    assert marker["classes"] == [str(c) for c in range(10)] and marker["n_images"] == 20


# -- photos ------------------------------------------------------------------------------


def test_photos_are_jpegs_of_two_classes(tmp_path):
    root = make_sample_data(tmp_path, kind="photos", n_per_class=4)
    files = image_files(root)
    assert Counter(p.parent.name for p in files) == {"china": 4, "flower": 4}
    arrays = []
    for path in files:
        with Image.open(path) as image:
            assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (500, 375))
            arrays.append(np.asarray(image, dtype=np.float64))
    # random crops, flips and jitter: no two images alike
    differences = [np.abs(a - b).mean() for i, a in enumerate(arrays) for b in arrays[i + 1 :]]
    assert min(differences) > 5
    # the class is the photograph: the flower is mostly orange and green, china mostly sky blue
    means = {
        name: np.mean(
            [
                a.mean(axis=(0, 1))
                for a, p in zip(arrays, files, strict=True)
                if p.parent.name == name
            ],
            axis=0,
        )
        for name in ("china", "flower")
    }
    assert means["china"][2] > means["flower"][2]


def test_photos_take_a_size(tmp_path):
    root = make_sample_data(tmp_path, kind="photos", n_per_class=1, size=(1024, 768))
    assert [Image.open(p).size for p in image_files(root)] == [(1024, 768)] * 2


def test_photos_bytes_do_not_depend_on_the_number_of_workers(tmp_path):
    one = make_sample_data(
        tmp_path / "one", kind="photos", n_per_class=60, size=(64, 48), workers=1
    )
    two = make_sample_data(
        tmp_path / "two", kind="photos", n_per_class=60, size=(64, 48), workers=2
    )
    assert len(image_files(one)) == 120
    assert digest(one) == digest(two)


# -- folders and errors ------------------------------------------------------------------


def test_refuses_a_non_empty_folder_naming_it(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(
        ValueError, match=rf"non-empty folder {re.escape(repr(str(tmp_path)))}.*overwrite=True"
    ):
        make_sample_data(tmp_path, n_per_class=1)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_overwrite_replaces_an_earlier_sample_and_keeps_other_files(tmp_path):
    make_sample_data(tmp_path, kind="photos", n_per_class=2, size=(32, 24))
    (tmp_path / "notes.txt").write_text("mine")
    make_sample_data(tmp_path, n_per_class=2, overwrite=True)
    assert not (tmp_path / "china").exists() and not (tmp_path / "flower").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert len(image_files(tmp_path)) == 20 + 1


def test_bad_arguments_leave_an_earlier_sample_intact(tmp_path):
    make_sample_data(tmp_path, n_per_class=1)
    before = digest(tmp_path)
    with pytest.raises(ValueError, match="at most 174"):
        make_sample_data(tmp_path, n_per_class=175, overwrite=True)
    assert digest(tmp_path) == before


def test_writes_into_an_existing_empty_folder(tmp_path):
    assert len(image_files(make_sample_data(tmp_path, n_per_class=1))) == 10


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "cats"}, r"kind must be one of .*'cats'"),
        ({"n_per_class": 0}, r"n_per_class must be a positive int, got 0"),
        ({"n_per_class": 175}, r"at most 174 .* got 175"),
        ({"size": (64,)}, r"size must be \(width, height\).*\(64,\)"),
        ({"size": (4, 4)}, r"at least 8, got \(4, 4\)"),
        ({"workers": 0}, r"workers must be a positive int, got 0"),
        ({"seed": -1}, r"seed must be an int >= 0, got -1"),
    ],
)
def test_rejects_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_sample_data(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_rejects_a_file_as_destination(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        make_sample_data(tmp_path / "file")


def test_sample_data_path_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "data"))
    assert sample_data_path() == tmp_path / "data" / "sample-digits"
    assert sample_data_path("photos") == tmp_path / "data" / "sample-photos"
    monkeypatch.delenv("GENLAB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert sample_data_path() == tmp_path / "cache" / "genlab" / "sample-digits"
    with pytest.raises(ValueError, match="'video'"):
        sample_data_path("video")


def test_ensure_sample_data_writes_once(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    path = ensure_sample_data()
    assert path == tmp_path / "sample-digits" and len(image_files(path)) == 300
    stamp = (path / MARKER_NAME).stat().st_mtime_ns
    assert ensure_sample_data() == path
    assert (path / MARKER_NAME).stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample-digits"]  # no temporary left


def test_ensure_sample_data_refuses_a_foreign_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    (tmp_path / "sample-digits").mkdir()
    (tmp_path / "sample-digits" / "other.png").write_bytes(b"x")
    with pytest.raises(ValueError, match="sample-digits.*not empty"):
        ensure_sample_data()


# -- tests/corpus.py (the test-data helper the other test files use) ---------------------


def test_corpus_good_files_decode_and_bad_files_fail(tmp_path):
    corpus = write_corpus(tmp_path)
    assert len(corpus.good) == 7 and len(corpus.bad) == 6
    for path in corpus.good:
        with Image.open(path) as image:
            image.load()
    assert Image.open(tmp_path / "cats" / "png-named.jpg").format == "PNG"
    for path, reason in corpus.bad.items():
        if path.endswith("bomb.png"):
            with Image.open(path) as image:  # reading the header is cheap; decoding is not
                assert image.size == BOMB_SIZE and image.width * image.height == BOMB_PIXELS
            assert Path(path).stat().st_size < 20_000
            continue
        with pytest.raises((OSError, SyntaxError)):
            with Image.open(path) as image:
                image.load()
            pytest.fail(f"{path} decoded but should not: {reason}")


def test_corpus_hidden_files_are_hidden(tmp_path):
    corpus = write_corpus(tmp_path)
    for path in corpus.hidden:
        assert any(part.startswith(".") for part in Path(path).relative_to(tmp_path).parts)
    written = {str(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set(corpus.good) | set(corpus.bad) | set(corpus.hidden)


def test_write_class_folders_is_deterministic_and_separable(tmp_path):
    paths = write_class_folders(tmp_path / "a", ["x", "y", "z"], 4, size=(32, 24), seed=1)
    again = write_class_folders(tmp_path / "b", ["x", "y", "z"], 4, size=(32, 24), seed=1)
    assert len(paths) == 12
    assert [Path(p).read_bytes() for p in paths] == [Path(p).read_bytes() for p in again]
    arrays = {p: np.asarray(Image.open(p)) for p in paths}
    assert {a.shape for a in arrays.values()} == {(24, 32, 3)}
    means = {
        c: np.mean([a.mean(axis=(0, 1)) for p, a in arrays.items() if f"/{c}/" in p], axis=0)
        for c in "xyz"
    }
    assert min(np.abs(means[a] - means[b]).max() for a, b in ["xy", "xz", "yz"]) > 50
