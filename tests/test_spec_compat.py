"""Specs saved by earlier genlab versions load and give the very batches they gave then.

``tests/specs/v1-*.json`` were saved by genlab 0.1; ``digests-v1.json`` holds the SHA-256 of
two epochs of batches that genlab 0.1 made from each, on sample data written with a fixed seed.
``v2-*.json`` and ``digests-v2.json`` are the same for genlab 0.2 (made by ``specs/record_v2.py``):
the default chain, every op, the fused crop, the classic augment on turbo, a table and tar shards.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import genlab
from genlab import Pipeline

PINNED = Path(__file__).parent / "specs"
DIGESTS = json.loads((PINNED / "digests-v1.json").read_text())["digests"]
DIGESTS_V2 = json.loads((PINNED / "digests-v2.json").read_text())["digests"]


def compat_data(base: Path) -> dict:
    """The data every pinned spec runs on, written from fixed seeds: digits and photos folders, a
    table of the digits' relative paths and class names, and three tar shards."""
    from shardfiles import write_shards

    digits = genlab.make_sample_data(base / "digits", n_per_class=6)
    files = sorted(p for p in Path(digits).rglob("*") if p.is_file())
    table = {
        "path": [str(p.relative_to(digits)) for p in files],
        "label": [p.parent.name for p in files],
    }
    return {
        "digits": digits,
        "photos": genlab.make_sample_data(
            base / "photos", kind="photos", n_per_class=6, size=(160, 120)
        ),
        "table": table,
        "shards": write_shards(base / "shards", 3, 5, size=(20, 16))[0].parent,
    }


@pytest.fixture(scope="module")
def sample_roots(tmp_path_factory):
    return compat_data(tmp_path_factory.mktemp("compat"))


def batches_digest(pipeline: Pipeline, epochs: int) -> str:
    h = hashlib.sha256()
    for epoch in range(epochs):
        for x, y in pipeline.iter_epoch(epoch):
            h.update(x.tobytes())
            h.update(str(x.dtype).encode())
            h.update(y.tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_a_spec_saved_by_genlab_0_1_gives_the_same_batches(name, sample_roots):
    pinned = DIGESTS[name]
    spec = json.loads((PINNED / name).read_text())
    spec["source"]["params"]["root"] = str(sample_roots[pinned["dataset"]])
    pipeline = Pipeline.from_spec(spec)
    assert batches_digest(pipeline, pinned["epochs"]) == pinned["sha256"]


def _point_at(spec: dict, dataset: str, data: dict) -> dict:
    params = spec["source"]["params"]
    if dataset == "shards":
        params["shards"] = str(data["shards"])
    elif dataset == "table":
        params["root"] = str(data["digits"])
    else:
        params["root"] = str(data[dataset])
    return spec


@pytest.mark.parametrize("name", sorted(DIGESTS_V2))
def test_a_spec_saved_by_genlab_0_2_gives_the_same_batches(name, sample_roots):
    pinned = DIGESTS_V2[name]
    spec = _point_at(json.loads((PINNED / name).read_text()), pinned["dataset"], sample_roots)
    pipeline = Pipeline.from_spec(spec)
    assert batches_digest(pipeline, pinned["epochs"]) == pinned["sha256"]
