"""The PyTorch adapter: sharding by DataLoader worker and rank, tensors, a real training step."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from servers.trees import write_image_tree  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

import genlab  # noqa: E402
from genlab.integrations.torch import (  # noqa: E402
    TorchIterableDataset,
    as_iterable_dataset,
    make_dataloader,
)

STAGES = [
    ("read_images", {"target_size": (8, 6)}),
    ("augment", {"hflip": 0.5, "rotate90": True}),
    ("rescale_images", {"scale": 1 / 255}),
    "shuffle_samples",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("torch_tree")
    write_image_tree(root, {"a": 9, "b": 7, "c": 6}, size=(12, 10))
    return genlab.Pipeline.from_folder(root, batch_size=4, seed=3, stages=STAGES)


def keys_of(batches) -> list[int]:
    return sorted(int(k) for *_, keys in batches for k in keys)


def test_two_workers_deliver_every_sample_once_per_epoch(pipeline):
    data = as_iterable_dataset(pipeline, with_keys=True)
    loader = DataLoader(data, batch_size=None, num_workers=2)
    n = len(pipeline.index)
    orders = []
    for epoch in range(2):
        data.set_epoch(epoch)
        batches = list(loader)
        assert len(batches) == len(pipeline) == len(data)
        assert keys_of(batches) == list(range(n))
        orders.append([int(k) for *_, keys in batches for k in keys])
    assert orders[0] != orders[1]  # reshuffled from the seed per epoch


def test_worker_batches_equal_the_single_process_batches(pipeline):
    data = as_iterable_dataset(pipeline, with_keys=True, channels_first=False, labels="onehot")
    data.set_epoch(1)
    from_workers = {
        tuple(keys.tolist()): (x.numpy(), y.numpy())
        for x, y, keys in DataLoader(data, batch_size=None, num_workers=2)
    }
    expected = list(pipeline.iter_epoch(1))
    assert len(from_workers) == len(expected)
    for batch in expected:
        x, y = from_workers[tuple(batch.info.keys.tolist())]
        np.testing.assert_array_equal(x, batch.x)
        np.testing.assert_array_equal(y, batch.y)


def test_ranks_and_workers_split_the_epoch_exactly(pipeline):
    world = 2
    per_rank = []
    for rank in range(world):
        loader = make_dataloader(
            pipeline, num_workers=2, rank=rank, world_size=world, with_keys=True
        )
        batches = list(loader)
        assert len(batches) == len(loader.dataset)
        per_rank.append(keys_of(batches))
    assert not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == list(range(len(pipeline.index)))


def test_even_gives_every_rank_the_same_number_of_batches(pipeline):
    world = 4  # 22 samples in batches of 4: 6 batches, so ranks would get 2, 2, 1, 1
    counts, keys = [], []
    for rank in range(world):
        loader = make_dataloader(
            pipeline, num_workers=2, rank=rank, world_size=world, even=True, with_keys=True
        )
        batches = list(loader)
        assert len(batches) == len(loader.dataset)
        counts.append(len(batches))
        keys.extend(int(k) for *_, batch_keys in batches for k in batch_keys)
    assert counts == [1, 1, 1, 1]
    assert len(set(keys)) == len(keys) == 16  # the first 4 batches of the epoch, once each


def test_rank_from_torchrun_environment(pipeline, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    data = TorchIterableDataset(pipeline)
    assert data.shard_index() == (1, 3)
    assert len(data) == len(range(1, len(pipeline), 3))


def test_tensors_have_torch_layout_and_a_model_trains_on_them(pipeline):
    torch.manual_seed(0)
    loader = make_dataloader(pipeline, num_workers=0)
    x, y = next(iter(loader))
    assert x.dtype == torch.float32 and x.shape[1:] == (3, 6, 8)
    assert y.dtype == torch.int64 and y.ndim == 1 and int(y.max()) < 3
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 6 * 8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert len(losses) == len(pipeline) and all(np.isfinite(losses))


def test_bad_options_are_rejected(pipeline):
    with pytest.raises(ValueError, match="labels"):
        TorchIterableDataset(pipeline, labels="soft")
    with pytest.raises(ValueError, match="both rank and world_size"):
        TorchIterableDataset(pipeline, rank=0)
    with pytest.raises(ValueError, match="rank 2"):
        TorchIterableDataset(pipeline, rank=2, world_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        make_dataloader(pipeline, batch_size=8)
    with pytest.raises(ValueError, match="epoch"):
        TorchIterableDataset(pipeline).set_epoch(-1)


def test_workers_read_a_remote_root_and_retry_transient_failures(tmp_path, monkeypatch):
    pytest.importorskip("aiohttp")
    from servers.http_faults import FaultyHTTPServer

    monkeypatch.setenv("GENLAB_REMOTE_BACKOFF", "0.01")
    write_image_tree(tmp_path, {"a": 5, "b": 4})
    with FaultyHTTPServer(tmp_path, lifetime=60) as server:
        p = genlab.Pipeline.from_folder(server.url, batch_size=2, stages=STAGES[:1])
        server.inject("/a/img_001.jpg", "503", times=1)
        loader = make_dataloader(p, num_workers=2, with_keys=True)
        keys = sorted(int(k) for *_, batch_keys in loader for k in batch_keys)
    assert keys == list(range(9))
    assert server.hits["/a/img_001.jpg"] == 2


def test_set_epoch_reaches_persistent_workers(pipeline):
    # persistent workers keep their copy of the dataset from one epoch to the next: 0.2's
    # set_epoch(1) changed only the main process' copy, and epoch 1 replayed epoch 0
    loader = make_dataloader(pipeline, num_workers=2, persistent_workers=True, with_keys=True)
    seen = []
    for epoch in range(2):
        loader.dataset.set_epoch(epoch)
        seen.append([tuple(keys.tolist()) for *_, keys in loader])
    for epoch, batches in enumerate(seen):
        expected = [tuple(b.info.keys.tolist()) for b in pipeline.iter_epoch(epoch)]
        assert sorted(batches) == sorted(expected)
    assert seen[0] != seen[1]
