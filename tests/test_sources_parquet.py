"""Parquet image columns (the layout Hugging Face ``datasets`` writes) as a streaming source."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from PIL import Image
from shardfiles import png

from genlab import Pipeline, StageError
from genlab.sources.parquet import schema_class_names

datasets = pytest.importorskip("datasets")
pq = pytest.importorskip("pyarrow.parquet")

READ = [("read_images", {"target_size": (6, 5)})]
NAMES = ["zebra", "ant", "moth"]  # not sorted: a scan would give another order than the schema's


def image(i: int) -> bytes:
    """A distinct PNG per row (its noise seed is the row number)."""
    return png((40 * (i % 3), 90, 200), noise=i)


def write_hf(path, n: int, *, rows_per_group: int = 5, labels=None, features=None) -> list[bytes]:
    """``n`` rows written by ``datasets`` itself (Image struct + ClassLabel); the image bytes."""
    blobs = [image(i) for i in range(n)]
    features = features or datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=NAMES)}
    )
    data = {
        "image": [{"bytes": b, "path": f"img{i}.png"} for i, b in enumerate(blobs)],
        "label": labels if labels is not None else [i % 3 for i in range(n)],
    }
    datasets.Dataset.from_dict(data, features=features).to_parquet(
        str(path), batch_size=rows_per_group
    )
    return blobs


def over(files, **options) -> Pipeline:
    return Pipeline.from_parquet(files, **{"batch_size": 4, "seed": 5, "stages": READ, **options})


def keys_of(pipeline: Pipeline, epoch: int = 0) -> list[int]:
    return [k for b in pipeline.source_batches(epoch) for k in b.info.keys.tolist()]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Two files of 23 and 17 rows in row groups of 5 (8 and 4 groups... of unequal sizes)."""
    root = tmp_path_factory.mktemp("hub")
    blobs = write_hf(root / "train-00000-of-00002.parquet", 23)
    blobs += [image(23 + i) for i in range(17)]
    data = {
        "image": [{"bytes": b, "path": None} for b in blobs[23:]],
        "label": [(23 + i) % 3 for i in range(17)],
    }
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=NAMES)}
    )
    datasets.Dataset.from_dict(data, features=features).to_parquet(
        str(root / "train-00001-of-00002.parquet"), batch_size=5
    )
    return root, blobs


def test_parquet_written_by_datasets_reads_back_with_its_class_names_and_bytes(hub):
    root, blobs = hub
    p = over(str(root / "*.parquet"))
    assert p.class_names == tuple(NAMES) and not p.multi_label and len(p.index) == 40
    assert (
        schema_class_names(
            pq.ParquetFile(root / "train-00000-of-00002.parquet").schema_arrow, "label"
        )
        == NAMES
    )
    seen = {}
    for batch in p.source_batches(0):
        for key, data, y, name in zip(batch.info.keys, batch.x, batch.y, batch.info.paths):
            seen[int(key)] = data
            assert NAMES[int(np.argmax(y))] == NAMES[int(key) % 3]
            assert name.endswith(f"#row={key if key < 23 else key - 23}")
    assert seen == dict(enumerate(blobs))
    x = np.concatenate([b.x for b in p])
    assert x.shape == (40, 5, 6, 3) and x.dtype == np.uint8


def test_row_groups_split_across_two_workers_give_every_row_once_per_epoch(hub):
    root, _ = hub
    p = over(str(root))  # the folder: its .parquet files, sorted
    assert len(p.index.units) == 9  # 5 + 4 row groups
    for epoch in (0, 1):
        parts = [keys_of(p.shard(i, 2), epoch) for i in range(2)]
        assert sorted(parts[0] + parts[1]) == list(range(40))
        assert not set(parts[0]) & set(parts[1])
        assert [len(p.shard(i, 2).copy()) for i in range(2)] != [0, 0]
    assert keys_of(p, 0) != keys_of(p, 1)  # reshuffled per epoch
    assert keys_of(p, 1) == keys_of(over(str(root)), 1)  # and the same for the same seed


def test_torch_dataloader_with_two_workers_delivers_each_row_once(hub):
    torch = pytest.importorskip("torch")
    from genlab.integrations.torch import make_dataloader

    root, _ = hub
    loader = make_dataloader(over(str(root)), num_workers=2, with_keys=True)
    items = list(loader)
    keys = [k for _x, _y, ks in items for k in ks.tolist()]
    assert sorted(keys) == list(range(40))
    assert all(torch.is_tensor(x) and x.shape[1:] == (3, 5, 6) for x, _y, _k in items)


def test_worker_threads_and_processes_give_the_in_process_batches(hub):
    root, _ = hub
    alone = [b.x.tobytes() for b in over(str(root)).iter_epoch(2)]
    for kind in ("thread", "process"):
        p = over(str(root), num_workers=2, worker_kind=kind)
        assert [b.x.tobytes() for b in p.iter_epoch(2)] == alone


def test_the_shuffle_buffer_bounds_memory_and_unshuffled_reads_in_file_order(hub):
    root, _ = hub
    assert keys_of(over(str(root), shuffle=False)) == list(range(40))
    p = over(str(root), shuffle_buffer=1)  # a buffer of one row mixes nothing
    runs, run = [], []
    for key in keys_of(p):
        if run and key != run[-1] + 1:
            runs.append(run)
            run = []
        run.append(key)
    runs.append(run)
    groups = {tuple(range(key, key + n)) for _f, _u, n, key, _r in p.index.units}
    # whole row groups, in the epoch's shuffled order (consecutive groups may join a run)
    assert len(runs) > 3 and all(tuple(r) in groups or len(r) > 5 for r in runs)
    mixed = keys_of(over(str(root), shuffle_buffer=8))
    assert sorted(mixed) == list(range(40)) and mixed != keys_of(p)


def test_a_corrupt_image_cell_is_skipped_and_counted_with_its_file_and_row(tmp_path):
    blobs = [image(i) for i in range(12)]
    blobs[7] = b"not an image at all"
    features = datasets.Features(
        {"image": datasets.Image(decode=False), "label": datasets.ClassLabel(names=NAMES)}
    )
    datasets.Dataset.from_dict(
        {"image": [{"bytes": b, "path": None} for b in blobs], "label": [i % 3 for i in range(12)]},
        features=features,
    ).to_parquet(str(tmp_path / "bad.parquet"), batch_size=4)
    p = over(str(tmp_path / "bad.parquet"))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        batches = list(p)
    assert sum(len(b.y) for b in batches) == 11 and p.report.n_skipped == 1
    where, reason = p.report.skipped[0]
    assert (
        where == f"{tmp_path / 'bad.parquet'}#row=7"
        and reason == "not an image (unrecognised format)"
    )
    with pytest.raises(StageError, match=r"bad\.parquet#row=7': not an image"):
        list(over(str(tmp_path / "bad.parquet"), stages=[("read_images", {"on_error": "raise"})]))


def test_a_wrong_column_is_named_with_the_columns_there_are(hub):
    root, _ = hub
    with pytest.raises(
        ValueError,
        match=r"image_column 'img' is not a column of .*train-00000-of-00002\.parquet'; columns: \['image', 'label'\]",
    ):
        len(over(str(root), image_column="img").index)
    with pytest.raises(ValueError, match=r"label_column 'labels' is not a column"):
        len(over(str(root), label_column="labels").index)
    with pytest.raises(FileNotFoundError, match=r"no file matches .*nothing-\*\.parquet"):
        len(over(str(root / "nothing-*.parquet")).index)


def test_labels_from_strings_lists_and_plain_integers(tmp_path):
    import pyarrow as pa

    blobs = [image(i) for i in range(6)]
    table = pa.table({
        "img": blobs,
        "name": ["owl", "cat", "owl", "dog", "cat", "mystery"],
        "tags": [["cat"], ["cat", "dog"], [], ["dog"], ["owl", "cat"], ["dog"]],
        "number": [2, 0, 1, 2, 0, 1],
    })  # fmt: skip
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=4)
    names = over(str(tmp_path / "t.parquet"), image_column="img", label_column="name",
                 class_names=["cat", "dog", "owl"], shuffle=False)  # fmt: skip
    batches = list(names.source_batches(0))
    assert [k for b in batches for k in b.info.keys.tolist()] == [0, 1, 2, 3, 4]
    assert tuple(s for b in batches for s in b.info.skipped) == (
        (
            f"{tmp_path / 't.parquet'}#row=5",
            "label 'mystery' is not one of the class names ['cat', 'dog', 'owl']",
        ),
    )
    tags = over(str(tmp_path / "t.parquet"), image_column="img", label_column="tags", shuffle=False)
    assert tags.multi_label and tags.class_names == ("cat", "dog", "owl")
    y = np.concatenate([b.y for b in tags.source_batches(0)])
    assert y.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 0]]
    numbers = over(
        str(tmp_path / "t.parquet"), image_column="img", label_column="number", shuffle=False
    )
    assert numbers.class_names == ("0", "1", "2")
    assert np.concatenate([b.y for b in numbers.source_batches(0)]).argmax(1).tolist() == [
        2,
        0,
        1,
        2,
        0,
        1,
    ]


def test_a_spec_saves_and_reloads_the_same_batches(hub, tmp_path):
    root, _ = hub
    p = over(str(root / "train-{00000..00001}-of-00002.parquet"), image_column="image")
    p.save(tmp_path / "p.json")
    from genlab import load

    again = load(tmp_path / "p.json")
    assert again == p and [b.x.tobytes() for b in again] == [b.x.tobytes() for b in p]
    assert "Pipeline.from_parquet(" in p.to_python()


def pil_png(i: int) -> Image.Image:
    return Image.open(io.BytesIO(image(i)))


def test_the_command_line_runs_parquet_files_named_by_the_shell(hub, capsys):
    from genlab.cli import main

    root, _ = hub
    files = sorted(str(f) for f in root.glob("*.parquet"))  # what `data/*.parquet` expands to
    assert main(["run", *files, "--image-column", "image", "--batch-size", "16", "--out", ""]) == 0
    out = capsys.readouterr().out
    assert "40 images, 3 classes, 3 batches of 16" in out and "40 images in 3 batches" in out
    assert main(["run", *files, "--image-column", "img", "--out", ""]) == 2
    assert "image_column 'img' is not a column" in capsys.readouterr().err


def test_the_lab_opens_parquet_files_and_its_class_mix_uses_the_schema_names(hub):
    pytest.importorskip("ipywidgets")
    from genlab.lab import PipelineLab

    root, _ = hub
    lab = PipelineLab(str(root / "*.parquet"), batch_size=12)
    assert lab.model.pipeline.source_kind == "parquet"
    assert list(lab.model.class_counts()) == NAMES and sum(lab.model.class_counts().values()) == 12
    assert all(name in lab.class_line.value for name in NAMES)
