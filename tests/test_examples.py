from __future__ import annotations

import random
import re
from itertools import islice
from math import comb

import pytest

from genlab.examples import best_checkpoint, catalan, coroutine, val_loss_extractor


def checkpoint_names(losses):
    return [
        f"weights-epoch{epoch:02d}-val_loss{loss:.4f}.hdf5" for epoch, loss in enumerate(losses, 1)
    ]


def test_catalan_matches_the_closed_form():
    assert list(islice(catalan(), 60)) == [comb(2 * n, n) // (n + 1) for n in range(60)]


def test_catalan_generators_are_independent():
    first, second = catalan(), catalan()
    list(islice(first, 5))
    assert next(second) == 1 and next(first) == 42


def test_coroutine_primes_the_generator():
    @coroutine
    def collect(into):
        while True:
            into.append((yield))

    received = []
    sink = collect(received)
    sink.send("a")
    sink.send("b")
    assert received == ["a", "b"]
    assert collect.__name__ == "collect"


@pytest.mark.parametrize(
    "name, loss",
    [
        ("weights-epoch03-val_loss0.4321.hdf5", 0.4321),
        ("/runs/7/weights-epoch12-val_loss1.25.keras", 1.25),
        ("ckpt_val_loss=4.5e-02.pt", 0.045),
        ("model-val_loss_12.pt", 12.0),
        ("weights-epoch03.hdf5", None),
        ("train_loss0.2.hdf5", None),
        ("", None),
    ],
)
def test_val_loss_extractor_replies_to_each_name(name, loss):
    extractor = val_loss_extractor()
    assert extractor.send(name) == loss


def test_val_loss_extractor_keeps_going_after_a_name_without_loss():
    extractor = val_loss_extractor()
    replies = [
        extractor.send(n) for n in ["a.txt", "w-val_loss0.5.h5", "b.txt", "w-val_loss0.25.h5"]
    ]
    assert replies == [None, 0.5, None, 0.25]
    extractor.close()
    with pytest.raises(StopIteration):
        extractor.send("w-val_loss0.5.h5")


def test_val_loss_extractor_accepts_a_single_group_pattern():
    keras = val_loss_extractor(re.compile(r"weights\.(?:\d+)-([0-9.]+)\.hdf5$"))
    assert keras.send("weights.07-0.52.hdf5") == 0.52
    assert keras.send("weights.07.hdf5") is None


@pytest.mark.parametrize(
    "pattern, match",
    [
        ("val_loss(", "not valid"),
        (r"(\d+)-(\d+)", "exactly one group, it has 2"),
        (r"\d+", "it has 0"),
    ],
)
def test_val_loss_extractor_rejects_a_bad_pattern_at_the_call(pattern, match):
    with pytest.raises(ValueError, match=match):
        val_loss_extractor(pattern)


def test_best_checkpoint_picks_the_lowest_loss():
    losses = [0.9, 0.61, 0.4321, 0.45, 0.52, 0.4400]
    names = checkpoint_names(losses) + ["training.log", "weights-final.hdf5"]
    random.Random(3).shuffle(names)
    assert best_checkpoint(iter(names)) == "weights-epoch03-val_loss0.4321.hdf5"


def test_best_checkpoint_keeps_the_first_of_a_tie():
    names = checkpoint_names([0.5, 0.3, 0.3])
    assert best_checkpoint(names) == names[1]


def test_best_checkpoint_without_any_loss_names_the_inputs():
    with pytest.raises(
        ValueError, match=r"no name carries a validation loss among \['a.txt', 'b.txt'\]"
    ):
        best_checkpoint(["a.txt", "b.txt"])
    with pytest.raises(ValueError, match="no name"):
        best_checkpoint([])
