"""genlab's rows: each builder takes (root, batch_size) and returns the timed call.

Building the pipeline (indexing the folder, validating parameters) happens
before the clock starts, as it does for the baselines; worker start-up is
inside the timed call.
"""

from __future__ import annotations

from collections.abc import Callable

from baselines import NORM_MEAN, NORM_STD, POST_MEAN, TARGET

from genlab import Pipeline
from genlab.parallel import iter_parallel

Timed = Callable[[], int]


def _consume(pipeline: Pipeline) -> int:
    n = 0
    for x, _y in pipeline:
        n += len(x)
    return n


def _post_settings(root: str, batch_size: int) -> Pipeline:
    """The post's chain: NEAREST resize, rot90, mean subtraction, shuffle within the batch."""
    stages = [
        ("read_images", {"target_size": TARGET, "resample": "nearest"}),
        ("augment", {"hflip": 0.0, "rotate90": 1.0}),
        ("rescale_images", {"mean": tuple(POST_MEAN.tolist())}),
        ("shuffle_samples", {}),
    ]
    return Pipeline.from_folder(root, batch_size=batch_size, seed=0, stages=stages)


def _same_work(
    root: str,
    batch_size: int,
    num_workers: int,
    decoder: str = "turbo",
    worker_kind: str | None = None,
) -> Pipeline:
    """The DataLoader's work: BILINEAR resize, horizontal flip, float32 normalize.

    genlab's defaults otherwise: ``decoder="turbo"`` and the default ``worker_kind``.
    """
    stages = [
        ("read_images", {"target_size": TARGET, "resample": "bilinear", "decoder": decoder}),
        ("augment", {"hflip": 0.5}),
        ("rescale_images", {"mean": tuple(NORM_MEAN.tolist()), "std": tuple(NORM_STD.tolist())}),
    ]
    kind = {} if worker_kind is None else {"worker_kind": worker_kind}
    return Pipeline.from_folder(
        root, batch_size=batch_size, seed=0, stages=stages, num_workers=num_workers, **kind
    )


def genlab_w0_post(root: str, batch_size: int) -> Timed:
    pipeline = _post_settings(root, batch_size)
    return lambda: _consume(pipeline)


def genlab_w0(root: str, batch_size: int) -> Timed:
    pipeline = _same_work(root, batch_size, 0)
    return lambda: _consume(pipeline)


def genlab_w0_pillow(root: str, batch_size: int) -> Timed:
    pipeline = _same_work(root, batch_size, 0, decoder="pillow")
    return lambda: _consume(pipeline)


def genlab_w2(root: str, batch_size: int) -> Timed:
    pipeline = _same_work(root, batch_size, 2)
    return lambda: _consume(pipeline)


def genlab_w2_thread(root: str, batch_size: int) -> Timed:
    pipeline = _same_work(root, batch_size, 2, worker_kind="thread")
    return lambda: _consume(pipeline)


def genlab_w2_process(root: str, batch_size: int) -> Timed:
    pipeline = _same_work(root, batch_size, 2, worker_kind="process")
    return lambda: _consume(pipeline)


def genlab_w2_pillow(root: str, batch_size: int) -> Timed:
    pipeline = _same_work(root, batch_size, 2, decoder="pillow")
    return lambda: _consume(pipeline)


def genlab_w2_pipe(root: str, batch_size: int) -> Timed:
    """2 workers sending batches pickled through pipes instead of shared memory."""
    pipeline = _same_work(root, batch_size, 2)

    def call() -> int:
        n = 0
        with iter_parallel(pipeline, 0, worker_kind="process", shared_memory=False) as batches:
            for x, _y in batches:
                n += len(x)
        return n

    return call


def _decode_all(root: str, draft: bool, decoder: str = "pillow") -> Timed:
    from image_sets import list_images

    from genlab.ops.decode import decode_image

    paths = [p for p, _ in list_images(root)]
    decode_image(paths[0], TARGET, draft=draft, decoder=decoder)  # imports done before the clock

    def call() -> int:
        for p in paths:
            decode_image(p, TARGET, draft=draft, decoder=decoder)
        return len(paths)

    return call


def draft_on(root: str, batch_size: int) -> Timed:
    return _decode_all(root, True)


def draft_off(root: str, batch_size: int) -> Timed:
    return _decode_all(root, False)


def turbo(root: str, batch_size: int) -> Timed:
    return _decode_all(root, True, decoder="turbo")


ROWS = {
    "genlab_w0_post": genlab_w0_post,
    "genlab_w0": genlab_w0,
    "genlab_w0_pillow": genlab_w0_pillow,
    "genlab_w2": genlab_w2,
    "genlab_w2_thread": genlab_w2_thread,
    "genlab_w2_process": genlab_w2_process,
    "genlab_w2_pillow": genlab_w2_pillow,
    "genlab_w2_pipe": genlab_w2_pipe,
    "draft_on": draft_on,
    "draft_off": draft_off,
    "turbo": turbo,
}
