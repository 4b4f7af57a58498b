"""Specs saved by earlier genlab versions load and give the very batches they gave then.

``tests/specs/v1-*.json`` were saved by genlab 0.1; ``digests-v1.json`` holds the SHA-256 of
two epochs of batches that genlab 0.1 made from each, on sample data written with a fixed seed.
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


@pytest.fixture(scope="module")
def sample_roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("compat")
    return {
        "digits": genlab.make_sample_data(base / "digits", n_per_class=6),
        "photos": genlab.make_sample_data(base / "photos", kind="photos", n_per_class=6, size=(160, 120)),
    }


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
