"""Fuzzing the shard reader: hypothesis-built tar streams and a loopback server that misbehaves.

Each property runs a bounded number of examples with a deadline, so the file takes seconds in CI.
The oracle for a tar is a plain re-statement of the documented rules (names normalised as tar does,
unsafe and hidden ones named in skips, consecutive members grouped into samples, a second
member with one extension reported): every member that arrived whole is in a sample or in a Skip.
"""

from __future__ import annotations

import io
import tarfile
import time
from typing import NamedTuple

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from genlab.sources.tar_stream import Sample, Skip, iter_samples  # noqa: E402

FUZZ = settings(max_examples=60, deadline=5000, database=None, derandomize=True)

PREFIXES = [
    "",
    "./",
    "d/",
    "d//",
    "d/./",
    "./d/",
    "/",
    "../",
    "d/../../",
    "d/../",
    ".h/",
    "__MACOSX/",
]
KEYS = ["0001", "0002", "0003"]
EXTS = [".png", ".cls", ".seg.png", ".PNG", ""]
FORMATS = [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]

members_strategy = st.lists(
    st.tuples(
        st.sampled_from(PREFIXES),
        st.sampled_from(KEYS),
        st.sampled_from(EXTS),
        st.binary(max_size=1500),
    ),
    max_size=12,
)


def build(members, fmt) -> tuple[bytes, list[tuple[str, bytes, int]]]:
    """The tar bytes and, per member, its name, data and the offset where its data ends."""
    buffer = io.BytesIO()
    placed = []
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for prefix, key, ext, data in members:
            info = tarfile.TarInfo(prefix + key + ext)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
            placed.append((info.name, data, buffer.tell() - (-len(data) % 512)))
    return buffer.getvalue(), placed


def expected(placed, cut: int) -> tuple[list[tuple[str, dict]], set[str]]:
    """The samples and the names of the reported members that the rules give for ``data[:cut]``."""
    samples: list[tuple[str, dict]] = []
    reported: set[str] = set()
    for name, data, end in placed:
        if end > cut:
            break
        parts = name.split("/")
        if name.startswith("/") or ".." in parts:
            reported.add(name)
            continue
        kept = [p for p in parts if p not in ("", ".")]
        if any(p.startswith(".") or p == "__MACOSX" for p in kept):
            reported.add(name)
            continue
        folder, base = "/".join(kept[:-1]), kept[-1]
        stem, _, ext = base.partition(".")
        key = f"{folder}/{stem}" if folder else stem
        if not samples or samples[-1][0] != key:
            samples.append((key, {}))
        if ext.lower() in samples[-1][1]:
            reported.add(name)
        else:
            samples[-1][1][ext.lower()] = data
    return samples, reported


def read_all(tmp_path, data: bytes) -> list:
    path = tmp_path / "fuzz.tar"
    path.write_bytes(data)
    return list(iter_samples(str(path)))


@FUZZ
@given(members=members_strategy, fmt=st.sampled_from(FORMATS), cut=st.floats(0, 1))
def test_every_member_that_arrived_is_delivered_or_named(tmp_path_factory, members, fmt, cut):
    data, placed = build(members, fmt)
    cut_at = int(len(data) * cut) if cut < 1 else len(data)
    items = read_all(tmp_path_factory.mktemp("t"), data[:cut_at])
    got = [(i.key, i.fields) for i in items if isinstance(i, Sample)]
    want, reported = expected(placed, cut_at)
    assert got == want
    named = {i.where.rsplit("#", 1)[1] for i in items if isinstance(i, Skip)}
    assert reported <= named
    faults = [i for i in items if isinstance(i, Skip) and "unreadable" in i.reason]
    assert len(faults) <= 1 and (cut_at < len(data) or not faults)


@FUZZ
@given(
    members=members_strategy,
    fmt=st.sampled_from(FORMATS),
    damage=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=12)), max_size=4),
)
def test_damaged_bytes_end_promptly_in_samples_and_skips(tmp_path_factory, members, fmt, damage):
    data, _ = build(members, fmt)
    raw = bytearray(data)
    for where, patch in damage:
        at = int(where * max(len(raw) - len(patch), 0))
        raw[at : at + len(patch)] = patch
    started = time.monotonic()
    items = read_all(tmp_path_factory.mktemp("t"), bytes(raw))
    assert time.monotonic() - started < 2.0
    assert all(isinstance(i, (Sample, Skip)) for i in items)
    assert sum(len(s.fields) for s in items if isinstance(s, Sample)) <= len(members)


SIZE_FIELD = slice(124, 136)


@FUZZ
@given(
    members=members_strategy.filter(bool),
    which=st.integers(0, 11),
    size=st.sampled_from([2**33, 2**40, 2**60, 2**62, 8**11 - 1]),
)
def test_a_header_claiming_a_huge_size_ends_at_the_real_end(tmp_path_factory, members, which, size):
    data, placed = build(members, tarfile.GNU_FORMAT)
    start = placed[which % len(placed)][2] - len(placed[which % len(placed)][1]) - 512
    raw = bytearray(data)
    header = tarfile.TarInfo.frombuf(bytes(raw[start : start + 512]), "utf-8", "surrogateescape")
    header.size = size
    raw[start : start + 512] = header.tobuf(tarfile.GNU_FORMAT)[-512:]
    started = time.monotonic()
    items = read_all(tmp_path_factory.mktemp("t"), bytes(raw))
    assert time.monotonic() - started < 2.0
    assert any(isinstance(i, Skip) for i in items)


# --- a server that drops, stalls and trickles ---------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("aiohttp")
    from servers.http_faults import FaultyHTTPServer
    from shardfiles import write_shards

    root = tmp_path_factory.mktemp("fuzz-served")
    [path] = write_shards(root, n_shards=1, per_shard=10, size=(64, 48), noise=True)
    local = [(s.key, s.fields) for s in iter_samples(str(path)) if isinstance(s, Sample)]
    with FaultyHTTPServer(
        root, lifetime=300, stall_seconds=1.0, trickle_seconds=0.0002, drop_seconds=0.2
    ) as server:
        yield Served(server, f"/{path.name}", local)


class Served(NamedTuple):
    server: object
    path: str
    local: list

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"Served({self.path!r}, {len(self.local)} samples)"


FAULTS = ["reset", "cut", "drop", "stall", "trickle", "503", "500"]


@settings(
    max_examples=8,
    deadline=15000,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example takes seconds
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(faults=st.lists(st.sampled_from(FAULTS), max_size=3))
def test_a_misbehaving_server_costs_at_most_the_deadline_and_loses_nothing(served, faults):
    from genlab.sources.remote import RetryPolicy

    server, path, local = served
    server._faults.clear()
    for fault in faults:
        server.inject(path, fault)
    policy = RetryPolicy(attempts=3, timeout=0.5, backoff=0.01, deadline=2.5)
    started = time.monotonic()
    items = list(iter_samples(server.url + path, policy))
    assert time.monotonic() - started < policy.deadline + 1.5  # margin for a loaded machine
    got = [(i.key, i.fields) for i in items if isinstance(i, Sample)]
    skips = [i for i in items if isinstance(i, Skip)]
    assert len(skips) <= 1 and (skips or got == local)
    # what arrived is in order and whole; the sample in progress at a failure has whole members
    assert [key for key, _ in got] == [key for key, _ in local[: len(got)]]
    assert all(f.items() <= lf.items() for (_, f), (_, lf) in zip(got, local))
    assert got[:-1] == local[: max(len(got) - 1, 0)]
