"""Labels as class codes, one-hot and multi-hot rows made per batch with numpy.

A listing keeps one integer class code per sample (single-label) or a ragged list of codes per
sample (multi-label, :class:`MultiLabels`): memory in ``O(samples + labels)``, whatever the number
of classes. Rows are made only for the samples of a batch, so a batch of 32 samples over 100,000
classes costs ``32 x 100,000`` int64, never ``classes x classes``.

The rows are those of scikit-learn's ``LabelBinarizer`` fitted on the class indices (with two
columns for two classes, where ``LabelBinarizer`` alone gives one) and ``MultiLabelBinarizer(classes=...)``:
int64, C-ordered, byte for byte (tested against scikit-learn), without importing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MultiLabels", "class_positions", "label_rows", "multi_hot", "multi_hot_codes", "one_hot",
]  # fmt: skip


def one_hot(labels: np.ndarray | Sequence[int], n_classes: int) -> np.ndarray:
    """One-hot int64 rows for class indices: ``n_classes`` columns (one for a single class).

    Parameters
    ----------
    labels : array of int
        Class indices in ``[0, n_classes)``.
    n_classes : int
        The number of classes.

    Raises
    ------
    ValueError
        A class index outside ``[0, n_classes)``, named.

    Examples
    --------
    >>> one_hot(np.array([0, 1, 1]), 2).tolist()
    [[1, 0], [0, 1], [0, 1]]
    >>> one_hot([2, 0], 3).tolist()
    [[0, 0, 1], [1, 0, 0]]
    """
    codes = np.asarray(labels, dtype=np.int64).reshape(-1)
    _check_codes(codes, n_classes)
    rows = np.zeros((len(codes), max(int(n_classes), 1)), dtype=np.int64)
    rows[np.arange(len(codes)), codes] = 1
    return rows


def multi_hot_codes(code_sets: Iterable[Sequence[int]], n_classes: int) -> np.ndarray:
    """Multi-hot int64 rows, one column per class, from each sample's class indices.

    Examples
    --------
    >>> multi_hot_codes([[0], [0, 1], []], 2).tolist()
    [[1, 0], [1, 1], [0, 0]]
    """
    sets = [np.asarray(s, dtype=np.int64).reshape(-1) for s in code_sets]
    rows = np.zeros((len(sets), int(n_classes)), dtype=np.int64)
    if sets:
        flat = np.concatenate(sets)
        _check_codes(flat, n_classes)
        rows[np.repeat(np.arange(len(sets)), [len(s) for s in sets]), flat] = 1
    return rows


def label_rows(
    codes: Sequence[int | Sequence[int]], n_classes: int, multi_label: bool
) -> np.ndarray:
    """A batch's one-hot rows from its samples' class codes (multi-label: multi-hot rows from
    each sample's codes); the streamed sources (tar shards, Parquet) keep codes until here.

    >>> label_rows([1, 0], 2, False).tolist(), label_rows([(0, 1), ()], 2, True).tolist()
    ([[0, 1], [1, 0]], [[1, 1], [0, 0]])
    """
    if multi_label:
        return multi_hot_codes(codes, n_classes)
    return one_hot(np.asarray(codes, dtype=np.int64), n_classes)


def class_positions(class_names: Sequence[str]) -> dict[str, int]:
    """``{name: column}`` for class names; ValueError naming a repeated one.

    Examples
    --------
    >>> class_positions(["cat", "dog"])
    {'cat': 0, 'dog': 1}
    """
    positions: dict[str, int] = {}
    for i, name in enumerate(map(str, class_names)):
        if positions.setdefault(name, i) != i:
            raise ValueError(f"class_names must not repeat a class, got {name!r} twice")
    return positions


def multi_hot(
    label_sets: Sequence[Sequence[str]],
    class_names: Sequence[str],
    positions: Mapping[str, int] | None = None,
) -> np.ndarray:
    """Multi-hot int64 rows (one column per class, in the order of ``class_names``).

    ``positions`` (from :func:`class_positions`) saves rebuilding the name lookup per call.

    Raises
    ------
    ValueError
        A label that is not one of ``class_names``, named.

    Examples
    --------
    >>> multi_hot([["cat"], ["cat", "dog"], []], ["cat", "dog"]).tolist()
    [[1, 0], [1, 1], [0, 0]]
    """
    lookup = class_positions(class_names) if positions is None else positions
    return multi_hot_codes([_codes_of(s, lookup) for s in label_sets], len(class_names))


def _codes_of(names: Sequence[str], positions: Mapping[str, int]) -> list[int]:
    try:
        return [positions[str(n)] for n in names]
    except KeyError as e:
        known = list(positions)[:10]
        raise ValueError(f"label {e.args[0]!r} is not one of the class names {known}") from None


def _check_codes(codes: np.ndarray, n_classes: int) -> None:
    if len(codes) and (codes.min() < 0 or codes.max() >= max(int(n_classes), 1)):
        bad = codes[(codes < 0) | (codes >= max(int(n_classes), 1))][0]
        raise ValueError(f"class index {int(bad)} out of range for {n_classes} classes")


@dataclass(frozen=True, eq=False)
class MultiLabels:
    """The class codes of multi-label samples, ragged: sample ``i`` has ``codes[offsets[i]:offsets[i + 1]]``.

    Indexing with sample keys gives their multi-hot rows (``labels[keys]``), so a listing holds
    ``O(samples + labels)`` integers and a batch's rows are made when the batch is.

    Examples
    --------
    >>> labels = MultiLabels.from_code_sets([[0], [0, 1], []], 2)
    >>> labels[np.array([1, 2])].tolist(), labels.shape, labels.counts().tolist()
    ([[1, 1], [0, 0]], (3, 2), [2, 1])
    """

    offsets: np.ndarray
    codes: np.ndarray
    n_classes: int

    ndim = 2  # reads as the samples x classes matrix it stands for

    @classmethod
    def from_code_sets(cls, code_sets: Sequence[Sequence[int]], n_classes: int) -> MultiLabels:
        """The labels of samples given as one sequence of class indices each."""
        lengths = np.fromiter((len(s) for s in code_sets), dtype=np.int64, count=len(code_sets))
        offsets = np.zeros(len(code_sets) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        codes = np.fromiter(
            (c for s in code_sets for c in s), dtype=np.int64, count=int(offsets[-1])
        )
        _check_codes(codes, n_classes)
        return cls(offsets, codes, int(n_classes))

    @property
    def shape(self) -> tuple[int, int]:
        """``(samples, classes)``: the shape of the multi-hot matrix."""
        return (len(self.offsets) - 1, self.n_classes)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, keys) -> np.ndarray:
        keys = np.arange(len(self))[keys] if isinstance(keys, slice) else np.asarray(keys)
        if keys.ndim == 0:
            return self[keys.reshape(1)][0]
        starts, ends = self.offsets[keys], self.offsets[keys + 1]
        return multi_hot_codes(
            (self.codes[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)),
            self.n_classes,
        )

    def counts(self) -> np.ndarray:
        """Samples carrying each class (a class listed twice for a sample counts once)."""
        rows = np.repeat(np.arange(len(self)), np.diff(self.offsets))
        pairs = np.unique(rows * self.n_classes + self.codes) if len(rows) else rows
        return np.bincount(pairs % max(self.n_classes, 1), minlength=self.n_classes)

    def tolist(self) -> list[list[int]]:
        """The whole multi-hot matrix as nested lists (made in full: for small listings)."""
        return self[np.arange(len(self))].tolist()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        rows = self[np.arange(len(self))]
        return rows if dtype is None else rows.astype(dtype)
