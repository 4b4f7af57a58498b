"""Tables of paths and labels as a source: DataFrame, CSV, Parquet, multi-label, bad rows."""

from __future__ import annotations

import os

import numpy as np
import pytest

import genlab
from genlab import Pipeline

READ = [("read_images", {"target_size": (8, 6)})]


def folder_table(root) -> dict:
    """The class-folder dataset at ``root`` as a table of relative paths and class names."""
    index = Pipeline.from_folder(root).index
    files = [os.path.relpath(p, root).replace(os.sep, "/") for p in index.paths]
    return {"file": files, "kind": [f.split("/")[0] for f in files]}


def assert_same_batches(a: Pipeline, b: Pipeline) -> None:
    got, want = list(a.iter_epoch(0)), list(b.iter_epoch(0))
    assert len(got) == len(want) > 0
    for x, y in zip(got, want, strict=True):
        np.testing.assert_array_equal(x.info.keys, y.info.keys)
        np.testing.assert_array_equal(x.x, y.x)
        np.testing.assert_array_equal(x.y, y.y)


def test_a_dataframe_of_a_folder_gives_the_folder_pipelines_batches(colours_root):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(folder_table(colours_root))
    table = Pipeline.from_table(
        frame, "file", "kind", root=str(colours_root), batch_size=4, seed=3, stages=READ
    )
    folder = Pipeline.from_folder(colours_root, batch_size=4, seed=3, stages=READ)
    assert table.class_names == folder.class_names and not table.multi_label
    assert_same_batches(table, folder)


def test_csv_and_parquet_files_read_like_the_dataframe(colours_root, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(folder_table(colours_root))
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    pipelines = [
        Pipeline.from_table(
            t, "file", "kind", root=str(colours_root), batch_size=4, seed=1, stages=READ
        )
        for t in (frame, str(tmp_path / "t.csv"), str(tmp_path / "t.parquet"))
    ]
    for other in pipelines[1:]:
        assert other.class_names == pipelines[0].class_names
        assert_same_batches(other, pipelines[0])


def test_integer_labels_sort_by_number_and_index_given_class_names(colours_root):
    table = folder_table(colours_root)
    table["kind"] = [{"blue": 10, "green": 2, "red": 2}[k] for k in table["kind"]]
    p = Pipeline.from_table(table, "file", "kind", root=str(colours_root))
    assert p.class_names == ("2", "10")
    table["kind"] = [0 if k == 10 else 1 for k in table["kind"]]
    named = Pipeline.from_table(
        table, "file", "kind", root=str(colours_root), class_names=["sky", "rest"]
    )
    assert named.index.class_counts() == {"sky": 5, "rest": 10}
    table["kind"][0] = 7
    with pytest.raises(ValueError, match=r"integer label 7 is not an index into class_names"):
        len(
            Pipeline.from_table(
                table, "file", "kind", root=str(colours_root), class_names=["sky", "rest"]
            ).index
        )


def test_multi_label_strings_and_lists_give_multi_hot_rows(colours_root):
    table = folder_table(colours_root)
    joined = dict(table, kind=[f"{k}|odd" if i % 2 else k for i, k in enumerate(table["kind"])])
    listed = dict(table, kind=[k.split("|") for k in joined["kind"]])
    a = Pipeline.from_table(
        joined,
        "file",
        "kind",
        root=str(colours_root),
        label_separator="|",
        batch_size=5,
        stages=READ,
    )
    b = Pipeline.from_table(
        listed, "file", "kind", root=str(colours_root), batch_size=5, stages=READ
    )
    assert a.multi_label and b.multi_label and a.class_names == ("blue", "green", "odd", "red")
    assert a.index.class_counts() == {"blue": 5, "green": 5, "odd": 7, "red": 5}
    assert_same_batches(a, b)
    batch = next(iter(a))
    for key, row in zip(batch.info.keys, batch.y, strict=True):
        expected = {joined["kind"][key].split("|")[0], *(["odd"] if key % 2 else [])}
        assert {a.class_names[j] for j in np.flatnonzero(row)} == expected


def test_a_bad_column_names_the_columns(colours_root):
    table = folder_table(colours_root)
    with pytest.raises(
        ValueError,
        match=r"label_column 'label' is not a column of the table; columns: \['file', 'kind'\]",
    ):
        Pipeline.from_table(table, "file", "label")
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match=r"path_column 'path' is not a column of the DataFrame"):
        Pipeline.from_table(pd.DataFrame(table), label_column="kind")


def test_bad_csv_column_names_the_file_and_echoes_none_of_it(tmp_path):
    (tmp_path / "t.csv").write_text("file,kind\na.png,cat\n")
    with pytest.raises(
        ValueError,
        match=r"t\.csv': path_column 'path' is not a column of its header row \(2 columns\)$",
    ):
        len(Pipeline.from_table(str(tmp_path / "t.csv"), label_column="kind").index)


def test_rows_without_path_or_label_are_ignored_and_missing_files_skipped_by_row(colours_root):
    table = folder_table(colours_root)
    table["file"][1] = ""
    table["kind"][2] = None
    table["file"][4] = "blue/missing.png"
    p = Pipeline.from_table(
        table, "file", "kind", root=str(colours_root), batch_size=4, shuffle=False, stages=READ
    )
    assert len(p.index) == 13
    with pytest.warns(UserWarning, match="missing.png"):
        batches = list(p)
    assert sum(b.size for b in batches) == 12
    assert ("row 1", "no path") in p.report.ignored
    assert any(reason == "row 2: no label" for _, reason in p.report.ignored)
    [(path, reason)] = p.report.skipped
    assert path.endswith("missing.png") and reason.startswith("row 4: ")
    p.set_params("read_images", on_error="raise")
    with pytest.raises(Exception, match=r"missing\.png"):
        list(p)


def test_specs_record_the_table_and_rebuild_the_same_batches(colours_root, tmp_path):
    table = folder_table(colours_root)
    p = Pipeline.from_table(
        table,
        "file",
        "kind",
        root=str(colours_root),
        batch_size=4,
        seed=2,
        stages=READ,
        retry={"attempts": 2, "timeout": 3},
    )
    spec = p.to_spec()
    assert spec["source"]["name"] == "table"
    assert spec["source"]["params"]["table"] == table and spec["source"]["params"]["retry"] == {
        "attempts": 2,
        "timeout": 3.0,
    }
    loaded = genlab.load(p.save(tmp_path / "t.json"))
    assert loaded == p and loaded.source_kind == "table"
    assert_same_batches(loaded, p)
    namespace: dict = {}
    exec(p.to_python(), namespace)  # noqa: S102 - our own generated module
    assert namespace["pipeline"] == p
    with pytest.raises(ValueError, match="class-folder listing"):
        p.to_spec(manifest=True)


def test_the_lab_and_torch_see_multi_label_rows(colours_root):
    pytest.importorskip("matplotlib")
    from genlab.lab.lab_model import LabModel

    table = folder_table(colours_root)
    table["kind"] = [[k, "any"] for k in table["kind"]]
    p = Pipeline.from_table(
        table, "file", "kind", root=str(colours_root), batch_size=6, seed=4, stages=READ
    )
    model = LabModel(p)
    counts = model.class_counts()
    assert counts["any"] == 6 and sum(counts.values()) == 12
    torch_mod = pytest.importorskip("genlab.integrations.torch")
    with pytest.raises(ValueError, match="multi-label"):
        torch_mod.as_iterable_dataset(p)
    data = torch_mod.as_iterable_dataset(p, labels="onehot", rank=0, world_size=1)
    x, y = next(iter(data))
    assert tuple(x.shape) == (6, 3, 6, 8) and y.sum(dim=1).tolist() == [2] * 6


def test_dask_statistics_of_a_table_equal_the_folders(colours_root):
    from genlab.integrations.dask import channel_stats

    stages = [*READ, "rescale_images"]
    table = Pipeline.from_table(
        folder_table(colours_root),
        "file",
        "kind",
        root=str(colours_root),
        batch_size=4,
        stages=stages,
    )
    folder = Pipeline.from_folder(colours_root, batch_size=4, stages=stages)
    assert channel_stats(table, client=False) == channel_stats(folder, client=False)


def test_the_class_mix_view_counts_each_label_of_a_multi_label_batch():
    pytest.importorskip("matplotlib")
    from genlab.lab.render import class_mix_png
    from genlab.plotting import labels_of

    y = np.array([[1, 0, 1], [0, 1, 1]])
    names = ["cat", "dog", "outdoor"]
    assert labels_of(y, names) == ["cat|outdoor", "dog|outdoor"]
    single = class_mix_png(labels_of(y, names), names)
    multi = class_mix_png(labels_of(y, names), names, dict(zip(names, y.sum(axis=0).tolist())))
    assert multi.startswith(b"\x89PNG") and multi != single
