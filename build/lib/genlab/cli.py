"""The ``genlab`` command (also ``python -m genlab``).

Usage::

    genlab run                      the main job: one epoch of the default pipeline on the
                                    sample data, then a grid PNG, a JSON spec and a .py file
    genlab run SPEC_OR_FOLDER       one epoch of a spec (or of the default chain on a folder)
    genlab sample DEST              write the sample dataset
    genlab grid SPEC_OR_FOLDER      a PNG grid of an augmented batch
    genlab export SPEC -o FILE.py   a spec as a standalone Python module
    genlab validate FOLDER          decode every file once and list the bad ones
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from . import __version__
from .memory import format_bytes, process_memory
from .pipeline import RUN_PARAMS, Pipeline
from .plotting import labels_of, render_grid
from .sample_data import KINDS, ensure_sample_data, make_sample_data
from .sources.hf import pipeline_for_target
from .spec import load
from .validate import validate_dataset

__all__ = ["main"]


def _pipeline(targets: list[str] | str | None, args: argparse.Namespace) -> Pipeline:
    """A spec file, Parquet files, a folder (default chain), or the sample data when nothing is named."""
    targets = [targets] if isinstance(targets, str) else list(targets or [])
    target = targets[0] if len(targets) == 1 else None
    if not targets:
        target = str(ensure_sample_data("digits"))
        print(f"sample data: {target}")
    if target is not None and target.endswith(".json"):
        pipeline = load(target)
    else:
        pipeline = pipeline_for_target(
            Pipeline, targets or [target], batch_size=args.batch_size or 32, seed=args.seed or 0,
            image_column=args.image_column, label_column=args.label_column,
        )  # fmt: skip
    if args.batch_size:
        pipeline.source["batch_size"] = args.batch_size
    if args.seed is not None:
        pipeline.seed = args.seed
    if getattr(args, "workers", None) is not None:
        pipeline.num_workers = RUN_PARAMS["num_workers"].validate(
            args.workers, stage="options", name="--workers"
        )
    if getattr(args, "worker_kind", None) is not None:
        pipeline.worker_kind = args.worker_kind
    return pipeline


def _write_grid(pipeline: Pipeline, path: Path, n: int = 16) -> Path:
    batch = pipeline.run_stages(next(pipeline.source_batches(0)))
    path.write_bytes(render_grid(batch.x[:n], labels_of(batch.y[:n], pipeline.class_names)))
    return path


def cmd_run(args: argparse.Namespace) -> int:
    pipeline = _pipeline(args.target, args)
    listing_started = time.perf_counter()  # the first batch's wait includes the listing
    print(
        f"{len(pipeline.index)} images, {len(pipeline.class_names)} classes, {len(pipeline)} batches of {pipeline.batch_size}"
    )
    peak = 0
    first_batch = None
    started = time.perf_counter()
    with warnings.catch_warnings(record=True):  # skips are counted in the report instead
        warnings.simplefilter("always")
        for epoch in range(args.epochs):
            for batch in tqdm(pipeline, total=len(pipeline), desc=f"epoch {epoch}", unit="batch"):  # noqa: B007
                if first_batch is None:
                    first_batch = time.perf_counter() - listing_started
                peak = max(peak, process_memory().total_rss)
    x = batch[0]
    seconds = time.perf_counter() - started
    report = pipeline.report
    print(report.summary())
    print(
        f"first batch after {first_batch:.2f} s (listing included); "
        f"throughput {report.samples * args.epochs / seconds:.0f} img/s over {args.epochs} epoch(s); "
        f"batch {x.shape} {x.dtype} = {format_bytes(x.nbytes)}; peak resident memory {format_bytes(peak)}"
    )
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        pipeline.save(out / "pipeline.json")
        pipeline.to_python(out / "pipeline.py")
        grid = _write_grid(pipeline, out / "grid.png")
        print(f"wrote {out / 'pipeline.json'}, {out / 'pipeline.py'} and {grid}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    path = make_sample_data(args.dest, kind=args.kind, n_per_class=args.n_per_class, seed=args.seed or 0,
                            overwrite=args.overwrite)  # fmt: skip
    print(path)
    return 0


def cmd_grid(args: argparse.Namespace) -> int:
    print(_write_grid(_pipeline(args.target, args), Path(args.output)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    text = load(args.spec).to_python(args.output)
    if not args.output:
        sys.stdout.write(text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    report = validate_dataset(
        args.folder, max_pixels=args.max_pixels, progress=lambda it: tqdm(it, unit="file")
    )
    print(report.summary())
    return 0 if report.ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genlab", description="Generator-based image pipelines.")
    parser.add_argument("--version", action="version", version=f"genlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def pipeline_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "target",
            nargs="*",
            help="a spec .json, a class-folder dataset or Parquet files (default: the sample data)",
        )
        p.add_argument(
            "--image-column", default="image", help="Parquet: the column of encoded images"
        )
        p.add_argument("--label-column", default="label", help="Parquet: the column of labels")
        p.add_argument("--batch-size", type=int, help="samples per batch")
        p.add_argument("--seed", type=int, help="seed of every random draw")

    run = sub.add_parser("run", help="run epochs and report throughput, memory and skips")
    pipeline_args(run)
    run.add_argument("--epochs", type=int, default=1)
    run.add_argument(
        "--workers", type=int, help="workers making batches (0 = none: all in the main loop)"
    )
    run.add_argument(
        "--worker-kind", choices=RUN_PARAMS["worker_kind"].choices,
        help=f"workers are threads of this process or forked processes (default: the spec's, else "
        f"{RUN_PARAMS['worker_kind'].default}; the same batches either way)",
    )  # fmt: skip
    run.add_argument(
        "--out",
        default="genlab-output",
        help="folder for pipeline.json, pipeline.py, grid.png ('' for none)",
    )
    run.set_defaults(func=cmd_run)

    sample = sub.add_parser("sample", help="write the sample dataset (no download)")
    sample.add_argument("dest")
    sample.add_argument("--kind", choices=KINDS, default="digits")
    sample.add_argument("--n-per-class", type=int)
    sample.add_argument("--seed", type=int)
    sample.add_argument("--overwrite", action="store_true")
    sample.set_defaults(func=cmd_sample)

    grid = sub.add_parser("grid", help="write a PNG grid of an augmented batch")
    pipeline_args(grid)
    grid.add_argument("-o", "--output", default="grid.png")
    grid.set_defaults(func=cmd_grid)

    export = sub.add_parser("export", help="write a spec as a standalone Python module")
    export.add_argument("spec")
    export.add_argument("-o", "--output", help="the .py file (default: standard output)")
    export.set_defaults(func=cmd_export)

    validate = sub.add_parser("validate", help="decode every file once and list the bad ones")
    validate.add_argument("folder")
    validate.add_argument(
        "--max-pixels", type=int, help="refuse larger images (default: Pillow's bomb limit)"
    )
    validate.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``genlab`` command on ``argv`` (default: ``sys.argv[1:]``); return its exit code."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, ImportError) as e:
        print(f"genlab {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
