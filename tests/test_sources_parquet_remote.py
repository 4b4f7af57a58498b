"""Parquet over HTTP (the local test server): ranged reads, dropped connections retried, bounded."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("aiohttp")
pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

from servers.http_faults import FaultyHTTPServer  # noqa: E402
from servers.http_ranges import RangeHTTPServer  # noqa: E402
from shardfiles import png  # noqa: E402

from genlab import Pipeline  # noqa: E402
from genlab.sources.parquet_files import RangeFile  # noqa: E402
from genlab.sources.remote import RetryPolicy  # noqa: E402

RETRY = {"attempts": 3, "timeout": 3.0, "backoff": 0.05, "deadline": 15.0}
READ = [("read_images", {"target_size": (6, 5)})]
FILE = "/d/train.parquet"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    (root / "d").mkdir()
    # 60 noisy 64x48 PNGs in row groups of 10: each column chunk is one ranged read
    blobs = [png((i * 4, 90, 200), size=(64, 48), noise=i) for i in range(60)]
    table = pa.table({"image": blobs, "label": [["cat", "dog", "owl"][i % 3] for i in range(60)]})
    pq.write_table(table, root / "d" / "train.parquet", row_group_size=10)
    return root


@pytest.fixture(scope="module")
def server(files):
    with RangeHTTPServer(files, lifetime=120, stall_seconds=5) as running:
        yield running


@pytest.fixture
def http(server):
    server._faults.clear()
    server.hits.clear()
    return server


def over(url: str, **options) -> Pipeline:
    options = {"batch_size": 16, "seed": 3, "stages": READ, "retry": RETRY, **options}
    return Pipeline.from_parquet(url, **options)


def keys_and_pixels(p: Pipeline) -> list[tuple]:
    return [(b.info.keys.tolist(), b.x.tobytes()) for b in p.iter_epoch(0)]


def test_http_parquet_streams_the_local_batches_by_ranged_reads(http, files):
    local = keys_and_pixels(over(str(files / "d" / "train.parquet")))
    assert keys_and_pixels(over(http.url + FILE)) == local
    size = (files / "d" / "train.parquet").stat().st_size
    stream = RangeFile(http.url + FILE, RetryPolicy(**RETRY))
    stream.seek(-8, 2)
    assert (
        stream.read() == (files / "d" / "train.parquet").read_bytes()[-8:] and stream.size == size
    )
    assert stream.whole_reads == 0  # the server answered the range, not the whole file


def test_a_dropped_connection_is_retried_and_gives_the_same_batches(http, files):
    local = keys_and_pixels(over(str(files / "d" / "train.parquet")))
    p = over(http.url + FILE)
    assert (
        len(p.index) == 60
    )  # the footer is read; now every read of a row group is a GET of one range
    http.inject(FILE, "reset", times=1)
    http.inject(FILE, "cut", times=1)
    hits = http.hits[FILE]
    assert keys_and_pixels(p) == local
    assert http.hits[FILE] >= hits + 2 + 6  # the two failed requests were made again


def test_a_connection_that_keeps_failing_is_a_clear_error_in_bounded_time(http):
    http.inject(FILE, "reset", times=50)
    started = time.monotonic()
    with pytest.raises(OSError, match=r"train\.parquet' failed after 3 attempt\(s\)"):
        len(over(http.url + FILE).index)
    assert time.monotonic() - started < RETRY["deadline"]


def test_a_row_group_that_cannot_be_read_is_skipped_and_named(http):
    p = over(http.url + FILE, shuffle=False)
    assert len(p.index) == 60
    http.inject(FILE, "reset", times=6)  # every attempt (aiohttp tries a reset GET twice) fails
    batches = list(p.source_batches(0))
    skipped = [s for b in batches for s in b.info.skipped]
    assert sum(len(b.y) for b in batches) == 50
    assert (
        skipped[0][0] == f"{http.url}{FILE}#rows=0..9" and "row group 0 unreadable" in skipped[0][1]
    )
    strict = over(http.url + FILE, shuffle=False, on_error="raise")
    assert len(strict.index) == 60
    http.inject(FILE, "reset", times=6)
    with pytest.raises(OSError, match=r"train\.parquet' row group 0: reading .* failed after 3"):
        list(strict.source_batches(0))


def test_a_server_that_ignores_ranges_still_gives_the_batches_with_a_warning(files):
    local = keys_and_pixels(over(str(files / "d" / "train.parquet")))
    with FaultyHTTPServer(files, lifetime=60) as plain:
        with pytest.warns(UserWarning, match="ignores Range requests"):
            assert keys_and_pixels(over(plain.url + FILE)) == local


def test_parquet_on_s3_by_glob_equals_the_local_files(files, monkeypatch):
    s3fs = pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    s3fs.S3FileSystem.clear_instance_cache()  # an earlier test's filesystem points at its own server
    from servers.s3 import moto_s3_server, s3_storage_options, upload_tree

    local = keys_and_pixels(over(str(files / "d" / "train.parquet")))
    with moto_s3_server() as endpoint:
        bucket = upload_tree(endpoint, files / "d", "hub")
        options = s3_storage_options(endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", options["key"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", options["secret"])
        remote = over(bucket + "/*.parquet")
        assert remote.index.files == (bucket + "/train.parquet",)
        assert remote.class_names == ("cat", "dog", "owl") and keys_and_pixels(remote) == local
        with pytest.raises(
            FileNotFoundError, match=r"no file matches 's3://hub/nothing-\*\.parquet'"
        ):
            len(over(bucket + "/nothing-*.parquet").index)
