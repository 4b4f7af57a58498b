"""A saved listing: rebuilding the index from it gives the same samples, without listing again."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from servers.trees import write_image_tree

import genlab
from genlab.sources.discover import index_folder
from genlab.sources.manifest import index_from_manifest, index_to_manifest


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    write_image_tree(root, {"cats": 3, "dogs": 2})
    (root / "dogs" / "nested").mkdir()
    write_image_tree(root / "dogs" / "nested", {"deep": 1})
    return root


def assert_same_index(a, b):
    assert a.paths == b.paths
    assert a.class_names == b.class_names
    np.testing.assert_array_equal(a.labels, b.labels)


def test_round_trip_through_json_gives_the_listed_index(tree):
    listed = index_folder(str(tree))
    manifest = json.loads(json.dumps(index_to_manifest(listed)))
    assert manifest["classes"]["dogs"][-1] == "nested/deep/img_000.png"
    assert_same_index(index_from_manifest(str(tree), manifest), listed)


def test_round_trip_for_a_zip_root(tree, tmp_path):
    archive = tmp_path / "tree.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(tree.rglob("*.*")):
            z.write(path, path.relative_to(tree).as_posix())
    root = f"zip://::{archive}"
    listed = index_folder(root)
    assert_same_index(index_from_manifest(root, index_to_manifest(listed)), listed)


def test_a_pipeline_built_from_a_manifest_does_not_list_again(tree):
    p = genlab.Pipeline.from_folder(
        tree, batch_size=2, stages=[("read_images", {"target_size": (4, 4)})]
    )
    manifest = index_to_manifest(p.index)
    write_image_tree(tree, {"birds": 2})  # a listing would now find a third class
    again = genlab.Pipeline(p.source, p.stages, index=index_from_manifest(str(tree), manifest))
    assert again.class_names == ("cats", "dogs")
    assert sum(len(y) for _, y in again) == 6
    assert genlab.Pipeline.from_folder(tree).class_names == ("birds", "cats", "dogs")


GOOD = {"version": 1, "n_files": 2, "classes": {"a": ["x.png"], "b": ["y.png"]}}


@pytest.mark.parametrize(
    "change, match",
    [
        ({"version": 2}, "version"),
        ({"classes": {}}, "classes"),
        ({"classes": {"b": ["y.png"], "a": ["x.png"]}}, "sorted"),
        ({"classes": {"a": [], "b": ["y.png"]}}, "'a' has no files"),
        ({"classes": {"a": ["../../etc/passwd"], "b": ["y.png"]}}, "leaves its folder"),
        ({"classes": {"a": ["/etc/passwd"], "b": ["y.png"]}}, "bad file"),
        ({"classes": {"a/b": ["x.png"]}, "n_files": 1}, "bad class name"),
        ({"n_files": 3}, "n_files"),
    ],
)
def test_malformed_manifests_are_rejected_naming_the_entry(change, match):
    with pytest.raises(ValueError, match=match):
        index_from_manifest("/data", {**GOOD, **change})
