"""Specs: round trip, pinned files from older versions, rejection, standalone Python export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import genlab
from genlab import Pipeline
from genlab.spec import SCHEMA_VERSION

PINNED = Path(__file__).parent / "specs"


def configured(root):
    p = Pipeline.from_folder(root, batch_size=8, seed=11, stages=[
        ("read_images", {"target_size": (20, 16), "resize": "center_crop"}),
        ("augment", {"hflip": 0.3, "rotation_p": 0.5, "cutout_p": 0.2}),
        ("rescale_images", {"scale": 1 / 255}), "shuffle_samples"])  # fmt: skip
    return p.disable("shuffle_samples")


@pytest.mark.parametrize("name", sorted(genlab.registry.names()))
def test_every_registered_stage_round_trips_with_its_defaults(name, digits_root):
    p = Pipeline.from_folder(digits_root, stages=[name])
    spec = json.loads(json.dumps(p.to_spec()))
    assert Pipeline.from_spec(spec) == p


def test_round_trip_rebuilds_the_same_batches(digits_root, tmp_path):
    p = configured(digits_root)
    path = p.save(tmp_path / "p.json")
    q = genlab.load(path)
    assert q == p and q.seed == 11 and not q.stage("shuffle_samples").enabled
    for (xa, ya), (xb, yb) in zip(p, q):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_spec_records_versions_and_everything_needed(digits_root):
    spec = configured(digits_root).to_spec()
    assert spec["format"] == "genlab.pipeline" and spec["schema_version"] == SCHEMA_VERSION
    assert spec["genlab_version"] == genlab.__version__
    assert spec["source"]["params"]["batch_size"] == 8
    assert spec["stages"][0] == {"name": "read_images", "enabled": True,
                                 "params": spec["stages"][0]["params"]}  # fmt: skip
    assert spec["stages"][0]["params"]["resize"] == "center_crop"


ROOTED_SPECS = [  # specs whose source is a root folder (the shard spec is run by test_spec_compat)
    p
    for p in sorted(PINNED.glob("v*.json"))
    if "root" in json.loads(p.read_text())["source"]["params"]
]


@pytest.mark.parametrize("pinned", ROOTED_SPECS, ids=lambda p: p.name)
def test_pinned_specs_keep_loading(pinned, digits_root):
    spec = json.loads(pinned.read_text())
    spec["source"]["params"]["root"] = str(digits_root)
    p = Pipeline.from_spec(spec)
    assert [s.name for s in p.stages] == [s["name"] for s in spec["stages"]]
    x, y = next(iter(p))
    assert len(x) == len(y) > 0


def _mutate(spec, path, value):
    target = spec
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return spec


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("format",), "other", "'format' must be 'genlab.pipeline'"),
        (("schema_version",), 99, "'schema_version' 99 is not supported"),
        (("extra",), 1, r"unknown key \['extra'\]"),
        (("stages", 0, "name"), "os.system", "unknown stage 'os.system'"),
        (
            ("stages", 0, "params", "evil"),
            "__import__('os')",
            "read_images: unknown parameter 'evil'",
        ),
        (
            ("stages", 1, "params", "hflip"),
            7,
            "augment: parameter 'hflip' must be between 0.0 and 1.0, got 7",
        ),
        (("stages", 1, "enabled"), "yes", "'enabled' must be true or false"),
        (("source", "name"), "sql", "unknown source 'sql'"),
        (("source", "params", "batch_size"), -1, "dataset: parameter 'batch_size'"),
        (("seed",), "x", "pipeline: parameter 'seed' must be a number"),
    ],
)
def test_untrusted_specs_are_rejected_by_name(path, value, message, digits_root):
    spec = _mutate(configured(digits_root).to_spec(), path, value)
    with pytest.raises(ValueError, match=message):
        Pipeline.from_spec(spec)


def test_load_rejects_non_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json' is not valid JSON"):
        genlab.load(bad)


def test_python_export_runs_standalone_and_rebuilds_the_same(digits_root, tmp_path):
    p = configured(digits_root)
    path = tmp_path / "exported.py"
    p.to_python(path)
    code = path.read_text()
    assert "import genlab\n" in code and "ipywidgets" not in code
    namespace: dict = {}
    exec(compile(code, str(path), "exec"), namespace)  # our own export, as `import` would
    assert namespace["pipeline"] == p
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "60 images in 8 batches" in result.stdout


def test_python_export_refuses_notebook_defined_stages(digits_root):
    def local_stage():
        while True:
            b = yield
            yield b

    local_stage.__module__ = "__main__"
    genlab.register("local_stage", local_stage)
    try:
        p = Pipeline.from_folder(digits_root, stages=["read_images", "local_stage"])
        with pytest.raises(ValueError, match="stage 'local_stage' is defined in __main__"):
            p.to_python()
    finally:
        genlab.registry.unregister("local_stage")


def test_a_spec_with_its_manifest_does_not_list_again(tmp_path):
    from corpus import write_class_folders

    write_class_folders(tmp_path / "data", ["a", "b"], 3)
    p = Pipeline.from_folder(
        tmp_path / "data", batch_size=4, stages=[("read_images", {"target_size": (8, 8)})]
    )
    p.save(tmp_path / "with.json", manifest=True)
    p.save(tmp_path / "without.json")
    write_class_folders(
        tmp_path / "data", ["a", "b", "c"], 4, seed=1
    )  # the folder grows after the save
    frozen, fresh = genlab.load(tmp_path / "with.json"), genlab.load(tmp_path / "without.json")
    assert frozen.class_names == ("a", "b") and len(frozen.index) == 6
    assert fresh.class_names == ("a", "b", "c")
    assert sum(len(x) for x, _ in frozen) == 6
