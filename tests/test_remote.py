"""Remote storage: retries, timeouts and listings against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("aiohttp")

from servers.http_faults import FaultyHTTPServer  # noqa: E402
from servers.trees import write_image_tree  # noqa: E402

import genlab  # noqa: E402
from genlab.sources import remote, storage  # noqa: E402
from genlab.sources.remote import RetryPolicy  # noqa: E402

FAST = RetryPolicy(attempts=3, timeout=1.0, backoff=0.05, max_backoff=0.2, deadline=10.0)
TARGET = "/cats/img_000.png"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    write_image_tree(root, {"cats": 3, "dogs": 2, "my birds": 2})
    (root / ".hidden").write_bytes(b"not listed")
    (root / "dogs" / ".DS_Store").write_bytes(b"not listed")
    return root


@pytest.fixture(scope="module")
def server(tree):
    with FaultyHTTPServer(tree, lifetime=120, stall_seconds=10) as running:
        yield running


@pytest.fixture
def http(server):
    """The module's server with faults and hit counts cleared for one test."""
    server._faults.clear()
    server.hits.clear()
    return server


# --- classification and policy ------------------------------------------------------------


def test_is_transient_reads_status_through_the_cause_chain():
    class Response(Exception):
        def __init__(self, status):
            self.status = status

    def chained(status):
        try:
            raise Response(status)
        except Response as inner:
            try:
                raise OSError("translated") from inner
            except OSError as outer:
                return outer

    assert remote.is_transient(chained(503))
    assert remote.is_transient(chained(429))
    assert not remote.is_transient(chained(404))
    assert not remote.is_transient(chained(403))
    assert not remote.is_transient(ValueError("bad value"))


@pytest.mark.parametrize(
    "field, value",
    [("attempts", 0), ("timeout", 0), ("deadline", -1), ("backoff", -0.1), ("backoff_factor", 0.5)],
)
def test_retry_policy_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**{field: value})


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(attempts=5, backoff=0.5, backoff_factor=3, max_backoff=2.0)
    assert policy.delays() == [0.5, 1.5, 2.0, 2.0]


def test_with_retries_sleeps_between_transient_failures_only():
    calls, sleeps = [], []

    def flaky(timeout):
        calls.append(timeout)
        if len(calls) < 3:
            raise ConnectionResetError("reset by peer")
        return "ok"

    policy = RetryPolicy(attempts=4, backoff=1.0, timeout=2.0)
    assert remote.with_retries(flaky, url="x://y", policy=policy, sleep=sleeps.append) == "ok"
    assert len(calls) == 3 and calls[0] == 2.0
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_with_retries_stops_at_the_deadline():
    calls = []

    def always_failing(timeout):
        calls.append(timeout)
        raise TimeoutError("stalled")

    policy = RetryPolicy(attempts=50, backoff=0.3, backoff_factor=1, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(OSError, match=r"'x://slow' failed after \d attempt"):
        remote.with_retries(always_failing, url="x://slow", policy=policy)
    assert 2 <= len(calls) <= 7  # the deadline stopped it, not the 50 attempts
    assert all(0 < timeout <= 1.0 for timeout in calls)
    assert time.monotonic() - started < 1.0 + 0.5  # no new attempt starts past the deadline


# --- http against the local server --------------------------------------------------------


def test_http_listing_matches_local_discovery(http, tree):
    assert remote.walk_files(http.url, policy=FAST) == list(storage.walk_files(str(tree)))
    assert remote.list_dirs(http.url + "/", policy=FAST) == ["cats", "dogs", "my birds"]
    listed = remote.list_files(http.url, policy=FAST)
    assert http.url + "/dogs/.DS_Store" in listed  # list_files keeps everything; walk_files filters


def test_http_read_returns_the_file_bytes(http, tree):
    data = remote.read_bytes(http.url + TARGET, policy=FAST)
    assert data == (tree / "cats" / "img_000.png").read_bytes()
    assert (
        remote.read_bytes(http.url + "/my%20birds/img_001.jpg", policy=FAST)
        == (tree / "my birds" / "img_001.jpg").read_bytes()
    )


@pytest.mark.parametrize("kind", ["503", "500", "truncate"])
def test_transient_http_failures_are_retried(http, tree, kind):
    http.inject(TARGET, kind, times=2)
    assert remote.read_bytes(http.url + TARGET, policy=FAST) == (tree / TARGET[1:]).read_bytes()
    assert http.hits[TARGET] == 3


def test_connection_resets_are_retried(http, tree):
    http.inject(TARGET, "reset", times=2)
    assert remote.read_bytes(http.url + TARGET, policy=FAST) == (tree / TARGET[1:]).read_bytes()
    # aiohttp itself re-sends once when a pooled keep-alive connection turns out dead
    assert http.hits[TARGET] >= 3


def test_a_stalled_request_times_out_and_is_retried(http, tree):
    http.inject(TARGET, "stall")
    policy = RetryPolicy(attempts=2, timeout=0.5, backoff=0.0, deadline=10.0)
    started = time.monotonic()
    assert remote.read_bytes(http.url + TARGET, policy=policy) == (tree / TARGET[1:]).read_bytes()
    assert 0.5 <= time.monotonic() - started < 5.0
    assert http.hits[TARGET] == 2


def test_a_server_that_keeps_stalling_gives_up_within_the_deadline(http):
    http.inject(TARGET, "stall", times=20)
    policy = RetryPolicy(attempts=20, timeout=0.4, backoff=0.05, deadline=1.5)
    started = time.monotonic()
    with pytest.raises(
        OSError, match=r"reading 'http://127\.0\.0\.1:\d+/cats/img_000\.png' failed"
    ):
        remote.read_bytes(http.url + TARGET, policy=policy)
    assert time.monotonic() - started < 1.5 + 1.2  # the deadline plus fsspec's 1 s poll granularity


def test_persistent_5xx_raises_naming_the_url_after_the_attempts(http):
    http.inject(TARGET, "503", times=10)
    with pytest.raises(OSError, match=r"img_000\.png' failed after 3 attempt\(s\).*HTTP 503"):
        remote.read_bytes(http.url + TARGET, policy=FAST)
    assert http.hits[TARGET] == 3


def test_missing_file_is_not_retried(http):
    with pytest.raises(FileNotFoundError, match=r"nothere\.png"):
        remote.read_bytes(http.url + "/cats/nothere.png", policy=FAST)
    assert http.hits["/cats/nothere.png"] == 1


def test_forbidden_file_is_not_retried(http):
    http.inject(TARGET, "403", times=5)
    with pytest.raises(PermissionError, match=r"img_000\.png.*HTTP 403"):
        remote.read_bytes(http.url + TARGET, policy=FAST)
    assert http.hits[TARGET] == 1


def test_listing_is_retried_on_transient_failures(http, tree):
    http.inject("/dogs/", "503", times=1)
    assert remote.walk_files(http.url, policy=FAST) == list(storage.walk_files(str(tree)))
    assert http.hits["/dogs/"] >= 2


def test_missing_remote_root_is_a_clear_error(http):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        remote.walk_files(http.url + "/nowhere/", policy=FAST)


# --- s3 against moto's server ---------------------------------------------------------------


@pytest.fixture(scope="module")
def s3(tree):
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    from servers.s3 import moto_s3_server, s3_storage_options, upload_tree

    with moto_s3_server() as endpoint:
        root = upload_tree(endpoint, tree, "genlab-remote")
        yield root, s3_storage_options(endpoint)


def test_s3_listing_and_reading_match_local(s3, tree):
    root, options = s3
    assert remote.walk_files(root, storage_options=options, policy=FAST) == list(
        storage.walk_files(str(tree))
    )
    assert remote.list_dirs(root + "/", storage_options=options) == ["cats", "dogs", "my birds"]
    data = remote.read_bytes(root + "/my birds/img_000.png", storage_options=options, policy=FAST)
    assert data == (tree / "my birds" / "img_000.png").read_bytes()


def test_s3_missing_key_is_file_not_found(s3):
    root, options = s3
    with pytest.raises(FileNotFoundError, match=r"genlab-remote/cats/none\.png"):
        remote.read_bytes(root + "/cats/none.png", storage_options=options, policy=FAST)


# --- whole pipelines over remote roots ------------------------------------------------------

E2E_STAGES = [("read_images", {"target_size": (8, 8)}), ("augment", {"hflip": 0.5})]


def pipeline_over(root, **source):
    return genlab.Pipeline.from_folder(root, batch_size=3, seed=5, stages=E2E_STAGES, **source)


QUICK_RETRIES = {"ATTEMPTS": "3", "TIMEOUT": "1", "BACKOFF": "0.01", "DEADLINE": "5"}


@pytest.fixture
def quick_retries(monkeypatch):
    """Worker-visible retry settings: 3 attempts, 1 s per request, short backoff."""
    for name, value in QUICK_RETRIES.items():
        monkeypatch.setenv(f"GENLAB_REMOTE_{name}", value)


def assert_same_batches(remote_pipeline, local_pipeline):
    got, want = list(remote_pipeline), list(local_pipeline)
    assert len(got) == len(want) > 0
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a.info.keys, b.info.keys)
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)


def test_pipeline_over_http_equals_the_local_pipeline(http, tree, quick_retries):
    remote_pipeline = pipeline_over(http.url)
    assert remote_pipeline.class_names == ("cats", "dogs", "my birds")
    assert_same_batches(remote_pipeline, pipeline_over(str(tree)))


def test_pipeline_retries_then_skips_and_counts_what_still_fails(http, tree, quick_retries):
    http.inject("/cats/img_001.jpg", "503", times=2)  # recovers on the third attempt
    http.inject("/dogs/img_000.png", "503", times=100)  # never recovers
    http.inject("/cats/img_002.png", "stall", times=100)  # never answers
    p = pipeline_over(http.url)
    started = time.monotonic()
    with pytest.warns(UserWarning, match="skipped"):
        samples = sum(len(y) for _, y in p)
    assert time.monotonic() - started < 30
    skipped = sorted(path for path, _ in p.report.skipped)
    assert skipped == [http.url + "/cats/img_002.png", http.url + "/dogs/img_000.png"]
    assert samples == len(p.index) - 2
    assert http.hits["/cats/img_001.jpg"] == 3 and http.hits["/dogs/img_000.png"] == 3


def test_pipeline_raise_names_the_url(http, quick_retries):
    http.inject("/dogs/img_001.jpg", "500", times=100)
    p = pipeline_over(http.url)
    p.set_params("read_images", on_error="raise")
    with pytest.raises(Exception, match=r"dogs/img_001\.jpg"):
        list(p)


def test_remote_tree_is_listed_once_per_pipeline(http, quick_retries):
    p = pipeline_over(http.url)
    for _ in range(2):
        list(p)
    listing_hits = {path: n for path, n in http.hits.items() if path.endswith("/")}
    assert listing_hits and set(listing_hits.values()) == {1}


def test_a_manifest_spares_the_listing(http, tree, quick_retries):
    from genlab.sources.manifest import index_from_manifest, index_to_manifest

    manifest = json.loads(json.dumps(index_to_manifest(pipeline_over(http.url).index)))
    http.hits.clear()
    p = genlab.Pipeline.from_folder(http.url, batch_size=3, seed=5, stages=E2E_STAGES)
    p = genlab.Pipeline(p.source, p.stages, seed=5, index=index_from_manifest(http.url, manifest))
    assert_same_batches(p, pipeline_over(str(tree)))
    assert not [path for path in http.hits if path.endswith("/")]  # no directory was listed


def test_pipeline_over_s3_equals_the_local_pipeline(s3, tree, quick_retries, monkeypatch):
    root, options = s3
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", options["client_kwargs"]["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", options["key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", options["secret"])
    assert_same_batches(pipeline_over(root), pipeline_over(str(tree)))
