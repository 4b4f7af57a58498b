"""Tar shards and tables over HTTP (with injected faults) and S3 (moto): bounded, then named."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("aiohttp")

from servers.http_faults import FaultyHTTPServer  # noqa: E402
from shardfiles import COLOURS, write_shards  # noqa: E402

from genlab import Pipeline  # noqa: E402
from genlab.sources.remote import RetryPolicy  # noqa: E402
from genlab.sources.tar_stream import ResumableStream, Skip, iter_samples  # noqa: E402

RETRY = {
    "attempts": 3,
    "timeout": 3.0,
    "backoff": 0.05,
    "deadline": 15.0,
}  # roomy: CI cores are shared
READ = [("read_images", {"target_size": (6, 5)})]
SHARD = "/s/shard-0001.tar"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    # 40 noisy 64x48 PNGs (~9 KiB each) per shard: larger than aiohttp's 64 KiB read buffer
    write_shards(root / "s", n_shards=3, per_shard=40, size=(64, 48), noise=True)
    return root


@pytest.fixture(scope="module")
def server(files):
    with FaultyHTTPServer(files, lifetime=120, stall_seconds=5) as running:
        yield running


@pytest.fixture
def http(server):
    server._faults.clear()
    server.hits.clear()
    return server


def over(url: str, **options) -> Pipeline:
    options = {
        "batch_size": 16,
        "seed": 3,
        "stages": READ,
        "class_names": list(COLOURS),
        "retry": RETRY,
        **options,
    }
    return Pipeline.from_shards(url + "/s/shard-{0000..0002}.tar", **options)


def keys_and_pixels(p: Pipeline) -> list[tuple]:
    return [(b.info.keys.tolist(), b.x.tobytes()) for b in p.iter_epoch(0)]


def test_http_shards_stream_the_local_batches(http, files):
    assert keys_and_pixels(over(http.url)) == keys_and_pixels(over(str(files)))
    assert http.hits[SHARD] == 1  # one request per shard: streamed, not fetched per block


def test_a_connection_cut_mid_member_is_retried_and_the_bytes_are_whole(http, files):
    http.inject(SHARD, "cut")
    stream = ResumableStream(http.url + SHARD, RetryPolicy(**RETRY))
    data = b"".join(iter(lambda: stream.read(4096), b""))
    assert data == (files / SHARD.lstrip("/")).read_bytes() and http.hits[SHARD] == 2
    http.inject(SHARD, "cut")
    assert keys_and_pixels(over(http.url)) == keys_and_pixels(over(str(files)))


def test_a_dropped_stream_resumes_at_the_byte_it_reached(http, files):
    stream = ResumableStream(http.url + SHARD, RetryPolicy(**RETRY))
    head = stream.read(8192)
    stream._drop()  # the connection is gone, as after a cut: the next read opens it again
    rest = b"".join(iter(lambda: stream.read(4096), b""))
    assert head + rest == (files / SHARD.lstrip("/")).read_bytes()
    assert stream.reopened == 1 and stream.position == len(head + rest) and http.hits[SHARD] == 2


def test_a_503_burst_is_retried_then_succeeds(http, files):
    http.inject(SHARD, "503", times=2)
    p = over(http.url)
    assert keys_and_pixels(p) == keys_and_pixels(over(str(files)))
    assert http.hits[SHARD] == 3 and not p.report.skipped


def test_a_503_that_lasts_ends_in_a_named_error_within_the_deadline(http):
    http.inject(SHARD, "503", times=100)
    started = time.monotonic()
    with pytest.raises(OSError, match=r"shard-0001\.tar.*failed after 3 attempt"):
        list(over(http.url, on_error="raise").iter_epoch(0))
    assert time.monotonic() - started < RETRY["deadline"]
    p = over(http.url)  # skip: the other shards are delivered, the failure is reported
    n = sum(b.size for b in p.iter_epoch(0))
    assert n == 80 and "shard-0001.tar" in p.report.skipped[0][0]


def test_a_stall_times_out_and_is_retried_within_the_deadline(http, files):
    http.inject(SHARD, "stall")
    started = time.monotonic()
    items = list(iter_samples(http.url + SHARD, RetryPolicy(**RETRY)))
    assert time.monotonic() - started < RETRY["deadline"]
    assert not [i for i in items if isinstance(i, Skip)] and len(items) == 40
    assert http.hits[SHARD] == 2


def test_the_deadline_also_bounds_a_request_whose_answer_never_comes(http):
    # the per-request timeout (3 s) is longer than the whole file's deadline (1 s): the request,
    # stalled by the server for 5 s, must end with the deadline, not with the socket's timeout
    http.inject(SHARD, "stall")
    policy = RetryPolicy(attempts=3, timeout=3.0, backoff=0.05, deadline=1.0)
    started = time.monotonic()
    items = list(iter_samples(http.url + SHARD, policy))
    elapsed = time.monotonic() - started
    assert elapsed < policy.deadline + 0.75, elapsed
    [skip] = items
    assert isinstance(skip, Skip) and "shard-0001.tar" in skip.where, skip


def test_the_deadline_bounds_skipping_to_where_a_cut_stream_was(files):
    # cut mid-file, then reopened on a server that ignores the Range header and trickles fast
    # (a byte every 0.2 ms): the bytes already read must be skipped again, and each read returns
    # at once with the few that have arrived, so only the deadline can end the skipping
    policy = RetryPolicy(attempts=3, timeout=0.5, backoff=0.05, deadline=1.5)
    with FaultyHTTPServer(files, lifetime=60, trickle_seconds=0.0002) as server:
        server.inject(SHARD, "cut")
        server.inject(SHARD, "trickle")
        started = time.monotonic()
        items = list(iter_samples(server.url + SHARD, policy))
        elapsed = time.monotonic() - started
        assert server.hits[SHARD] == 2
    assert elapsed < policy.deadline + 0.5, elapsed
    assert isinstance(items[-1], Skip) and "deadline" in items[-1].reason, items[-1]


def test_a_csv_table_over_http(http, files, tmp_path):
    rows = "file,kind\n" + "".join(f"c{i}.png,{['a', 'b'][i % 2]}\n" for i in range(4))
    (files / "t.csv").write_text(rows)
    p = Pipeline.from_table(
        http.url + "/t.csv", "file", "kind", root=http.url + "/imgs", retry=RETRY
    )
    assert p.class_names == ("a", "b") and p.index.paths[1] == http.url + "/imgs/c1.png"


def test_shards_on_s3_equal_the_local_ones(files, monkeypatch):
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    from servers.s3 import moto_s3_server, s3_storage_options, upload_tree

    with moto_s3_server() as endpoint:
        bucket = upload_tree(endpoint, files / "s", "shards")
        options = s3_storage_options(endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", options["key"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", options["secret"])
        remote = Pipeline.from_shards(
            bucket + "/shard-{0000..0002}.tar", batch_size=16, seed=3, stages=READ, retry=RETRY
        )
        assert remote.class_names == ("0", "1", "2") and len(remote.index) == 120  # found by a scan
        local = over(str(files))
        got, want = keys_and_pixels(remote), keys_and_pixels(local)
        assert got == want
        missing = Pipeline.from_shards(
            bucket + "/shard-0009.tar", class_names=["a"], on_error="raise", retry=RETRY
        )
        with pytest.raises(OSError, match=r"shard-0009\.tar.*not found"):
            list(missing.iter_epoch(0))
    assert np.all([len(k) for k, _ in got])


def members_within(path, size: int) -> dict[str, set[str]]:
    """The extensions of each sample's members that lie whole in the first ``size`` bytes of a tar."""
    import tarfile

    whole: dict[str, set[str]] = {}
    with tarfile.open(path) as tar:
        for m in tar:
            if m.offset_data + m.size <= size:
                key, ext = m.name.split(".")
                whole.setdefault(key, set()).add(ext)
    return whole


def run_bounded(func, seconds: float):
    """``func()``'s result, or AssertionError if it is still running after ``seconds``."""
    import threading

    result: list = []
    thread = threading.Thread(target=lambda: result.append(func()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds}s"
    return result[0]


def test_a_server_trickling_bytes_is_cut_off_at_the_deadline_keeping_what_arrived(http, files):
    http.inject(SHARD, "trickle")  # one byte every 10 ms: the 360 KiB shard would take an hour
    policy = RetryPolicy(attempts=3, timeout=1.0, backoff=0.05, deadline=3.0)
    started = time.monotonic()
    items = run_bounded(lambda: list(iter_samples(http.url + SHARD, policy)), 30)
    elapsed = time.monotonic() - started
    assert elapsed < policy.deadline + 2.0  # the deadline, and margin for a loaded machine
    [skip] = [i for i in items if isinstance(i, Skip)]
    assert "shard-0001.tar" in skip.where and "deadline" in skip.reason
    assert http.hits[SHARD] == 1  # a deadline is not retried


def test_a_shard_that_fails_for_good_keeps_the_samples_that_arrived(http, files):
    http.inject(SHARD, "drop")  # the first half of the file, read, then the connection drops
    http.inject(SHARD, "503", times=20)  # and every retry fails
    items = list(iter_samples(http.url + SHARD, RetryPolicy(**RETRY)))
    samples = {i.key: set(i.fields) for i in items if not isinstance(i, Skip)}
    path = files / SHARD.lstrip("/")
    assert samples == members_within(path, path.stat().st_size // 2) and len(samples) > 5
    [skip] = [i for i in items if isinstance(i, Skip)]
    assert "failed after 3 attempt" in skip.reason


def test_the_deadline_holds_while_a_reopened_stream_is_read_up_to_where_it_was(http, files):
    http.inject(SHARD, "drop")  # half the shard arrives, then the connection drops
    http.inject(SHARD, "trickle")  # the reopening (no Range support) is then fed a byte at a time
    policy = RetryPolicy(attempts=3, timeout=1.0, backoff=0.05, deadline=4.0)
    started = time.monotonic()
    items = run_bounded(lambda: list(iter_samples(http.url + SHARD, policy)), 60)
    assert time.monotonic() - started < policy.deadline + 2.0  # margin for a loaded machine
    path = files / SHARD.lstrip("/")
    whole = members_within(path, path.stat().st_size // 2)
    assert {i.key: set(i.fields) for i in items if not isinstance(i, Skip)} == whole
    [skip] = [i for i in items if isinstance(i, Skip)]
    assert "deadline" in skip.reason
