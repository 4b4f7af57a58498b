"""Tar shards (WebDataset layout) as a streaming source: order, splits, labels, damage, specs."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import pytest
from shardfiles import COLOURS, add_member, png, write_shards

import genlab
from genlab import Pipeline
from genlab.sources.shards import expand_braces, expand_shards
from genlab.sources.streaming import _shuffled

READ = [("read_images", {"target_size": (6, 5)})]
NAMES = tuple(COLOURS)  # blue, green, red: sample i has class i % 3


@pytest.fixture
def shards(tmp_path):
    write_shards(tmp_path / "s", n_shards=4, per_shard=5)
    return tmp_path / "s"


def over(folder, **options) -> Pipeline:
    options = {
        "batch_size": 4,
        "seed": 7,
        "shuffle_buffer": 6,
        "stages": READ,
        "class_names": list(NAMES),
        **options,
    }
    return Pipeline.from_shards(str(folder), **options)


def sample_numbers(batch) -> list[int]:
    """The dataset numbers of a batch's samples, from their ``shard#key`` names."""
    return [int(p.rsplit("#", 1)[1].split(".")[0]) for p in batch.info.paths]


def test_brace_patterns_lists_and_folders_name_the_same_shards(shards):
    folder = expand_shards(str(shards))
    assert expand_shards(f"{shards}/shard-{{0000..0003}}.tar") == folder
    assert (
        expand_shards([f"{shards}/shard-{{0000..0001}}.tar", f"{shards}/shard-000{{2,3}}.tar"])
        == folder
    )
    assert expand_braces("a{1..3}") == ["a1", "a2", "a3"]
    with pytest.raises(ValueError, match=r"runs backwards"):
        expand_braces("x{3..1}")
    with pytest.raises(FileNotFoundError, match="not a .tar file"):
        expand_shards(str(shards / "nothing"))


def test_an_epoch_reads_every_sample_once_with_its_label_and_pixels(shards):
    p = over(shards)
    batches = list(p)
    numbers = [n for b in batches for n in sample_numbers(b)]
    assert sorted(numbers) == list(range(20)) and len(batches) == len(p) == 5
    for b in batches:
        for n, image, row in zip(sample_numbers(b), b.x, b.y, strict=True):
            assert NAMES[int(np.argmax(row))] == NAMES[n % 3]
            assert tuple(image[0, 0]) == COLOURS[NAMES[n % 3]]
    assert numbers != sorted(numbers)  # the stream was mixed


def test_same_seed_same_batches_and_each_epoch_is_reshuffled(shards):
    a, b = over(shards), over(shards)
    first = [sample_numbers(x) for x in a]
    assert first == [sample_numbers(x) for x in b]
    assert [sample_numbers(x) for x in a] != first  # epoch 1
    plain = [n for x in over(shards, shuffle=False) for n in sample_numbers(x)]
    assert plain == list(range(20))


def test_splits_take_whole_shards_disjoint_and_complete(shards):
    p = over(shards)
    parts = [p.shard(i, 3) for i in range(3)]
    seen = []
    for part in parts:
        batches = list(part.iter_epoch(2))
        assert sum(b.size for b in batches) == 5 * len(
            {n // 5 for b in batches for n in sample_numbers(b)}
        )
        assert len(batches) == len(part) or part.epoch != 2
        seen += [n for b in batches for n in sample_numbers(b)]
    assert sorted(seen) == list(range(20))
    again = [n for b in p.shard(1, 3).iter_epoch(2) for n in sample_numbers(b)]
    assert again == [n for b in parts[1].iter_epoch(2) for n in sample_numbers(b)]


def test_worker_processes_give_the_in_process_batches(shards):
    want = list(over(shards).iter_epoch(0))
    got = list(over(shards, num_workers=2).iter_epoch(0))
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.info.keys, b.info.keys)


def test_the_shuffle_buffer_holds_at_most_its_size():
    taken = []

    def source():
        for i in range(100):
            taken.append(i)
            yield (i,)

    rng = np.random.default_rng(0)
    out = []
    for item in _shuffled(source(), 8, rng):
        assert len(taken) - len(out) <= 8 + 1
        out.append(item)
    assert sorted(i for (i,) in out) == list(range(100))


def test_labels_from_txt_and_json_and_a_scan_finds_the_classes(tmp_path):
    write_shards(tmp_path / "txt", 2, 3, label="txt")
    write_shards(tmp_path / "json", 2, 3, label="json")
    write_shards(tmp_path / "cls", 2, 3, label="cls")
    txt = Pipeline.from_shards(str(tmp_path / "txt"), batch_size=3, stages=READ)
    assert txt.class_names == NAMES and txt.index.counts == (3, 3)
    js = Pipeline.from_shards(str(tmp_path / "json"), batch_size=3, stages=READ)
    for a, b in zip(txt.iter_epoch(0), js.iter_epoch(0), strict=True):
        np.testing.assert_array_equal(a.y, b.y)
    cls = Pipeline.from_shards(str(tmp_path / "cls"), batch_size=3, stages=READ)
    assert cls.class_names == ("0", "1", "2")


def test_multi_label_json_lists_are_multi_hot(tmp_path):
    write_shards(tmp_path / "m", 2, 4, multi=True)
    p = Pipeline.from_shards(str(tmp_path / "m"), batch_size=8, shuffle=False, stages=READ)
    assert p.multi_label and p.class_names == ("blue", "even", "green", "red")
    batch = next(iter(p))
    for n, row in zip(sample_numbers(batch), batch.y, strict=True):
        assert {p.class_names[j] for j in np.flatnonzero(row)} == {
            NAMES[n % 3],
            *(["even"] if n % 2 == 0 else []),
        }


def test_a_truncated_shard_keeps_what_came_before_and_reports_the_rest(shards):
    path = shards / "shard-0001.tar"
    with tarfile.open(path) as tar:
        cut = tar.getmember("000007.png").offset_data + 10
    path.write_bytes(path.read_bytes()[:cut])
    p = over(shards, shuffle=False)
    batches = list(p)
    numbers = [n for b in batches for n in sample_numbers(b)]
    assert set(numbers) == set(range(7)) | set(range(10, 20))
    [(where, reason)] = p.report.skipped
    assert "shard-0001.tar#" in where and "unreadable" in reason
    with pytest.raises(OSError, match=r"shard-0001\.tar"):
        list(over(shards, on_error="raise"))


def test_a_corrupt_header_and_a_sample_without_label_are_reported(tmp_path):
    folder = tmp_path / "bad"
    write_shards(folder, 1, 3)
    with tarfile.open(folder / "shard-0001.tar", "w") as tar:
        add_member(tar, "000100.png", png(COLOURS["red"]))  # no label member
        add_member(tar, "000101.png", png(COLOURS["red"]))
        add_member(tar, "000101.cls", b"2")
    raw = bytearray((folder / "shard-0001.tar").read_bytes())
    (folder / "shard-0002.tar").write_bytes(bytes(raw[:512]) + b"\x17" * 700 + bytes(raw[1200:]))
    p = Pipeline.from_shards(
        str(folder), batch_size=2, shuffle=False, class_names=list(NAMES), stages=READ
    )
    batches = list(p)
    assert sum(b.size for b in batches) == 4  # 3 + 1; the damaged copy ends at its second header
    reasons = dict(p.report.skipped)
    assert reasons[f"{folder}/shard-0001.tar#000100"].startswith("no label member")
    # the damaged copy: its first sample arrived whole (and has no label), then the header is bad
    assert reasons[f"{folder}/shard-0002.tar#000100"].startswith("no label member")
    damaged = reasons[f"{folder}/shard-0002.tar#000100.png"]
    assert "unreadable after member '000100.png'" in damaged


def test_materialized_tar_shards_stream_the_folder_back(colours_root, tmp_path):
    from genlab.integrations.dask import iter_shards, materialize

    folder = Pipeline.from_folder(colours_root, batch_size=4, seed=2, stages=READ)
    manifest = materialize(
        folder, str(tmp_path / "out"), client=False, format="tar", batches_per_task=2
    )
    assert manifest["kind"] == "tar" and [s["n"] for s in manifest["shards"]] == [8, 7]
    streamed = Pipeline.from_shards(str(tmp_path / "out"), batch_size=4, stages=READ)
    assert streamed.class_names == folder.class_names and streamed.index.counts == (8, 7)
    by_key = {}
    for b in folder.iter_epoch(0):
        by_key.update(
            {int(k): (x, tuple(y)) for k, x, y in zip(b.info.keys, b.x, b.y, strict=True)}
        )
    got = 0
    for b in streamed:
        for name, x, y in zip(b.info.paths, b.x, b.y, strict=True):
            key = int(name.rsplit("#", 1)[1].split(".")[0])
            np.testing.assert_array_equal(x, by_key[key][0])
            assert tuple(y) == by_key[key][1]
            got += 1
    assert got == 15
    with pytest.raises(ValueError, match="from_shards"):
        next(iter_shards(str(tmp_path / "out")))


def test_specs_record_shards_and_retry_and_rebuild_the_same_batches(shards, tmp_path):
    p = over(shards, retry={"attempts": 2, "deadline": 9})
    spec = json.loads(json.dumps(p.to_spec()))
    assert spec["source"]["name"] == "shards" and spec["source"]["params"]["retry"] == {
        "attempts": 2,
        "deadline": 9.0,
    }
    loaded = genlab.load(p.save(tmp_path / "s.json"))
    assert loaded == p
    assert [sample_numbers(b) for b in loaded.iter_epoch(3)] == [
        sample_numbers(b) for b in p.iter_epoch(3)
    ]
    assert next(p.iter_epoch(0)).info.extra["retry"].attempts == 2
    with pytest.raises(ValueError, match=r"parameter 'retry' has unknown setting 'tries'"):
        over(shards, retry={"tries": 3})
    spec["source"]["name"] = "webdataset"
    with pytest.raises(
        ValueError,
        match=r"unknown source 'webdataset'; known source kinds: \['annotated_table', 'coco', 'dataset', 'hf', 'parquet', 'segmentation', 'shards', 'table', 'voc', 'yolo'\]",
    ):
        Pipeline.from_spec(spec)


def test_torch_workers_split_the_shards(shards):
    torch_mod = pytest.importorskip("genlab.integrations.torch")
    loader = torch_mod.make_dataloader(
        over(shards), num_workers=2, with_keys=True, rank=0, world_size=1
    )
    keys = [int(k) for _, _, ks in loader for k in ks]
    assert sorted(k % 2**32 + 5 * (k // 2**32) for k in keys) == list(range(20))
