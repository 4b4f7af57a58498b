"""Tar shards under hostile input: nothing a shard could deliver is lost, nothing hangs.

Each test builds the tar bytes it needs (``tar_bytes``), so the case is readable in one place.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import time

import pytest
from shardfiles import COLOURS, png

from genlab import Pipeline
from genlab.sources.tar_stream import Sample, Skip, iter_samples

RED = png(COLOURS["red"])


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.type = len(data), 0, kind
    return info


def tar_bytes(*members: tuple, fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    """A tar of ``(name, data)`` pairs (or ``(TarInfo, data)``), written by Python's tarfile."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data in members:
            info = name if isinstance(name, tarfile.TarInfo) else member(name, data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def sample_members(*keys: str) -> list[tuple[str, bytes]]:
    return [m for k in keys for m in ((f"{k}.png", RED), (f"{k}.cls", b"2"))]


def read(tmp_path, data: bytes, name: str = "x.tar") -> tuple[list[Sample], list[Skip]]:
    path = tmp_path / name
    path.write_bytes(data)
    items = list(iter_samples(str(path)))
    return [i for i in items if isinstance(i, Sample)], [i for i in items if isinstance(i, Skip)]


def keys(samples: list[Sample]) -> list[str]:
    return [s.key for s in samples]


def end_of(data: bytes, name: str) -> int:
    """The offset just past the data (padding included) of member ``name``."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        info = tar.getmember(name)
    return info.offset_data + -(-info.size // 512) * 512


# --- names ---------------------------------------------------------------------------------------------


def test_a_shard_made_with_tar_dot_gives_its_images(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    for k in ("0001", "0002"):
        (folder / f"{k}.png").write_bytes(RED)
        (folder / f"{k}.cls").write_text("2")
    tar = ["tar", "--sort=name", "-C", str(folder), "-cf", str(tmp_path / "x.tar"), "."]
    subprocess.run(tar, check=True)  # names "./", "./0001.cls", ...
    samples = [i for i in iter_samples(str(tmp_path / "x.tar")) if isinstance(i, Sample)]
    assert sorted(keys(samples)) == ["0001", "0002"]
    assert all(s.fields == {"png": RED, "cls": b"2"} for s in samples)


def test_dot_components_and_double_slashes_are_normalised_as_tar_does(tmp_path):
    data = tar_bytes(
        ("./a/0001.png", RED), ("a/./0001.cls", b"2"),
        ("./././b//0002.png", RED), ("b/0002.cls", b"1"),
    )  # fmt: skip
    samples, skips = read(tmp_path, data)
    assert keys(samples) == ["a/0001", "b/0002"] and not skips
    assert samples[1].fields == {"png": RED, "cls": b"1"}


def test_only_unsafe_names_are_refused_each_counted_and_named(tmp_path):
    data = tar_bytes(
        *sample_members("0001"),
        ("../evil.png", RED),
        ("/etc/0002.png", RED),
        ("a/../../0003.png", RED),
        ("a/b../0004.png", RED),  # "b.." is a plain name, not a parent folder
        ("a/b../0004.cls", b"0"),
        *sample_members("0005"),
    )
    samples, skips = read(tmp_path, data)
    assert keys(samples) == ["0001", "a/b../0004", "0005"]
    refused = {s.where.rsplit("#", 1)[1]: s.reason for s in skips}
    assert sorted(refused) == ["../evil.png", "/etc/0002.png", "a/../../0003.png"]
    assert "'..' component" in refused["../evil.png"]
    assert "absolute" in refused["/etc/0002.png"]


def test_links_and_special_members_are_counted_not_followed(tmp_path):
    link = member("0002.png", kind=tarfile.SYMTYPE)
    link.linkname = "/etc/passwd"
    data = tar_bytes(*sample_members("0001"), (link, b""), (member("d", kind=tarfile.DIRTYPE), b""))
    samples, skips = read(tmp_path, data)
    assert keys(samples) == ["0001"]
    [skip] = skips
    assert skip.where.endswith("#0002.png") and "link" in skip.reason


def test_two_members_with_one_name_in_a_sample_are_not_merged_silently(tmp_path):
    data = tar_bytes(("0003.png", RED), ("0003.cls", b"2"), ("0003.png", b"other"))
    samples, skips = read(tmp_path, data)
    [sample] = samples
    assert sample.fields["png"] == RED  # the first is kept
    [skip] = skips
    assert skip.where.endswith("#0003.png") and "duplicate" in skip.reason


# --- faults: every complete sample before them is delivered ---------------------------------------


def test_a_shard_cut_on_a_header_boundary_keeps_its_last_sample(tmp_path):
    data = tar_bytes(*sample_members("0001", "0002", "0003"))
    samples, skips = read(tmp_path, data[: end_of(data, "0002.cls")])
    assert keys(samples) == ["0001", "0002"]
    [skip] = skips
    assert "cut short" in skip.reason and skip.where.endswith("#0002.cls")


def test_a_damaged_header_after_a_good_sample_keeps_the_sample(tmp_path):
    data = bytearray(tar_bytes(*sample_members("0001", "0002")))
    at = end_of(bytes(data), "0001.cls")
    data[at : at + 512] = b"\x17" * 512
    samples, skips = read(tmp_path, bytes(data))
    assert keys(samples) == ["0001"]
    [skip] = skips
    assert "unreadable after member '0001.cls'" in skip.reason


def test_a_member_cut_short_after_a_good_sample_keeps_the_sample(tmp_path):
    data = tar_bytes(*sample_members("0001", "0002"))
    cut = end_of(data, "0001.cls") + 512 + 20  # inside 0002.png's data
    samples, skips = read(tmp_path, data[:cut])
    assert keys(samples) == ["0001"]
    [skip] = skips
    assert "'0002.png' is cut short" in skip.reason


def test_an_end_of_archive_in_the_middle_keeps_what_came_before(tmp_path):
    data = tar_bytes(*sample_members("0001"))
    samples, skips = read(tmp_path, data + tar_bytes(*sample_members("0002")))
    assert keys(samples) == ["0001"]
    [skip] = skips
    assert "data follows the end of the archive" in skip.reason


def test_the_pipeline_delivers_the_sample_before_a_fault(tmp_path):
    data = tar_bytes(*sample_members("0001", "0002", "0003"))
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.tar").write_bytes(data[: end_of(data, "0003.cls")])
    p = Pipeline.from_shards(str(tmp_path / "s"), batch_size=8, class_names=list(COLOURS))
    [batch] = list(p.iter_epoch(0))
    assert batch.size == 3 and len(p.report.skipped) == 1


# --- huge sizes end promptly ------------------------------------------------------------------------


def huge_header(kind: bytes, name: str, size: int) -> bytes:
    """A GNU-format header block of ``kind`` claiming ``size`` bytes (base-256 size field)."""
    info = member(name, kind=kind)
    info.size = size
    return info.tobuf(tarfile.GNU_FORMAT)[-512:]


@pytest.mark.parametrize(
    "kind, name",
    [
        (tarfile.XHDTYPE, "PaxHeader/0002"),  # a PAX extended header
        (tarfile.XGLTYPE, "GlobalHead"),  # a PAX global header
        (tarfile.GNUTYPE_LONGNAME, "././@LongLink"),  # a GNU long name
        (tarfile.REGTYPE, "._0002.png"),  # a member not used (hidden)
        (tarfile.SYMTYPE, "0002.png"),  # a member refused (a link)
        (tarfile.REGTYPE, "0002.png"),  # a member read, too large
    ],
)
def test_a_header_claiming_2_to_60_bytes_ends_promptly_with_a_skip(tmp_path, kind, name):
    good = tar_bytes(*sample_members("0001"))
    data = good[: end_of(good, "0001.cls")] + huge_header(kind, name, 2**60) + RED * 20
    assert len(data) < 64 * 1024
    started = time.monotonic()
    samples, skips = read(tmp_path, data)
    assert time.monotonic() - started < 2.0
    assert keys(samples) == ["0001"] and len(skips) >= 1


def test_a_pax_size_record_claiming_2_to_60_bytes_ends_promptly(tmp_path):
    info = member("0002.png", RED)
    info.pax_headers = {"size": str(2**60)}
    good = tar_bytes(*sample_members("0001"))
    data = good[: end_of(good, "0001.cls")] + info.tobuf(tarfile.PAX_FORMAT) + RED
    started = time.monotonic()
    samples, skips = read(tmp_path, data)
    assert time.monotonic() - started < 2.0
    assert keys(samples) == ["0001"] and len(skips) == 1


def test_long_names_from_pax_and_gnu_headers_are_used(tmp_path):
    long = "d" * 120 + "/0001"
    pax = tar_bytes((f"{long}.png", RED), (f"{long}.cls", b"1"), fmt=tarfile.PAX_FORMAT)
    gnu = tar_bytes((f"{long}.png", RED), (f"{long}.cls", b"1"), fmt=tarfile.GNU_FORMAT)
    for data in (pax, gnu):
        samples, skips = read(tmp_path, data)
        assert keys(samples) == [long] and not skips


def test_label_members_that_are_not_text_or_too_deep_are_named_skips(tmp_path):
    data = tar_bytes(
        *sample_members("0001"),
        ("0002.png", RED), ("0002.cls", b"\xff\xfe2"),
        ("0003.png", RED), ("0003.json", b"[" * 100_000),
        ("0004.png", RED), ("0004.json", b"{label: cat}"),
        *sample_members("0005"),
    )  # fmt: skip
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.tar").write_bytes(data)
    p = Pipeline.from_shards(str(tmp_path / "s"), batch_size=8, class_names=list(COLOURS))
    [batch] = list(p.iter_epoch(0))
    assert batch.size == 2
    reasons = {where.rsplit("#", 1)[1]: reason for where, reason in p.report.skipped}
    assert reasons["0002"] == ".cls label member is not UTF-8 text (byte 0)"
    assert reasons["0003"] == ".json label member is nested too deeply"
    assert reasons["0004"].startswith(".json label member is not JSON: Expecting property name")


def test_hidden_members_are_not_used_but_each_is_named(tmp_path):
    data = tar_bytes(
        ("._0001.png", b"AppleDouble"), *sample_members("0001"),
        ("__MACOSX/0001.png", RED), ("d/.cache/0002.png", RED), ("d/.DS_Store", b"x"),
    )  # fmt: skip
    samples, skips = read(tmp_path, data)
    assert keys(samples) == ["0001"]
    named = {s.where.rsplit("#", 1)[1]: s.reason for s in skips}
    assert sorted(named) == ["._0001.png", "__MACOSX/0001.png", "d/.DS_Store", "d/.cache/0002.png"]
    assert set(named.values()) == {
        "hidden member (a name starting with '.', or __MACOSX): not used"
    }
