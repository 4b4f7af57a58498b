"""Malformed specs and source inputs: each a ValueError naming the file, the key and what was expected.

Never a TypeError, a RecursionError, a UnicodeDecodeError without the file, an unbounded expansion,
or a message that echoes the content of a file that is not what it should be.
"""

from __future__ import annotations

import json
import time

import pytest

import genlab
from genlab import Pipeline
from genlab.sources.shards import MAX_SHARDS, expand_braces
from genlab.spec import MAX_SPEC_DEPTH


def folder_spec(root) -> dict:
    return Pipeline.from_folder(root, batch_size=4, stages=["read_images"]).to_spec()


@pytest.mark.parametrize("name", [["dataset"], {"kind": "dataset"}, None, 3])
def test_a_source_name_that_is_not_a_string_is_a_value_error(name, digits_root):
    spec = folder_spec(digits_root)
    spec["source"]["name"] = name
    with pytest.raises(ValueError, match=rf"unknown source {name!r}".replace("[", r"\[")):
        Pipeline.from_spec(spec)


def nested_one_of(depth: int) -> dict:
    op: dict = {"name": "hflip", "params": {"p": 0.5}}
    for _ in range(depth):
        op = {"name": "one_of", "params": {"ops": [op]}}
    return op


def test_one_of_300_deep_is_refused_at_the_stated_nesting_limit(digits_root, tmp_path):
    spec = folder_spec(digits_root)
    spec["stages"].append({"name": "one_of", "params": nested_one_of(300)["params"]})
    with pytest.raises(ValueError, match=rf"nested deeper than {MAX_SPEC_DEPTH} levels at 'stages"):
        Pipeline.from_spec(spec)
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=rf"deep\.json'.*nested deeper than {MAX_SPEC_DEPTH}"):
        genlab.load(path)


def test_a_few_nested_groups_are_within_the_limit(digits_root):
    spec = folder_spec(digits_root)
    spec["stages"].append({"name": "one_of", "params": nested_one_of(4)["params"]})
    assert Pipeline.from_spec(spec).stages[-1].name == "one_of"


def test_json_nested_100000_deep_is_a_value_error_naming_the_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=rf"deep\.json'.*nested deeper than {MAX_SPEC_DEPTH}"):
        genlab.load(path)


def test_a_spec_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"format": "genlab.pipeline", "x": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.json' is not UTF-8 text \(byte 39\)"):
        genlab.load(path)


def test_a_bad_spec_file_names_the_file(digits_root, tmp_path):
    spec = folder_spec(digits_root)
    spec["source"]["params"]["batch_size"] = "many"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=r"mine\.json': .*parameter 'batch_size' must be"):
        genlab.load(path)


def test_a_csv_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("path,label\nb\u00e9b\u00e9.png,cat\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"t\.csv' is not UTF-8 text \(byte 12\)"):
        len(Pipeline.from_table(str(path)).index)


def test_a_fake_parquet_file_names_the_file(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    path.write_text("path,label\nsecret-first-line,cat\n")
    with pytest.raises(ValueError, match=r"t\.parquet' is not a readable Parquet file") as error:
        len(Pipeline.from_table(str(path)).index)
    assert "secret" not in str(error.value)


def test_a_parquet_path_column_of_bytes_reads_as_text(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "t.parquet"
    table = pa.table({"path": pa.array([b"a.png", b"b.png"], pa.binary()), "label": ["x", "y"]})
    pq.write_table(table, path)
    index = Pipeline.from_table(str(path), root="/data").index
    assert index.paths == ("/data/a.png", "/data/b.png")


def test_a_huge_brace_range_is_refused_beyond_the_cap_at_once():
    started = time.monotonic()
    with pytest.raises(
        ValueError, match=rf"expands to 1000000000000 names, more than the limit of {MAX_SHARDS}"
    ):
        expand_braces("s3://b/train-{000000000000..999999999999}.tar")
    with pytest.raises(ValueError, match=r"more than"):
        len(Pipeline.from_shards("s3://b/{0..99999}-{0..99999}.tar", class_names=["a"]).index)
    assert time.monotonic() - started < 1.0
    assert len(expand_braces("{0..999}-{0..9}")) == 10_000


@pytest.mark.parametrize(
    "manifest, message",
    [
        ({"class_names": "abc"}, r"'class_names' must be a list of class names, got 'abc'"),
        ({"shards": {"file": "x"}}, r"'shards' must be a list of \{'file', 'n'\} objects"),
        ({"shards": [{"file": "shard-0000.tar", "n": "3"}]}, r"'shards' must be a list of"),
        ({"multi_label": "yes"}, r"'multi_label' must be true or false, got 'yes'"),
    ],
)
def test_a_genlab_shard_manifest_of_the_wrong_shape_names_the_file_and_key(
    tmp_path, manifest, message
):
    from shardfiles import write_shards

    write_shards(tmp_path, 1, 3)
    good = {"format": "genlab.shards", "kind": "tar", "class_names": ["a", "b", "c"]}
    (tmp_path / "manifest.json").write_text(json.dumps({**good, **manifest}))
    with pytest.raises(ValueError, match=rf"manifest\.json'.*{message}"):
        len(Pipeline.from_shards(str(tmp_path)).index)


@pytest.mark.parametrize("text", ["[" * 100_000, "[1, 2]", "not json", '{"format": "other"}'])
def test_a_manifest_that_is_not_genlabs_is_passed_over_and_the_shards_scanned(tmp_path, text):
    from shardfiles import write_shards

    write_shards(tmp_path, 1, 3)
    (tmp_path / "manifest.json").write_text(text)
    p = Pipeline.from_shards(str(tmp_path))
    assert p.class_names == ("0", "1", "2") and len(p.index) == 3


def test_a_csv_the_csv_module_refuses_is_a_value_error_naming_file_and_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("path,label\na.png,cat\n" + "x" * 200_000 + ",dog\n")
    with pytest.raises(
        ValueError, match=r"t\.csv' cannot be read as CSV after line 2: field larger"
    ) as e:
        len(Pipeline.from_table(str(path)).index)
    assert "xxx" not in str(e.value)
