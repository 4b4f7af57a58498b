"""Shared fixtures: small class-folder datasets written into temporary folders."""

from __future__ import annotations

import pytest
from corpus import write_class_folders


@pytest.fixture(scope="session")
def digits_root(tmp_path_factory):
    """The sample digits dataset, small: 10 classes x 6 images."""
    import genlab

    return genlab.make_sample_data(tmp_path_factory.mktemp("data") / "digits", n_per_class=6)


@pytest.fixture
def colours_root(tmp_path):
    """Three classes x 5 lossless PNGs of 32x24 whose colour tells the class."""
    write_class_folders(tmp_path / "colours", ["blue", "green", "red"], 5)
    return tmp_path / "colours"
