"""read_images on the bad-input corpus: counted skips, aligned labels, errors naming the file."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from corpus import BOMB_PIXELS, write_corpus

import genlab
from genlab import Pipeline, StageError
from genlab.validate import validate_dataset


def reader(**params):
    return [("read_images", {"target_size": (16, 12), "max_pixels": BOMB_PIXELS // 2, **params})]


def test_skip_counts_every_bad_file_and_keeps_labels_aligned(tmp_path):
    corpus = write_corpus(tmp_path)
    p = Pipeline.from_folder(tmp_path, batch_size=4, seed=0, stages=reader())
    with pytest.warns(UserWarning, match="read_images skipped") as record:
        batches = list(p)
    assert sum(len(b.x) for b in batches) == len(corpus.good)
    assert {path for path, _ in p.report.skipped} == set(corpus.bad)
    assert p.report.n_skipped == len(corpus.bad) == 6
    assert len({str(w.message) for w in record}) == len(corpus.bad)  # one warning per file
    for b in batches:
        assert b.x.shape[0] == b.y.shape[0] == len(b.info.keys) == len(b.info.paths)
        # each kept sample's label is its path's class folder
        for path, label in zip(b.info.paths, b.y.argmax(1)):
            assert Path(path).parent.name == p.class_names[label]
    assert set().union(*[set(b.info.paths) for b in batches]) == set(corpus.good)


def test_reasons_say_what_is_wrong(tmp_path):
    write_corpus(tmp_path)
    p = Pipeline.from_folder(tmp_path, batch_size=64, stages=reader())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(p)
    reasons = {Path(path).name: reason for path, reason in p.report.skipped}
    assert "empty" in reasons["empty.jpg"] or "zero" in reasons["empty.jpg"]
    assert "pixels" in reasons["bomb.png"]
    assert "truncat" in reasons["truncated.jpg"].lower()
    assert "skipped 6 unreadable" in p.report.summary()


def test_raise_names_the_file_and_stage(tmp_path):
    corpus = write_corpus(tmp_path)
    p = Pipeline.from_folder(
        tmp_path, batch_size=64, shuffle=False, stages=reader(on_error="raise")
    )
    with pytest.raises(
        StageError, match=r"stage 'read_images' failed.*(corrupt|empty|text|truncated)\.(jpg|png)"
    ) as info:
        list(p)
    assert isinstance(info.value.__cause__, genlab.ImageReadError)
    assert info.value.__cause__.path in corpus.bad


def test_truncated_files_only_read_when_opted_in(tmp_path):
    write_corpus(tmp_path)
    p = Pipeline.from_folder(tmp_path, batch_size=64, stages=reader(allow_truncated=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(p)
    skipped = {Path(path).name for path, _ in p.report.skipped}
    assert "truncated.jpg" not in skipped and "empty.jpg" in skipped


def test_a_batch_of_only_bad_files_is_empty_not_an_error(tmp_path):
    corpus = write_corpus(tmp_path)
    bad = sorted(corpus.bad)
    source = [genlab.Batch(bad, np.eye(len(bad), dtype=np.int64))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = list(
            genlab.GeneratorPipeline(
                iter(source), genlab.read_images(target_size=(8, 8), max_pixels=1000)
            )
        )
    assert out[0].x.shape == (0, 8, 8, 3) and out[0].y.shape == (0, len(bad))
    assert len(out[0].info.skipped) == len(bad)


def test_validation_pass_lists_bad_files_with_reasons(tmp_path):
    corpus = write_corpus(tmp_path)
    report = validate_dataset(tmp_path, max_pixels=BOMB_PIXELS // 2)
    assert report.checked == len(corpus.good) + len(corpus.bad)
    assert {path for path, _ in report.bad} == set(corpus.bad)
    assert not report.ok and "6 bad" in report.summary()


def test_read_images_parameters_are_checked_at_the_call():
    with pytest.raises(ValueError, match="read_images: parameter 'resize' must be one of"):
        genlab.read_images(resize="squash")
    with pytest.raises(ValueError, match="read_images: parameter 'target_size'"):
        genlab.read_images(target_size=(0, 10))
