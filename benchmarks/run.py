"""Measure genlab against what users would pick instead, side by side, in one run.

    python benchmarks/run.py            # 2,000 and 10,000 images, ~15 minutes on 2 cores
    python benchmarks/run.py --quick    # smoke run: 200 images, a few seconds a row
    python benchmarks/run.py --repeat 3 # each row 3 times, interleaved, fastest kept

Every row runs in a fresh Python process, so that one row's memory never
counts in another's; a thread here samples the PSS of that process and all
its workers every 50 ms and keeps the peak.  Throughput counts the whole
pass over the set, worker start-up included.  "CPU ms/image" is the CPU
time of the row's process and its workers per image: what each image costs,
less sensitive than images/s to other programs using the cores.  The table
is markdown, ready for the README; ``--table docs/performance_table.md`` also writes it,
with the machine and the command, to the file the documentation's performance page includes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:  # this checkout's genlab, unless PYTHONPATH names another
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

from image_sets import list_images, photo_set, subset, warm_cache  # noqa: E402
from memwatch import PeakWatcher, tree_pss  # noqa: E402

MB = 1024 * 1024

# name -> (label in the table, worker processes, module holding the row)
ROWS = {
    "genlab_w0_post": ("genlab, 0 workers, post's settings", 0, "genlab_rows"),
    "post_style": ("post-style GeneratorPipeline (1 process)", 0, "baselines"),
    "genlab_w0": ("genlab, 0 workers", 0, "genlab_rows"),
    "genlab_w0_pillow": ("genlab, 0 workers, decoder='pillow'", 0, "genlab_rows"),
    "one_process": ("Pillow loop, 1 process", 0, "baselines"),
    "genlab_w2": ("genlab, 2 workers (default kind)", 2, "genlab_rows"),
    "genlab_w2_thread": ("genlab, 2 worker threads", 2, "genlab_rows"),
    "genlab_w2_process": ("genlab, 2 worker processes", 2, "genlab_rows"),
    "genlab_w2_pillow": ("genlab, 2 workers, decoder='pillow'", 2, "genlab_rows"),
    "genlab_w2_pipe": (
        "genlab, 2 worker processes, batches pickled through pipes",
        2,
        "genlab_rows",
    ),
    "dataloader": ("torch DataLoader, 2 workers, Pillow + NumPy", 2, "baselines"),
    "dataloader_v2": ("torch DataLoader, 2 workers, torchvision.transforms.v2", 2, "baselines"),
    "ceiling": ("ceiling: bare Pillow pool, decode+resize only", 2, "baselines"),
    "bare_scaled": ("bare libjpeg-turbo scaled decode, 1 process", 0, "baselines"),
    "bare_scaled_resize": ("bare scaled decode + Pillow resize, 1 process", 0, "baselines"),
    "eager": ("eager float32 load, then batches", 0, "baselines"),
}
DRAFT_ROWS = {
    "turbo": "genlab decode, decoder='turbo' (DCT-scaled)",
    "draft_on": "genlab decode, Pillow, JPEG draft on",
    "draft_off": "genlab decode, Pillow, full decode",
}


@dataclass
class Result:
    row: str
    n_images: int
    images: int = 0
    seconds: float = float("nan")
    peak_pss: int = 0
    ready_pss: int = 0
    processes: int = 0
    cpu_seconds: float = float("nan")
    note: str = ""

    @property
    def rate(self) -> float:
        return self.images / self.seconds if self.images else float("nan")


# --- child side: one row in this process ------------------------------------------------------


def run_row(name: str, root: str, batch_size: int) -> dict:
    import importlib

    import psutil

    module_name = ROWS[name][2] if name in ROWS else "genlab_rows"
    try:
        module = importlib.import_module(module_name)
        if module_name == "baselines" and name.startswith("dataloader"):
            import torch  # noqa: F401
            import torchvision  # noqa: F401
    except ImportError as e:
        return {
            "skip": f"skipped: {e} (pip install torch==2.13.0)"
            if "torch" in str(e)
            else f"skipped: {e}"
        }
    items = list_images(Path(root))
    if module_name == "baselines":
        func = module.ROWS[name]
        call = lambda: func(items, batch_size)  # noqa: E731
    else:
        call = module.ROWS[name](root, batch_size)  # builds the pipeline, returns the timed call
    ready, _ = tree_pss(psutil.Process())
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    images = call()
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    return {"images": images, "seconds": seconds, "ready_pss": ready, "cpu_seconds": cpu}


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its workers that have ended."""
    import resource

    own, ended = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


# --- parent side ------------------------------------------------------------------------------


def measure(name: str, root: Path, n_images: int, batch_size: int, timeout: float) -> Result:
    result = Result(name, n_images)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--row",
        name,
        "--root",
        str(root),
        "--batch-size",
        str(batch_size),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakWatcher(proc.pid) as watcher:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            result.note = f"timed out after {timeout:.0f} s"
            return result
    result.peak_pss = watcher.peak
    result.processes = watcher.max_processes
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (err.strip().splitlines() or ["no output"])[-1]
        result.note = f"failed: {last}"
        return result
    data = json.loads(lines[-1])
    if "skip" in data:
        result.note = data["skip"]
        return result
    result.images = data["images"]
    result.seconds = data["seconds"]
    result.ready_pss = data["ready_pss"]
    result.cpu_seconds = data["cpu_seconds"]
    return result


def fmt_rate(r: Result) -> str:
    return f"{r.rate:,.0f}" if r.images else "-"


def table_lines(results: list[Result], ceilings: dict[int, float]) -> list[str]:
    lines = [
        "| pipeline | images | images/s | x ceiling | CPU ms/image | peak PSS, MB | "
        "PSS at start, MB | processes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        label = ROWS[r.row][0]
        if not r.images:
            lines.append(f"| {label} | {r.n_images:,} | - | - | - | - | - | {r.note} |")
            continue
        ceiling = ceilings.get(r.n_images)
        ratio = f"{r.rate / ceiling:.2f}" if ceiling else "-"
        lines.append(
            f"| {label} | {r.n_images:,} | {fmt_rate(r)} | {ratio} | "
            f"{r.cpu_seconds / r.images * 1e3:.2f} | {r.peak_pss / MB:,.0f} | "
            f"{r.ready_pss / MB:,.0f} | {r.processes} |"
        )
    return lines


def check(name: str, value: float | None, target: float, above: bool, detail: str) -> str:
    if value is None or value != value:
        return f"- {name}: not measured ({detail})"
    ok = value >= target if above else value <= target
    sign = ">=" if above else "<="
    shown = f"{value:.3f}" if abs(value - target) < 0.01 else f"{value:.2f}"
    return f"- {name}: {shown} (target {sign} {target:g}) {'met' if ok else 'MISSED'}; {detail}"


def targets(
    results: list[Result], draft: dict[str, Result], largest: int, smallest: int
) -> list[str]:
    by = {(r.row, r.n_images): r for r in results}

    def rate(row: str, n: int) -> float | None:
        r = by.get((row, n))
        return r.rate if r and r.images else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    from genlab.pipeline import RUN_PARAMS

    # genlab's 2-worker row: the "default kind" row if it ran, else the row of the default kind
    default_kind = f"genlab_w2_{RUN_PARAMS['worker_kind'].default}"
    w2 = "genlab_w2" if any(r.row == "genlab_w2" and r.images for r in results) else default_kind
    lines = [f"- genlab's 2-worker figures below are the row {ROWS[w2][0]!r}"]
    for n in sorted({smallest, largest}):
        lines.append(check(
            f"genlab 2 workers / Pillow ceiling, {n:,} images",
            ratio(rate(w2, n), rate("ceiling", n)), 1.3, True,
            "same cores; decode+resize+flip+normalize vs bare decode+resize",
        ))  # fmt: skip
        lines.append(check(
            f"genlab 2 workers / DataLoader(2) with torchvision v2, {n:,} images",
            ratio(rate(w2, n), rate("dataloader_v2", n)), 2.0, True, "same work",
        ))  # fmt: skip
        lines.append(check(
            f"genlab 0 workers / plain Pillow loop, {n:,} images",
            ratio(rate("genlab_w0", n), rate("one_process", n)), 1.8, True, "1 process, same work",
        ))  # fmt: skip
        lines.append(check(
            f"genlab 0 workers, post's settings / post-style pipeline, {n:,} images",
            ratio(rate("genlab_w0_post", n), rate("post_style", n)), 1.3, True, "post's settings",
        ))  # fmt: skip
        bare = by.get(("bare_scaled", n))
        for row in ("genlab_w0", w2):
            r = by.get((row, n))
            if r and r.images and bare and bare.images:
                mine, limit = r.cpu_seconds / r.images * 1e3, bare.cpu_seconds / bare.images * 1e3
                lines.append(
                    f"- {ROWS[row][0]}, {n:,} images: {mine:.2f} CPU ms/image, "
                    f"{mine / limit:.2f}x the bare scaled decode ({limit:.2f} ms): "
                    f"{mine - limit:.2f} ms/image left above this machine's limit"
                )
    on, off, fast = draft.get("draft_on"), draft.get("draft_off"), draft.get("turbo")
    lines.append(check(
        "turbo / Pillow full decode, 1024x768 -> 224",
        ratio(fast.rate if fast and fast.images else None, off.rate if off and off.images else None),
        3.0, True, "one process",
    ))  # fmt: skip
    lines.append(check(
        "Pillow draft / Pillow full decode, 1024x768 -> 224",
        ratio(on.rate if on and on.images else None, off.rate if off and off.images else None),
        2.5, True, "one process (0.1's target)",
    ))  # fmt: skip
    g_small, g_large = by.get((w2, smallest)), by.get((w2, largest))
    if g_small and g_large and g_small.images and g_large.images and smallest != largest:
        lines.append(check(
            f"genlab 2 workers peak PSS {largest:,} / {smallest:,} images",
            g_large.peak_pss / g_small.peak_pss, 1.10, False, "flat memory",
        ))  # fmt: skip
    for row in ("dataloader_v2", "dataloader"):
        dl = by.get((row, largest))
        if g_large and dl and g_large.images and dl.images:
            lines.append(check(
                f"genlab 2 workers / {ROWS[row][0]} peak PSS, {largest:,} images",
                g_large.peak_pss / dl.peak_pss, 1.0, False, "below the DataLoader's",
            ))  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 200 images, 40 for the draft rows"
    )
    parser.add_argument(
        "--sizes", default="2000,10000", help="comma-separated set sizes (multiples of 10)"
    )
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows to run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--data",
        default=os.path.join(tempfile.gettempdir(), "genlab-bench"),
        help="folder caching the generated image sets",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every row this many times (interleaved) and keep the fastest; peak PSS is the highest",
    )
    parser.add_argument("--draft-images", type=int, default=300)
    parser.add_argument(
        "--eager-limit",
        type=float,
        default=0.6,
        help="skip the eager row when its estimated peak exceeds this share of available memory",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per row")
    parser.add_argument(
        "--table",
        metavar="FILE.md",
        help="also write the tables and targets as markdown to this file "
        "(docs/performance_table.md is the one the documentation includes)",
    )
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.row:
        print(json.dumps(run_row(args.row, args.root, args.batch_size)), flush=True)
        return 0

    import psutil

    sizes = [200] if args.quick else [int(s) for s in args.sizes.split(",")]
    draft_images = 40 if args.quick else args.draft_images
    rows = [r for r in args.rows.split(",") if r]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown!r}; choose from {list(ROWS)!r}")
    cache = Path(args.data)
    load_at_start = os.getloadavg()[0]
    print(
        f"# genlab benchmarks: {os.cpu_count()} CPUs, load average {load_at_start:.2f} at start, "
        f"batch {args.batch_size}, 224x224, data in {cache}"
    )
    import genlab

    print(f"# genlab {genlab.__version__} from {Path(genlab.__file__).parent}")
    t0 = time.perf_counter()
    full = photo_set(cache, max(sizes))
    print(
        f"# image set: {max(sizes):,} JPEGs 500x375 made by {(full / '.complete').read_text().strip()} "
        f"({time.perf_counter() - t0:.0f} s)"
    )

    results: list[Result] = []
    ceilings: dict[int, float] = {}
    for n in sizes:
        root = full if n == max(sizes) else subset(full, n)
        warm_cache(root)
        best: dict[str, Result] = {}
        for rep in range(args.repeat):  # rows interleaved, so a busy spell hits all of them
            for row in rows:
                if row == "eager" and rep == 0:
                    need = n * 224 * 224 * 3 * 4 * 2.5
                    available = psutil.virtual_memory().available
                    if need > args.eager_limit * available:
                        best[row] = Result(
                            row,
                            n,
                            note=f"skipped: needs ~{need / 2**30:.1f} GiB, "
                            f"{available / 2**30:.1f} GiB available",
                        )
                        print(f"  {ROWS[row][0]:45s} {n:>6,}  {best[row].note}", flush=True)
                if row in best and not best[row].images and best[row].note:
                    continue
                r = measure(row, root, n, args.batch_size, args.timeout)
                shown = (
                    f"{fmt_rate(r):>6} img/s  peak PSS {r.peak_pss / MB:7,.0f} MB"
                    if r.images
                    else r.note
                )
                print(f"  {ROWS[row][0]:45s} {n:>6,}  {shown}", flush=True)
                previous = best.get(row)
                if previous is None or (r.images and r.rate > previous.rate):
                    if previous is not None:
                        r.peak_pss = max(r.peak_pss, previous.peak_pss)
                    best[row] = r
                elif r.images:
                    previous.peak_pss = max(previous.peak_pss, r.peak_pss)
        results.extend(best[row] for row in rows)
        if "ceiling" in best and best["ceiling"].images:
            ceilings[n] = best["ceiling"].rate

    draft: dict[str, Result] = {}
    big = photo_set(cache, draft_images, size=(1024, 768))
    warm_cache(big)
    for _ in range(args.repeat):
        for row in DRAFT_ROWS:
            r = measure(row, big, draft_images, args.batch_size, args.timeout)
            if row not in draft or (r.images and r.rate > draft[row].rate):
                draft[row] = r
            shown = f"{fmt_rate(r):>6} img/s" if r.images else r.note
            print(f"  {DRAFT_ROWS[row]:45s} {draft_images:>6,}  {shown}", flush=True)

    report = [
        *table_lines(results, ceilings),
        "",
        "| decoding 1024x768 JPEG -> 224x224, 1 process | images | images/s | CPU ms/image |",
        "|---|---:|---:|---:|",
        *(
            f"| {DRAFT_ROWS[row]} | {draft_images:,} | {fmt_rate(r) if r.images else r.note} | "
            f"{r.cpu_seconds / r.images * 1e3:.2f} |"
            if r.images
            else f"| {DRAFT_ROWS[row]} | {draft_images:,} | {r.note} | - |"
            for row, r in draft.items()
        ),
        "",
        *targets(results, draft, max(sizes), min(sizes)),
    ]
    print("\n" + "\n".join(report))
    ending = (
        f"load average {os.getloadavg()[0]:.2f} at end; {time.perf_counter() - t0:.0f} s in all"
    )
    print(f"\n# {ending}")
    if args.table:
        shown_argv = " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.table).write_text(
            f"Measured by `python benchmarks/run.py {shown_argv}` with genlab {genlab.__version__} on "
            f"{os.cpu_count()} CPUs (load average {load_at_start:.2f} at start, {ending}), batch "
            f"{args.batch_size}, 224x224.\n\n" + "\n".join(report) + "\n"
        )
        print(f"# wrote {args.table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
