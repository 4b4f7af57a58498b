"""shuffle_samples runs before rescale_images in a run: the same bytes, uint8 pixels moved."""

from __future__ import annotations

import numpy as np

from genlab import GeneratorPipeline, Pipeline
from genlab.stages.protocol import stage_name

CHAIN = [("read_images", {"target_size": (20, 16)}), ("hflip", {}),
         ("rescale_images", {"scale": 1 / 255, "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}),
         ("shuffle_samples", {})]  # fmt: skip


def test_a_run_shuffles_before_rescaling_and_gives_the_stage_by_stage_bytes(digits_root):
    p = Pipeline.from_folder(digits_root, batch_size=9, seed=4, stages=CHAIN)
    assert [stage_name(s) for s in p._run_steps()][-2:] == ["shuffle_samples", "rescale_images"]
    assert [stage_name(s) for s in p.build_stages()][-2:] == ["rescale_images", "shuffle_samples"]
    for epoch in (0, 1):
        for source in p.source_batches(epoch):
            with GeneratorPipeline(iter([source]), *p.build_stages()) as run:
                apart = next(run)
            fast = p.run_stages(source)
            assert fast.x.dtype == np.float32 and fast.x.tobytes() == apart.x.tobytes()
            assert np.array_equal(fast.y, apart.y) and np.array_equal(
                fast.info.keys, apart.info.keys
            )
            assert fast.info.applied == apart.info.applied
    # the order really changed: a shuffle of 9 samples moved some of them
    assert not np.array_equal(apart.info.keys, source.info.keys)
