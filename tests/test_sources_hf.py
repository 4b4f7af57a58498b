"""Hugging Face ``datasets`` objects as sources, and genlab's Parquet output read by ``datasets``."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from shardfiles import png

import genlab
from genlab import Pipeline

datasets = pytest.importorskip("datasets")

READ = [("read_images", {"target_size": (6, 5)})]
NAMES = ["zebra", "ant", "moth"]


def make(n: int = 30, decode: bool = True, multi: bool = False):
    """An in-memory Dataset (never downloaded): an Image column and ClassLabel labels."""
    label = datasets.ClassLabel(names=NAMES)
    features = datasets.Features({
        "image": datasets.Image(decode=decode),
        "label": datasets.Sequence(label) if multi else label,
    })  # fmt: skip
    labels = (
        [[i % 3, (i + 1) % 3] if i % 2 else [i % 3] for i in range(n)]
        if multi
        else [i % 3 for i in range(n)]
    )
    rows = {
        "image": [{"bytes": png((i * 8, 90, 200), noise=i), "path": None} for i in range(n)],
        "label": labels,
    }
    return datasets.Dataset.from_dict(rows, features=features)


def run(p: Pipeline, epoch: int = 0) -> list[tuple]:
    return [(b.info.keys.tolist(), b.x.tobytes(), b.y.tolist()) for b in p.iter_epoch(epoch)]


def pixels(p: Pipeline) -> np.ndarray:
    return np.concatenate([b.x for b in p.iter_epoch(0)])


def test_an_in_memory_dataset_runs_decoded_or_not_and_refuses_to_be_saved(tmp_path):
    decoded = Pipeline.from_hf(
        make(decode=True), batch_size=8, seed=2, stages=READ, rows_per_unit=7
    )
    raw = Pipeline.from_hf(make(decode=False), batch_size=8, seed=2, stages=READ, rows_per_unit=7)
    assert decoded.source_kind == "hf" and decoded.class_names == tuple(NAMES)
    assert run(decoded) == run(raw) and len(decoded) == 4
    assert sorted(k for keys, _x, _y in run(decoded) for k in keys) == list(range(30))
    parts = [run(decoded.shard(i, 2)) for i in range(2)]
    assert sorted(k for part in parts for keys, _x, _y in part for k in keys) == list(range(30))
    assert run(decoded.copy()) == run(decoded)
    threads = Pipeline.from_hf(
        make(),
        batch_size=8,
        seed=2,
        stages=READ,
        rows_per_unit=7,
        num_workers=2,
        worker_kind="process",
    )
    assert run(threads) == run(decoded)
    with pytest.raises(
        ValueError, match=r"<in-memory datasets\.Dataset> cannot be saved.*save_to_disk"
    ):
        decoded.save(tmp_path / "p.json")
    with pytest.raises(ValueError, match=r"cannot be saved"):
        decoded.to_python()
    with pytest.raises(ValueError, match=r"held in memory by the process that built"):
        len(Pipeline.from_spec(decoded.to_spec()).index)  # a spec without the object cannot list


def test_a_dataset_with_files_on_disk_becomes_a_saveable_parquet_source(tmp_path):
    memory = make()
    memory.save_to_disk(str(tmp_path / "saved"))
    on_disk = datasets.load_from_disk(str(tmp_path / "saved"))
    p = Pipeline.from_hf(on_disk, batch_size=8, seed=2, stages=READ, shuffle=False)
    assert p.source_kind == "parquet" and p.source["class_names"] == NAMES
    assert all(f.endswith(".arrow") for f in p.source["files"])
    p.save(tmp_path / "p.json")
    again = genlab.load(tmp_path / "p.json")
    assert run(again) == run(p)
    in_memory = Pipeline.from_hf(memory, batch_size=8, seed=2, stages=READ, shuffle=False)
    assert np.array_equal(pixels(in_memory), pixels(p))  # the same rows, read either way


def test_a_selection_of_its_files_or_renamed_columns_stay_in_memory(tmp_path):
    make().save_to_disk(str(tmp_path / "saved"))
    on_disk = datasets.load_from_disk(str(tmp_path / "saved"))
    picked = on_disk.select([5, 1, 9])
    p = Pipeline.from_hf(picked, batch_size=8, stages=READ, shuffle=False)
    assert p.source_kind == "hf"
    direct = np.stack(
        [
            np.asarray(picked[i]["image"].convert("RGB").resize((6, 5), Image.BILINEAR))
            for i in range(3)
        ]
    )
    assert pixels(p).shape == direct.shape == (3, 5, 6, 3)
    renamed = on_disk.rename_column("image", "picture")
    assert Pipeline.from_hf(renamed, image_column="picture", stages=READ).source_kind == "hf"


def test_splits_and_what_is_refused_are_named():
    both = datasets.DatasetDict({"train": make(12), "test": make(6)})
    with pytest.raises(ValueError, match=r"several splits \['train', 'test'\]; pass split="):
        Pipeline.from_hf(both)
    assert len(Pipeline.from_hf(both, split="test", stages=READ).index) == 6
    with pytest.raises(
        ValueError,
        match=r"image_column 'img' is not a column of the dataset; columns: \['image', 'label'\]",
    ):
        Pipeline.from_hf(make(), image_column="img")
    with pytest.raises(
        TypeError, match=r"expected a datasets\.Dataset, IterableDataset or DatasetDict, got list"
    ):
        Pipeline.from_hf([1, 2])


def test_an_iterable_dataset_streams_shard_by_shard_pil_images_included():
    from_dataset = make(12).to_iterable_dataset(num_shards=3)
    p = Pipeline.from_hf(from_dataset, batch_size=5, seed=1, stages=READ)
    assert p.source_kind == "hf" and p.class_names == tuple(NAMES) and len(p.index.units) == 3
    assert len(p) == 3 and sorted(k for keys, _x, _y in run(p) for k in keys) == list(range(12))
    parts = [run(p.shard(i, 2)) for i in range(2)]
    assert sorted(k for part in parts for keys, _x, _y in part for k in keys) == list(range(12))
    with pytest.raises(ValueError, match=r"<in-memory datasets\.IterableDataset> cannot be saved"):
        p.to_python()

    def generate(shards):
        for s in shards:
            for i in range(4):
                colour = (40 * s, 10 * i, 200)
                yield {
                    "picture": Image.fromarray(np.full((10, 12, 3), colour, np.uint8)),
                    "kind": ["a", "b"][i % 2],
                }

    pil = datasets.IterableDataset.from_generator(generate, gen_kwargs={"shards": [0, 1]})
    q = Pipeline.from_hf(
        pil, image_column="picture", label_column="kind", batch_size=8, shuffle=False, stages=READ
    )
    assert q.class_names == ("a", "b") and len(q.index) == 8
    batch = next(iter(q))
    assert batch.y.argmax(1).tolist() == [0, 1] * 4
    assert (
        batch.x[5].tolist() == np.full((5, 6, 3), (40, 10, 200), np.uint8).tolist()
    )  # shard 1, row 1
    with pytest.raises(
        ValueError,
        match=r"label_column 'label' is not a column of the dataset; columns: \['picture', 'kind'\]",
    ):
        Pipeline.from_hf(pil, image_column="picture")


def test_multi_label_class_names_come_from_the_sequence_of_classlabel():
    p = Pipeline.from_hf(make(6, multi=True), batch_size=6, stages=READ, shuffle=False)
    assert p.multi_label and p.class_names == tuple(NAMES)
    assert next(iter(p)).y.tolist()[:2] == [
        [1, 0, 0],
        [0, 1, 1],
    ]  # rows 0 and 1: [zebra], [ant, moth]


def test_materialized_parquet_is_read_by_datasets_and_by_genlab_with_the_same_images(tmp_path):
    from genlab.integrations.dask import materialize

    root = genlab.make_sample_data(tmp_path / "digits", n_per_class=3)
    folder = Pipeline.from_folder(root, batch_size=8, seed=4, stages=READ)
    manifest = materialize(
        folder, str(tmp_path / "out"), client=False, format="parquet", batches_per_task=2
    )
    assert [s["file"] for s in manifest["shards"]] == [
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    ]
    loaded = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "out" / "*.parquet"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert loaded.features["label"].names == list(folder.class_names)
    assert isinstance(loaded.features["image"], datasets.Image)
    order = [p for b in folder.source_batches(0) for p in b.info.paths]
    for i in (0, 17, 29):
        with Image.open(order[i]) as original:
            assert np.array_equal(np.asarray(loaded[i]["image"]), np.asarray(original))
        assert loaded.features["label"].names[loaded[i]["label"]] == order[i].split("/")[-2]
    expected = np.concatenate([folder.run_stages(b).x for b in folder.source_batches(0)])
    back = Pipeline.from_parquet(str(tmp_path / "out"), batch_size=8, shuffle=False, stages=READ)
    assert back.class_names == folder.class_names and np.array_equal(pixels(back), expected)
    via_hf = Pipeline.from_hf(loaded, batch_size=8, shuffle=False, stages=READ)
    assert np.array_equal(pixels(via_hf), expected)


def test_materialized_multi_label_parquet_keeps_its_label_lists(tmp_path):
    from genlab.integrations.dask import materialize

    for i in range(4):
        (tmp_path / f"{i}.png").write_bytes(png((i * 50, 0, 0)))
    table = {
        "path": [str(tmp_path / f"{i}.png") for i in range(4)],
        "tags": [["a"], ["a", "b"], [], ["b"]],
    }
    source = Pipeline.from_table(
        table, label_column="tags", batch_size=4, shuffle=False, stages=READ
    )
    materialize(source, str(tmp_path / "out"), client=False, format="parquet")
    loaded = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "out" / "*.parquet"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert loaded.features["label"].feature.names == ["a", "b"] and loaded["label"] == [
        [0],
        [0, 1],
        [],
        [1],
    ]
    back = Pipeline.from_parquet(str(tmp_path / "out"), batch_size=4, shuffle=False, stages=READ)
    assert back.multi_label and next(iter(back)).y.tolist() == [[1, 0], [1, 1], [0, 0], [0, 1]]
    assert Image.open(
        io.BytesIO(loaded.with_format("arrow")["image"][0]["bytes"].as_py())
    ).size == (12, 10)
