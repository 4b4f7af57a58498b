"""Dataset-wide passes on a real dask.distributed LocalCluster (2 worker processes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("distributed")

from servers.trees import write_image_tree  # noqa: E402

import genlab  # noqa: E402
from genlab.integrations import dask as gdask  # noqa: E402
from genlab.validate import validate_dataset  # noqa: E402

STAGES = [
    ("read_images", {"target_size": (8, 6)}),
    ("augment", {"hflip": 0.5, "noise_p": 0.5, "noise_std": 4.0}),
    ("rescale_images", {}),
    "shuffle_samples",
]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        host="127.0.0.1",
    ) as cluster, Client(cluster) as running:  # fmt: skip
        yield running


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask_tree")
    write_image_tree(root, {"a": 7, "b": 6, "c": 5}, size=(12, 9))
    return root


@pytest.fixture
def pipeline(root):
    return genlab.Pipeline.from_folder(root, batch_size=4, seed=11, stages=STAGES)


def pixels_before_rescale(pipeline) -> np.ndarray:
    """All pixels as read (no augmentation), straight from the stages, for the reference numbers."""
    plain = pipeline.copy()
    plain.disable("augment").disable("rescale_images").disable("shuffle_samples")
    return np.concatenate([b.x.reshape(-1, 3) for b in plain.iter_epoch(0)]).astype(np.float64)


def test_channel_stats_on_the_cluster_equal_the_single_process_numbers(client, pipeline):
    seen = []
    on_cluster = gdask.channel_stats(
        pipeline, client=client, batches_per_task=2, progress=lambda d, t: seen.append((d, t))
    )
    here = gdask.channel_stats(pipeline, client=False)
    assert on_cluster == here
    pixels = pixels_before_rescale(pipeline)
    np.testing.assert_allclose(on_cluster.mean, pixels.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(on_cluster.std, pixels.std(axis=0), rtol=1e-9)
    assert on_cluster.n_images == len(pipeline.index)
    tasks = -(-len(pipeline) // 2)
    assert seen[0] == (0, tasks) and seen[-1] == (tasks, tasks)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_applied_stats_normalise_the_data(client, pipeline):
    stats = gdask.channel_stats(pipeline, client=client)
    stats.apply_to(pipeline)
    assert pipeline.stage("rescale_images").params["mean"] == pytest.approx(stats.mean)
    pipeline.disable("augment")
    x = np.concatenate([b.x.reshape(-1, 3) for b in pipeline.iter_epoch(0)]).astype(np.float64)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=1e-4)


def test_stats_follow_the_rescale_scale():
    stats = gdask.ChannelStats((100.0, 50.0, 25.0), (10.0, 20.0, 40.0), 1, 1)
    params = stats.rescale_params(scale=1 / 255)
    assert params["mean"] == pytest.approx((100 / 255, 50 / 255, 25 / 255))
    assert params["std"] == pytest.approx((10 / 255, 20 / 255, 40 / 255))


def test_validate_files_lists_exactly_the_corrupt_files(client, tmp_path):
    write_image_tree(tmp_path, {"a": 5, "b": 4})
    good = (tmp_path / "a" / "img_001.jpg").read_bytes()
    (tmp_path / "a" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (tmp_path / "b" / "empty.png").write_bytes(b"")
    (tmp_path / "b" / "text.png").write_bytes(b"this is not an image")
    pipeline = genlab.Pipeline.from_folder(tmp_path, batch_size=2)
    report = gdask.validate_files(pipeline, client=client.scheduler.address, files_per_task=3)
    expected = validate_dataset(pipeline.index)
    assert report.bad == expected.bad
    assert [p.rsplit("/", 1)[1] for p, _ in report.bad] == [
        "truncated.jpg",
        "empty.png",
        "text.png",
    ]
    assert report.checked == len(pipeline.index) == 12
    assert all(reason for _, reason in report.bad)


def test_materialized_shards_equal_the_pipeline_batches(client, pipeline, tmp_path):
    dest = (tmp_path / "shards").as_uri()
    manifest = gdask.materialize(pipeline, dest, client=client, epoch=2, batches_per_task=1)
    written = json.loads((tmp_path / "shards" / "manifest.json").read_text())
    assert written == manifest
    assert manifest["n_batches"] == len(pipeline) and manifest["n_samples"] == len(pipeline.index)
    assert genlab.Pipeline.from_spec(manifest["spec"]) == pipeline
    expected = list(pipeline.iter_epoch(2))
    read_back = list(gdask.iter_shards(dest))
    assert len(read_back) == len(expected)
    for got, want in zip(read_back, expected, strict=True):
        assert got.info.index == want.info.index
        np.testing.assert_array_equal(got.info.keys, want.info.keys)
        np.testing.assert_array_equal(got.x, want.x)
        np.testing.assert_array_equal(got.y, want.y)


def test_a_damaged_shard_is_detected(pipeline, tmp_path):
    dest = str(tmp_path / "shards")
    manifest = gdask.materialize(pipeline, dest, client=False)
    victim = tmp_path / "shards" / manifest["shards"][1]["file"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    victim.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"batch-000001\.npz.*SHA-256"):
        list(gdask.iter_shards(dest))


def test_materialize_to_s3(client, pipeline):
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    from servers.s3 import moto_s3_server, s3_storage_options

    with moto_s3_server() as endpoint:
        import boto3

        options = s3_storage_options(endpoint)
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=options["key"], aws_secret_access_key=options["secret"],
        ).create_bucket(Bucket="shards")  # fmt: skip
        manifest = gdask.materialize(
            pipeline, "s3://shards/run1", client=client, storage_options=options
        )
        read_back = list(gdask.iter_shards("s3://shards/run1", options))
    assert len(read_back) == manifest["n_batches"] == len(pipeline)
    for got, want in zip(read_back, pipeline.iter_epoch(0), strict=True):
        np.testing.assert_array_equal(got.x, want.x)


def test_bad_progress_is_rejected(pipeline):
    with pytest.raises(TypeError, match="progress"):
        gdask.channel_stats(pipeline, client=False, progress="yes")


def test_progress_true_shows_a_tqdm_bar(pipeline, capsys):
    gdask.validate_files(pipeline, client=False, files_per_task=5, progress=True)
    err = capsys.readouterr().err
    assert "validate" in err and "4/4" in err
