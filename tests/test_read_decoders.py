"""read_images' decoder and the worker kinds: specs, 0.1 specs kept on Pillow, same bytes everywhere."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import genlab
from genlab import Pipeline, StageError
from genlab.ops.decode import decode_image
from genlab.parallel import ThreadIterator, iter_parallel

PINNED = Path(__file__).parent / "specs"


@pytest.fixture(scope="session")
def photos_root(tmp_path_factory):
    """12 photographic JPEGs in two classes, half 500x375 and half 96x72.

    At these sizes the best DCT scale is not a power of two for every target the tests use
    (5/8 for 224, 3/8 for 32, 6/8 for 64x48), so turbo and Pillow's draft give other pixels.
    """
    base = tmp_path_factory.mktemp("data")
    root = base / "photos"
    for size in ((500, 375), (96, 72)):
        made = genlab.make_sample_data(base / f"{size[0]}", kind="photos", n_per_class=3, size=size)
        for path in made.glob("*/*.jpg"):
            (root / path.parent.name).mkdir(parents=True, exist_ok=True)
            (root / path.parent.name / f"{size[0]}-{path.name}").write_bytes(path.read_bytes())
    return root


def chain(decoder: str | None = None) -> list:
    read = (
        {"target_size": (64, 48)}
        if decoder is None
        else {"target_size": (64, 48), "decoder": decoder}
    )
    return [("read_images", read), ("augment", {"hflip": 0.5, "rotate90": 0.5}),
            ("rescale_images", {"scale": 1 / 255}), "shuffle_samples"]  # fmt: skip


def epoch(pipeline: Pipeline) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(x.copy(), y.copy()) for x, y in pipeline]


def same(a, b) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(xa, xb) and np.array_equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b)
    )


# ----------------------------------------------------------------------------- the decoder param


def test_new_pipelines_decode_with_turbo_and_record_it(photos_root):
    p = Pipeline.from_folder(photos_root, stages=chain())
    spec = p.to_spec()
    assert spec["schema_version"] == 2 and spec["stages"][0]["params"]["decoder"] == "turbo"
    q = Pipeline.from_spec(json.loads(json.dumps({**spec, "stages": [
        {**spec["stages"][0], "params": {**spec["stages"][0]["params"], "decoder": "pillow"}},
        *spec["stages"][1:]]})))  # fmt: skip
    assert q.stage("read_images").params["decoder"] == "pillow"
    assert "'decoder': 'pillow'" in repr(q) and "decoder" not in repr(p)


def test_read_images_gives_each_decoders_pixels(photos_root):
    p = Pipeline.from_folder(photos_root, batch_size=12, shuffle=False, stages=chain()[:1])
    for decoder in ("turbo", "pillow"):
        p.set_params("read_images", decoder=decoder)
        batch = next(iter(p))
        expected = [decode_image(path, (64, 48), decoder=decoder) for path in batch.info.paths]
        np.testing.assert_array_equal(batch.x, np.stack(expected))


@pytest.mark.parametrize("pinned", sorted(PINNED.glob("v1-*.json")), ids=lambda p: p.name)
def test_specs_of_0_1_keep_pillow_and_their_batches(pinned, photos_root):
    spec = json.loads(pinned.read_text())
    spec["source"]["params"]["root"] = str(photos_root)
    old = Pipeline.from_spec(spec)
    assert old.stage("read_images").params["decoder"] == "pillow"
    assert spec["schema_version"] == 1  # loading does not change the caller's dict
    upgraded = old.to_spec()
    assert upgraded["schema_version"] == 2
    batches = epoch(old)
    assert same(batches, epoch(Pipeline.from_spec(upgraded)))
    upgraded["stages"][0]["params"]["decoder"] = "turbo"
    assert not same(batches, epoch(Pipeline.from_spec(upgraded)))  # the test can tell them apart


def test_a_v1_spec_naming_a_decoder_is_rejected_by_the_stage(photos_root):
    spec = json.loads((PINNED / "v1-minimal.json").read_text())
    spec["source"]["params"]["root"] = str(photos_root)
    spec["stages"][0]["params"]["decoder"] = "opencv"
    with pytest.raises(ValueError, match="read_images: parameter 'decoder'"):
        Pipeline.from_spec(spec)


# ----------------------------------------------------------------------------- worker kinds


@pytest.mark.parametrize("decoder", ["turbo", "pillow"])
def test_same_bytes_with_any_workers_and_either_kind(decoder, photos_root):
    def run(workers: int, kind: str = "thread") -> list:
        return epoch(Pipeline.from_folder(
            photos_root, batch_size=4, seed=5, stages=chain(decoder),
            num_workers=workers, worker_kind=kind))  # fmt: skip

    reference = run(0)
    assert len(reference) == 3
    for workers, kind in [(1, "thread"), (2, "thread"), (3, "thread"), (2, "process")]:
        assert same(run(workers, kind), reference), (workers, kind)


def test_worker_kind_is_in_the_spec_and_checked(photos_root):
    p = Pipeline.from_folder(photos_root, num_workers=2, worker_kind="thread", stages=chain())
    spec = p.to_spec()
    assert spec["run"]["worker_kind"] == "thread"
    assert Pipeline.from_spec(spec).worker_kind == "thread"
    assert isinstance(iter_parallel(p, 0), ThreadIterator)
    with pytest.raises(ValueError, match="pipeline: parameter 'worker_kind'.*'fibre'"):
        Pipeline.from_folder(photos_root, worker_kind="fibre")


def two_classes_of_three(photos_root: Path, root: Path) -> Path:
    """``root`` holding classes ``a`` and ``b``, each the same three photos ``0-2.jpg``."""
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i, src in enumerate(sorted((photos_root / "china").iterdir())[:3]):
            (root / name / f"{i}.jpg").write_bytes(src.read_bytes())
    return root


def test_thread_workers_raise_the_stage_error_naming_the_file(photos_root, tmp_path):
    root = two_classes_of_three(photos_root, tmp_path / "bad")
    (root / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    p = Pipeline.from_folder(root, batch_size=2, shuffle=False, num_workers=2, worker_kind="thread",
                             stages=[("read_images", {"on_error": "raise"})])  # fmt: skip
    with pytest.raises(StageError, match=r"read_images.*broken\.jpg"):
        list(p)


def test_thread_iterator_stops_early_and_bounds_what_is_ahead(photos_root):
    p = Pipeline.from_folder(photos_root, batch_size=1, stages=chain(), num_workers=2, prefetch=1)
    with ThreadIterator(p, 0) as batches:
        next(batches)
        assert len(batches._pending) <= 2
    assert list(batches) == []
    with pytest.raises(ValueError, match="ThreadIterator: prefetch must be an int >= 1, got 0"):
        ThreadIterator(p, 0, prefetch=0)


def _threads_in_a_daemon(root, answers):
    p = Pipeline.from_folder(
        root, batch_size=4, stages=chain(), num_workers=2, worker_kind="thread"
    )
    answers.put(sum(len(x) for x, _ in p))


def test_thread_workers_run_inside_a_daemon_process(photos_root):
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    daemon = context.Process(target=_threads_in_a_daemon, args=(photos_root, answers), daemon=True)
    daemon.start()
    assert answers.get(timeout=60) == 12
    daemon.join(10)


# ----------------------------------------------------------------------------- the first batch


def _decoding_threads(monkeypatch) -> list[tuple[str, int]]:
    """Patch read_images' decoder to note (path, thread id) and to take 5 ms per image,
    so every lent thread gets items."""
    import threading
    import time

    import genlab.stages.read as read

    seen: list[tuple[str, int]] = []
    real = read.decode_image

    def noting(data, *, path, **options):
        seen.append((str(path), threading.get_ident()))
        time.sleep(0.005)
        return real(data, path=path, **options)

    monkeypatch.setattr(read, "decode_image", noting)
    return seen


@pytest.mark.parametrize("fuse", [False, True])
def test_the_first_batch_is_decoded_by_every_thread_with_the_same_bytes(
    photos_root, monkeypatch, fuse
):
    stages = chain()
    if fuse:  # the fused read + crop decodes through the same items loop
        stages = [stages[0], ("random_resized_crop", {"size": (32, 24)}), *stages[1:]]
    reference = epoch(Pipeline.from_folder(photos_root, batch_size=6, seed=5, stages=stages))
    seen = _decoding_threads(monkeypatch)
    p = Pipeline.from_folder(photos_root, batch_size=6, seed=5, stages=stages, num_workers=2,
                             worker_kind="thread")  # fmt: skip
    with ThreadIterator(p, 0) as batches:
        first = next(batches)
        names = {str(path) for path in first.info.paths}  # (the next batches may have begun)
        first_threads = {thread for name, thread in list(seen) if name in names}
        rest = [(x.copy(), y.copy()) for x, y in batches]
    if not fuse:  # the fused stage decodes only the crop's box, not through decode_image
        assert len(first_threads) == 2, seen
    assert same([(first.x, first.y), *rest], reference)


def test_a_shared_first_batch_skips_and_raises_as_one_thread_would(
    photos_root, tmp_path, monkeypatch
):
    root = two_classes_of_three(photos_root, tmp_path / "bad")
    (root / "a" / "1.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    (root / "b" / "2.jpg").write_bytes(b"not an image at all")

    def run(workers: int, on_error: str = "skip") -> Pipeline:
        return Pipeline.from_folder(root, batch_size=6, shuffle=False, num_workers=workers,
                                    worker_kind="thread", stages=[("read_images", {"on_error": on_error})])  # fmt: skip

    def first(pipeline: Pipeline):
        with pytest.warns(UserWarning, match="read_images skipped"):
            batch = next(iter(pipeline.iter_epoch(0)))
        return batch.x.copy(), batch.y.copy(), [Path(p).name for p, _ in batch.info.skipped]

    reference = first(run(0))
    seen = _decoding_threads(monkeypatch)
    x, y, skipped = first(run(2))
    assert len({thread for _, thread in seen}) == 2
    assert np.array_equal(x, reference[0]) and np.array_equal(y, reference[1]) and len(x) == 4
    assert skipped == reference[2] == ["1.jpg", "2.jpg"]
    with pytest.raises(StageError, match=r"read_images.*a/1\.jpg"):  # the first bad file in order
        list(run(2, on_error="raise"))


def test_thread_workers_warn_when_their_batches_would_not_fit(photos_root, monkeypatch):
    # the check runs once the first batch is made (psutil's import stays off its path)
    import psutil

    from genlab.parallel import MemoryBudgetWarning

    class Tiny(NamedTuple):
        available: int = 1000

    monkeypatch.setattr(psutil, "virtual_memory", Tiny)
    p = Pipeline.from_folder(photos_root, batch_size=4, stages=chain(), num_workers=2)
    with pytest.warns(MemoryBudgetWarning, match=r"would hold .*\(4x48x64x3 float32"):
        batches = epoch(p)
    assert len(batches) == 3
