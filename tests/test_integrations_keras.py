"""The Keras 3 adapter: a PyDataset that model.fit takes (run on the torch backend here)."""

from __future__ import annotations

import os

import numpy as np
import pytest

if "keras" not in __import__("sys").modules:
    os.environ.setdefault("KERAS_BACKEND", "torch")  # keras 3 reads it once, at import
try:
    import keras
except ImportError as error:  # keras missing, or its configured backend is not installed
    pytest.skip(f"keras with an installed backend is needed: {error}", allow_module_level=True)

from servers.trees import write_image_tree  # noqa: E402

import genlab  # noqa: E402
from genlab.integrations.keras import as_keras_dataset  # noqa: E402

STAGES = [
    ("read_images", {"target_size": (8, 8)}),
    ("augment", {"hflip": 0.5}),
    ("rescale_images", {"scale": 1 / 255}),
    "shuffle_samples",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("keras_tree")
    write_image_tree(root, {"a": 6, "b": 5}, size=(10, 10))
    return genlab.Pipeline.from_folder(root, batch_size=4, seed=7, stages=STAGES)


def test_items_are_the_pipeline_batches_and_epochs_advance(pipeline):
    data = as_keras_dataset(pipeline, epoch=0)
    assert isinstance(data, keras.utils.PyDataset)
    data.on_epoch_end()  # Keras calls it outside epochs too: nothing served, no new epoch
    assert data.epoch == 0
    for epoch in range(2):
        expected = list(pipeline.iter_epoch(epoch))
        assert len(data) == len(expected)
        for i, batch in enumerate(expected):
            x, y = data[i]
            np.testing.assert_array_equal(x, batch.x)
            np.testing.assert_array_equal(y, batch.y)
        data.on_epoch_end()
    with pytest.raises(IndexError, match="out of range"):
        data[len(data)]


def test_model_fit_takes_the_dataset(pipeline):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    data = as_keras_dataset(pipeline, epoch=0)
    history = model.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert data.epoch == 2  # Keras moved the dataset on after each epoch
    assert all(np.isfinite(history.history["loss"]))
