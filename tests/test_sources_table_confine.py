"""Tables from untrusted hands: paths confined to the root, error messages that echo no file content."""

from __future__ import annotations

import json
import os

import pytest

import genlab
from genlab import Pipeline
from genlab.sources.table import index_table

ROWS = {
    "path": [
        "a.png", "../b.png", "/etc/passwd", "sub/../../c.png", "sub/./d.png", "sub/../e.png",
        "http://elsewhere/x.png", "file:///etc/hosts",
    ],
    "label": ["x"] * 8,
}  # fmt: skip
OUTSIDE = [
    "../b.png",
    "/etc/passwd",
    "sub/../../c.png",
    "http://elsewhere/x.png",
    "file:///etc/hosts",
]


def test_confine_to_root_keeps_rows_inside_the_root_and_names_the_others(tmp_path):
    index = index_table(ROWS, root=str(tmp_path), confine_to_root=True)
    inside = ("a.png", "sub/./d.png", "sub/../e.png")
    assert index.paths == tuple(os.path.join(tmp_path, *p.split("/")) for p in inside)
    refused = dict(index.ignored)
    assert sorted(refused) == sorted(OUTSIDE)
    assert refused["../b.png"] == "row 1: outside the root (confine_to_root)"
    assert refused["/etc/passwd"] == "row 2: outside the root (confine_to_root)"


def test_without_confinement_every_row_is_listed(tmp_path):
    index = index_table(ROWS, root=str(tmp_path))
    assert len(index.paths) == 8 and not index.ignored


def test_confine_to_root_needs_a_root():
    with pytest.raises(ValueError, match=r"confine_to_root needs a 'root'"):
        index_table(ROWS, confine_to_root=True)


def table_spec(tmp_path) -> dict:
    return Pipeline.from_table(ROWS, root=str(tmp_path)).to_spec()


def test_an_untrusted_spec_is_confined_and_a_trusted_one_is_not(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(table_spec(tmp_path)))
    assert len(genlab.load(path).index.paths) == 8
    untrusted = genlab.load(path, trusted=False)
    assert untrusted.source["confine_to_root"] is True
    assert len(untrusted.index.paths) == 3 and len(untrusted.index.ignored) == 5


def test_confinement_is_recorded_in_the_spec_and_the_python_export(tmp_path):
    p = Pipeline.from_table(ROWS, root=str(tmp_path), confine_to_root=True)
    assert p.to_spec()["source"]["params"]["confine_to_root"] is True
    assert "confine_to_root=True" in repr(p)
    assert "confine_to_root" not in Pipeline.from_table(ROWS).to_spec()["source"]["params"]


def test_a_spec_naming_a_file_that_is_not_a_table_does_not_echo_it(tmp_path):
    secret = tmp_path / "notes.txt"
    secret.write_text("SECRET-first-line: do not show\nsecond line\n")
    spec = table_spec(tmp_path)
    spec["source"]["params"]["table"] = str(secret)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=r"notes\.txt': path_column 'path' is not a column") as e:
        len(genlab.load(path).index)
    assert "SECRET" not in str(e.value) and "second" not in str(e.value)
