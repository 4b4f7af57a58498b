"""Class-folder discovery, the dataset source, labels, and fsspec roots."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from corpus import write_class_folders, write_corpus

import genlab
from genlab.sources.dataset import epoch_order
from genlab.sources.discover import one_hot


def test_classes_sorted_extensions_case_insensitive_hidden_skipped(tmp_path):
    corpus = write_corpus(tmp_path)
    index = genlab.index_folder(tmp_path)
    assert index.class_names == ("cats", "dogs")
    assert set(index.paths) == set(corpus.good) | set(corpus.bad)
    assert not set(index.paths) & set(corpus.hidden)
    found = list(genlab.discover_images(tmp_path))
    assert [p for p, _ in found] == list(index.paths)
    assert {c for _, c in found} == {"cats", "dogs"}


def test_upper_case_extensions_and_non_images_are_reported(tmp_path):
    write_class_folders(tmp_path, ["a", "b"], 2)
    Path(tmp_path, "a", "UPPER.PNG").write_bytes(Path(tmp_path, "a", "a-000.png").read_bytes())
    Path(tmp_path, "a", "notes.txt").write_text("not an image")
    Path(tmp_path, "README").write_text("outside any class")
    index = genlab.index_folder(tmp_path)
    assert any(p.endswith("UPPER.PNG") for p in index.paths)
    reasons = dict(index.ignored)
    assert any(p.endswith("notes.txt") for p in reasons) and any(
        p.endswith("README") for p in reasons
    )


def test_empty_root_and_empty_class_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        genlab.index_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="has no class folders"):
        genlab.index_folder(tmp_path)
    write_class_folders(tmp_path, ["a"], 1)
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match=r"class folder '.*b' holds no images"):
        genlab.dataset(tmp_path)  # at the call, not at the first next()


def test_one_hot_uses_two_columns_for_two_classes():
    assert one_hot(np.array([1, 0]), 2).tolist() == [[0, 1], [1, 0]]
    assert one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert one_hot(np.array([0, 0]), 1).tolist() == [[1], [1]]


def test_dataset_batches_cover_every_sample_once_and_shuffle_per_epoch(tmp_path):
    write_class_folders(tmp_path, 10, 7)
    epoch0 = list(genlab.dataset(tmp_path, batch_size=8, seed=3, epoch=0))
    again = list(genlab.dataset(tmp_path, batch_size=8, seed=3, epoch=0))
    epoch1 = list(genlab.dataset(tmp_path, batch_size=8, seed=3, epoch=1))
    keys0 = np.concatenate([b.info.keys for b in epoch0])
    assert sorted(keys0.tolist()) == list(range(70))
    assert keys0.tolist() == np.concatenate([b.info.keys for b in again]).tolist()
    assert keys0.tolist() != np.concatenate([b.info.keys for b in epoch1]).tolist()
    # labels line up with the class folder of each path
    for b in epoch0:
        names = [Path(p).parent.name for p in b.x]
        assert names == [b.info.class_names[i] for i in b.y.argmax(1)]


def test_whole_dataset_shuffle_mixes_classes(tmp_path):
    # The post shuffled inside batches only: files listed folder by folder gave single-class batches.
    write_class_folders(tmp_path, 10, 20, size=(4, 4))
    unshuffled = list(genlab.dataset(tmp_path, batch_size=32, shuffle=False))
    shuffled = list(genlab.dataset(tmp_path, batch_size=32, seed=0))
    single = lambda bs: sum(len(set(b.y.argmax(1))) == 1 for b in bs)  # noqa: E731
    assert single(unshuffled) >= 1
    assert single(shuffled) == 0


def test_drop_last_and_bad_parameters(tmp_path):
    write_class_folders(tmp_path, 2, 5)
    assert [len(b.x) for b in genlab.dataset(tmp_path, 4, drop_last=True)] == [4, 4]
    with pytest.raises(ValueError, match="dataset: parameter 'batch_size' must be between 1"):
        genlab.dataset(tmp_path, batch_size=0)


def test_epoch_order_is_a_permutation():
    order = epoch_order(100, shuffle=True, seed=1, epoch=2)
    assert sorted(order.tolist()) == list(range(100))


def _read_all(root, **kw):
    p = genlab.Pipeline.from_folder(root, batch_size=64, shuffle=False,
                                    stages=[("read_images", {"target_size": (8, 6)})], **kw)  # fmt: skip
    return p, np.concatenate([x for x, _ in p])


def test_fsspec_file_memory_and_zip_roots_read_the_same(tmp_path):
    import fsspec

    write_class_folders(tmp_path / "local", ["a", "b"], 3)
    _, local = _read_all(tmp_path / "local")
    _, file_url = _read_all("file://" + str(tmp_path / "local"))
    mem = fsspec.filesystem("memory")
    for path in (tmp_path / "local").rglob("*.png"):
        mem.pipe(f"/gl-test/{path.parent.name}/{path.name}", path.read_bytes())
    p_mem, in_memory = _read_all("memory://gl-test")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in (tmp_path / "local").rglob("*.png"):
            z.write(path, f"set/{path.parent.name}/{path.name}")
    p_zip, zipped = _read_all(f"zip://set::{archive}")
    assert p_mem.class_names == p_zip.class_names == ("a", "b")
    assert p_zip.index.paths[0] == f"zip://set/a/a-000.png::{archive}"
    np.testing.assert_array_equal(local, file_url)
    np.testing.assert_array_equal(local, in_memory)
    np.testing.assert_array_equal(local, zipped)
    mem.rm("/gl-test", recursive=True)
