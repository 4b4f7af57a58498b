"""Labels as class codes: rows identical to scikit-learn's binarizers, memory in O(batch) per batch."""

from __future__ import annotations

import tarfile
import tracemalloc

import numpy as np
import pytest

from genlab.sources.dataset import index_batches
from genlab.sources.labels import MultiLabels, multi_hot, multi_hot_codes, one_hot
from genlab.sources.shards import ShardIndex, shard_batches
from genlab.sources.table import index_table

MB = 1024 * 1024
BATCH = {"batch_size": 8, "shuffle": True, "drop_last": False}


def _sklearn_one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """genlab 0.2's code: LabelBinarizer fitted on the class indices, two columns for two."""
    from sklearn.preprocessing import LabelBinarizer

    y = LabelBinarizer().fit(np.arange(max(n_classes, 2))).transform(labels)
    if n_classes <= 2:
        y = np.hstack([1 - y, y])[:, :n_classes] if n_classes == 2 else np.ones((len(labels), 1))
    return y.astype(np.int64)


@pytest.mark.parametrize("n_classes", [1, 2, 3, 7, 100])
def test_one_hot_gives_labelbinarizers_bytes(n_classes):
    labels = np.random.default_rng(n_classes).integers(0, n_classes, 50)
    ours, theirs = one_hot(labels, n_classes), _sklearn_one_hot(labels, n_classes)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert ours.flags.c_contiguous and ours.tobytes() == theirs.tobytes()


@pytest.mark.parametrize("n_classes", [1, 2, 5])
def test_multi_hot_gives_multilabelbinarizers_bytes(n_classes):
    from sklearn.preprocessing import MultiLabelBinarizer

    names = [f"c{i}" for i in range(n_classes)][::-1]  # column order is the given order
    rng = np.random.default_rng(n_classes)
    sets = [sorted(set(rng.choice(names, rng.integers(0, n_classes + 1)))) for _ in range(40)]
    theirs = MultiLabelBinarizer(classes=names).fit_transform(sets)
    theirs = np.asarray(theirs, dtype=np.int64).reshape(len(sets), n_classes)
    ours = multi_hot(sets, names)
    assert ours.dtype == theirs.dtype and ours.tobytes() == theirs.tobytes()
    codes = MultiLabels.from_code_sets([[names.index(n) for n in s] for s in sets], n_classes)
    assert codes[np.arange(40)].tobytes() == theirs.tobytes()
    assert codes.counts().tolist() == theirs.sum(axis=0).tolist()


def test_bad_codes_and_names_are_named():
    with pytest.raises(ValueError, match="class index 3 out of range for 3 classes"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="class index -1 out of range"):
        multi_hot_codes([[0], [-1]], 3)
    with pytest.raises(ValueError, match="label 'cow' is not one of the class names"):
        multi_hot([["cat"], ["cow"]], ["cat", "dog"])
    with pytest.raises(ValueError, match="must not repeat a class, got 'cat' twice"):
        multi_hot([["cat"]], ["cat", "dog", "cat"])


def _peak_bytes(fn) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


N_CLASSES = 100_000


def test_a_table_of_100000_classes_costs_memory_in_proportion_to_the_batch():
    table = {
        "path": [f"img{i}.png" for i in range(N_CLASSES)],
        "label": [f"c{i:06d}" for i in range(N_CLASSES)],
    }
    index, listing_peak = _peak_bytes(lambda: index_table(table))
    batches = index_batches(index, BATCH, seed=0, epoch=0)
    batch, batch_peak = _peak_bytes(lambda: next(batches))
    row_bytes = 8 * N_CLASSES
    assert batch.y.shape == (8, N_CLASSES) and batch.y.sum() == 8
    assert batch.y[np.arange(8), index.labels[batch.info.keys]].tolist() == [1] * 8
    assert batch_peak < 3 * 8 * row_bytes  # the batch's rows, not classes x classes (80 GB)
    assert listing_peak < 100 * MB  # names and paths: O(samples + classes)


def test_a_multi_label_table_of_100000_classes_keeps_codes_not_rows():
    labels = [[f"c{i:06d}", f"c{(i * 7) % N_CLASSES:06d}"] for i in range(N_CLASSES)]
    table = {"path": [f"img{i}.png" for i in range(N_CLASSES)], "label": labels}
    index, listing_peak = _peak_bytes(lambda: index_table(table))
    assert isinstance(index.labels, MultiLabels) and index.multi_label
    assert len(index.labels.codes) == sum(len(set(s)) for s in labels)  # one code per label
    batch, batch_peak = _peak_bytes(lambda: next(index_batches(index, BATCH, seed=0, epoch=0)))
    assert batch.y.shape == (8, N_CLASSES) and batch_peak < 3 * 8 * 8 * N_CLASSES
    assert listing_peak < 150 * MB  # a dense matrix would be 80 GB
    assert index.class_counts()["c000007"] == 2  # sample 7 and sample 1 (1 * 7)


def test_shards_over_100000_classes_carry_codes_and_make_rows_per_batch(tmp_path):
    from shardfiles import add_member, png

    path = tmp_path / "s.tar"
    with tarfile.open(path, "w") as tar:
        for i in range(12):
            add_member(tar, f"{i:04d}.png", png((i, 0, 0)))
            add_member(tar, f"{i:04d}.cls", str(i * 8_000).encode())
    names = tuple(f"c{i:06d}" for i in range(N_CLASSES))
    index = ShardIndex((str(path),), names, False)

    def first_batch():
        return next(shard_batches(index, batch_size=8, shuffle=False, shuffle_buffer=4,
                                  drop_last=False, seed=0, epoch=0))  # fmt: skip

    batch, peak = _peak_bytes(first_batch)
    assert batch.y.shape == (8, N_CLASSES) and batch.y.argmax(axis=1).tolist() == [
        i * 8_000 for i in range(8)
    ]
    assert peak < 3 * 8 * 8 * N_CLASSES + 5 * MB
    assert index.encode(f"c{99_999:06d}") == 99_999 and index.encode(5) == 5
