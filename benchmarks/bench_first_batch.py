"""Issue 19's targets side by side from one run: time to the first batch, whole epochs with
start-up, 2 workers against 0, the lab's first grid, with memory beside each figure.

    python benchmarks/bench_first_batch.py                 # 2,000 images, ~3-6 minutes on 2 cores
    python benchmarks/bench_first_batch.py --big 10000     # also the 10,000-image epoch vs the pool
    python benchmarks/bench_first_batch.py --repeat 3      # rows interleaved 3 times: fastest epoch, median first batch
    python benchmarks/bench_first_batch.py --images 200    # smoke run

Every row runs in a fresh Python process. Its clock starts after the imports a user pays anyway
(``import genlab``; ``import torch`` for the DataLoader rows; numpy and Pillow for the bare pool)
and stops at the first batch delivered and at the end of the epoch: the epoch figure includes
listing the folder, starting the workers and the first batch ("start-up included"). Beside each
row: the peak PSS of the row's process tree (sampled every 50 ms from outside, shared pages
counted once), the PSS at the first batch, a quarter into the epoch (when the prefetched batches
are all made) and at the end (memory must not grow from there), and the peak of Python's allocations (``tracemalloc``) in a separate, untimed run of the genlab rows.

"CPU s to first batch" is the CPU time of the row's process (all its threads) until the first
batch, and "CPU ms/image" that of the process and its ended workers over the epoch: on a loaded
machine they move far less than wall-clock figures (the worker processes of the DataLoader and
the pool are counted only in the epoch's figure). With 2 worker threads the first batch's images
are decoded by both threads, so it comes sooner for about the same CPU as with 0 workers.

Rows (JPEG photographs 500x375 -> 224x224, batch 32):

- genlab, 2 / 0 workers: ``Pipeline.from_folder(root, batch_size=32, seed=0, num_workers=n)``,
  genlab's default chain (the issue's setting); and with 2 workers, the same chain with
  ``read_images(resize_backend="opencv")``, the faster opt-in resize (other bytes).
- genlab, 0 workers, the post's settings (NEAREST, rot90, mean, shuffle) and the post-style
  pipeline (hand-written two-yield coroutines, every pixel decoded by Pillow).
- torch ``DataLoader(num_workers=2)`` with Pillow decode + bilinear resize + flip + normalize.
- the bare 2-process Pillow decode + resize pool (``multiprocessing.Pool.imap_unordered``).
- the lab: ``PipelineLab()`` on the photos sample, which draws its first grid before it returns.

The figures are wall-clock times on whatever machine runs this: on a shared machine they move
with the load; the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:  # this checkout's genlab, unless PYTHONPATH names another
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

MB = 1024 * 1024
BATCH = 32

ROWS = {
    "genlab_w2": "genlab, 2 workers (default chain)",
    "genlab_w0": "genlab, 0 workers (default chain)",
    "genlab_w2_opencv": "genlab, 2 workers, resize_backend='opencv'",
    "genlab_w0_post": "genlab, 0 workers, post's settings",
    "post_style": "post-style pipeline (Pillow, 1 process)",
    "dataloader": "torch DataLoader(2), Pillow decode+resize+flip",
    "pool": "bare 2-process Pillow decode+resize pool",
    "lab": "PipelineLab() on photos, first grid",
}
GENLAB_ROWS = ("genlab_w2", "genlab_w0", "genlab_w2_opencv", "genlab_w0_post")
PROCESS_ROWS = ("dataloader", "pool")  # their workers' CPU is counted only once they have ended


# --- child side: one row in this process -------------------------------------------------------


def _batches(row: str, root: str):
    """Import what the row needs (before the clock), then return a function giving its batches."""
    if row.startswith("genlab"):
        import genlab

        if row == "genlab_w0_post":
            from genlab_rows import _post_settings

            return lambda: _post_settings(root, BATCH)
        workers = 0 if row == "genlab_w0" else 2
        stages = None
        if row == "genlab_w2_opencv":  # the default chain with the opt-in resize back end
            stages = genlab.Pipeline.from_folder(root).to_spec()["stages"]
            stages[0]["params"]["resize_backend"] = "opencv"
        return lambda: genlab.Pipeline.from_folder(root, batch_size=BATCH, seed=0, stages=stages,
                                                   num_workers=workers)  # fmt: skip
    from image_sets import list_images

    items = list_images(Path(root))
    if row == "post_style":
        import baselines as b

        def post():
            b.np.random.seed(0)
            order = b.np.random.default_rng(0).permutation(len(items))
            return b.PostGeneratorPipeline(
                b.post_dataset([items[i] for i in order], BATCH), b.post_read_images(),
                b.post_augment(rotate90=True), b.post_rescale_images(mean=b.POST_MEAN),
                b.post_shuffle_samples(),
            )  # fmt: skip

        return post
    if row == "dataloader":
        import numpy as np
        import torch
        from baselines import load_normalized
        from torch.utils.data import DataLoader, Dataset

        class FolderDataset(Dataset):
            def __len__(self):
                return len(items)

            def __getitem__(self, i):
                path, label = items[i]
                return load_normalized(path, bool(np.random.random() < 0.5)), label

        def loader():
            torch.manual_seed(0)
            return DataLoader(FolderDataset(), batch_size=BATCH, shuffle=True, num_workers=2)

        return loader
    if row == "pool":
        from multiprocessing import get_context

        from baselines import _decode_resize

        def pool():
            paths = [p for p, _ in items]
            with get_context("fork").Pool(2) as workers:
                done = 0
                for _ in workers.imap_unordered(_decode_resize, paths, chunksize=BATCH):
                    done += 1
                    if done % BATCH == 0 or done == len(paths):
                        yield (None, [None] * (BATCH if done % BATCH == 0 else done % BATCH))

        return pool
    raise ValueError(f"unknown row {row!r}")


def run_row(row: str, root: str, traced: bool) -> dict:
    import psutil
    from memwatch import tree_pss

    me = psutil.Process()
    if row == "lab":
        return _run_lab()
    make = _batches(row, root)
    if traced:
        import tracemalloc

        tracemalloc.start()
    cpu_start, own_start = _cpu_seconds(), time.process_time()
    start = time.perf_counter()
    first = None
    images = 0
    first_pss = quarter_pss = 0
    quarter = _count_images(root) // 4
    for batch in make():
        if first is None:
            first = time.perf_counter() - start
            first_cpu = time.process_time() - own_start
            first_pss = tree_pss(me)[0]
        images += len(batch[1])
        if not quarter_pss and images >= quarter:  # the prefetched batches are all made by now
            quarter_pss = tree_pss(me)[0]
    seconds = time.perf_counter() - start
    out = {"first": first, "seconds": seconds, "images": images, "first_pss": first_pss,
           "quarter_pss": quarter_pss,
           "end_pss": tree_pss(me)[0], "first_cpu": first_cpu,
           "cpu": _cpu_seconds() - cpu_start}  # fmt: skip
    if traced:
        out["traced_peak"] = tracemalloc.get_traced_memory()[1]
    return out


def _count_images(root: str) -> int:
    return sum(1 for path in Path(root).rglob("*") if path.suffix.lower() in (".jpg", ".jpeg"))


def _cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its child processes that have ended."""
    import resource

    own, ended = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


def _run_lab() -> dict:
    import psutil
    from memwatch import tree_pss

    import genlab.lab
    from genlab.sample_data import ensure_sample_data

    ensure_sample_data("photos")  # written once per machine, not the lab's start-up
    start, cpu_start = time.perf_counter(), time.process_time()
    lab = genlab.lab.PipelineLab()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if not lab.grid_png:
        return {"note": "PipelineLab() returned without a grid"}
    pss = tree_pss(psutil.Process())[0]
    return {"first": seconds, "seconds": seconds, "images": 0, "first_pss": pss, "quarter_pss": pss, "end_pss": pss,
            "first_cpu": cpu, "cpu": cpu}  # fmt: skip


# --- parent side ---------------------------------------------------------------------------------


@dataclass
class Result:
    row: str
    n: int
    first: float = float("nan")
    seconds: float = float("nan")
    images: int = 0
    peak_pss: int = 0
    first_pss: int = 0
    quarter_pss: int = 0
    end_pss: int = 0
    traced_peak: int = 0
    first_cpu: float = float("nan")
    cpu: float = float("nan")
    note: str = ""
    runs: list[float] = field(default_factory=list)
    firsts: list[float] = field(default_factory=list)

    @property
    def first_median(self) -> float:
        """The median time to the first batch over the runs (the fastest epoch's run is not
        the fastest first batch: they move apart by tens of milliseconds)."""
        return statistics.median(self.firsts) if self.firsts else self.first

    @property
    def rate(self) -> float:
        return self.images / self.seconds if self.images else float("nan")


def measure(row: str, root: Path, n: int, traced: bool = False, timeout: float = 900) -> Result:
    from memwatch import PeakWatcher

    cmd = [sys.executable, str(Path(__file__).resolve()), "--row", row, "--root", str(root)]
    if traced:
        cmd.append("--traced")
    result = Result(row, n)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakWatcher(proc.pid) as watcher:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            result.note = f"timed out after {timeout:.0f} s"
            return result
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        result.note = "failed: " + ((err.strip().splitlines() or ["no output"])[-1])
        return result
    data = json.loads(lines[-1])
    if "note" in data:
        result.note = data["note"]
        return result
    result.peak_pss = watcher.peak
    for key in (
        "first",
        "seconds",
        "images",
        "first_pss",
        "quarter_pss",
        "end_pss",
        "traced_peak",
        "first_cpu",
        "cpu",
    ):
        if key in data:
            setattr(result, key, data[key])
    return result


def _keep_best(best: dict, r: Result) -> None:
    old = best.get((r.row, r.n))
    if old is None or (r.note == "" and (old.note or r.seconds < old.seconds)):
        if old is not None:
            r.peak_pss = max(r.peak_pss, old.peak_pss)
            r.runs, r.firsts = old.runs, old.firsts
        best[(r.row, r.n)] = r
        old = r
    elif not r.note:
        old.peak_pss = max(old.peak_pss, r.peak_pss)
    if not r.note:
        old.runs.append(r.seconds)
        old.firsts.append(r.first)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b and a == a and b == b else None


def _check(name: str, value: float | None, target: float, above: bool, detail: str) -> str:
    if value is None:
        return f"- {name}: not measured ({detail})"
    ok = value >= target if above else value <= target
    sign = ">=" if above else "<="
    return f"- {name}: {value:.2f} (target {sign} {target:g}) {'met' if ok else 'MISSED'}; {detail}"


def report(best: dict, n: int, big: int | None) -> list[str]:
    def get(row: str, size: int = n) -> Result | None:
        r = best.get((row, size))
        return r if r is not None and not r.note else None

    lines = [
        "| row | images | first batch, s | CPU s to first batch | epoch incl. start-up, s | images/s | "
        "CPU ms/image | peak PSS, MB | PSS at first batch / a quarter in / end, MB | tracemalloc peak, MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (row, size), r in sorted(
        best.items(), key=lambda kv: (kv[0][1], list(ROWS).index(kv[0][0]))
    ):
        if r.note:
            lines.append(f"| {ROWS[row]} | {size:,} | {r.note} | | | | | | | |")
            continue
        rate = f"{r.rate:,.0f}" if r.images else "-"
        traced = f"{r.traced_peak / MB:,.1f}" if r.traced_peak else "-"
        epoch = f"{r.seconds:.2f}" if r.images else "-"
        per_image = f"{r.cpu / r.images * 1e3:.2f}" if r.images else "-"
        first_cpu = "-" if row in PROCESS_ROWS else f"{r.first_cpu:.3f}"
        lines.append(
            f"| {ROWS[row]} | {size if r.images else 0:,} | {r.first_median:.3f} | {first_cpu} | {epoch} | "
            f"{rate} | {per_image} | {r.peak_pss / MB:,.0f} | "
            f"{r.first_pss / MB:,.0f} / {r.quarter_pss / MB:,.0f} / {r.end_pss / MB:,.0f} | {traced} |"
        )
    w2, w0, dl, pool = get("genlab_w2"), get("genlab_w0"), get("dataloader"), get("pool")
    post, w0_post, lab = get("post_style"), get("genlab_w0_post"), get("lab")
    cv = get("genlab_w2_opencv")
    lines += [
        "",
        _check("time to first batch, 2 workers, after import genlab (s)", w2 and w2.first_median, 0.3,
               False, "seconds"),
        _check("first batch: genlab 2 workers / DataLoader(2) (time ratio)",
               _ratio(w2 and w2.first_median, dl and dl.first_median), 1.0, False, "<= 1 means not later"),
        _check("first batch: genlab 2 workers / genlab 0 workers (time ratio)",
               _ratio(w2 and w2.first_median, w0 and w0.first_median), 1.0, False, "<= 1 means not later"),
        _check(f"epoch of {n:,} incl. start-up: genlab 2 workers / bare Pillow pool (throughput)",
               _ratio(w2 and w2.rate, pool and pool.rate), 1.3, True, "same cores"),
        _check(f"epoch of {n:,} incl. start-up: genlab 2 workers / DataLoader(2) (throughput)",
               _ratio(w2 and w2.rate, dl and dl.rate), 2.0, True, "same work"),
        _check(f"epoch of {n:,}: genlab 0 workers, post's settings / post-style (throughput)",
               _ratio(w0_post and w0_post.rate, post and post.rate), 1.3, True, "1 process"),
        _check(f"epoch of {n:,}: genlab 2 workers / 0 workers (throughput)",
               _ratio(w2 and w2.rate, w0 and w0.rate), 1.8, True, "2 cores"),
        _check(f"epoch of {n:,} incl. start-up: genlab 2 workers, opencv resize / bare Pillow pool "
               "(throughput, not a target: an opt-in setting)",
               _ratio(cv and cv.rate, pool and pool.rate), 1.3, True, "same cores"),
        _check("lab: PipelineLab() to its first grid (s)", lab and lab.first_median, 1.0, False,
               "the grid is drawn before PipelineLab() returns"),
    ]  # fmt: skip
    if big:
        w2b, poolb = get("genlab_w2", big), get("pool", big)
        lines.append(_check(
            f"epoch of {big:,} incl. start-up: genlab 2 workers / bare Pillow pool (throughput)",
            _ratio(w2b and w2b.rate, poolb and poolb.rate), 1.5, True, "same cores",
        ))  # fmt: skip
    for r in (w2, w0):  # the prefetched batches fill up after the first; then it must stay flat
        if r and r.quarter_pss:
            lines.append(
                f"- {ROWS[r.row]}: PSS {r.first_pss / MB:,.0f} MB at the first batch, "
                f"{r.quarter_pss / MB:,.0f} MB a quarter into the epoch, {r.end_pss / MB:,.0f} MB "
                f"at its end ({(r.end_pss - r.quarter_pss) / MB:+,.0f} MB over the last three quarters)"
            )
    runs = [f"{ROWS[row]} {', '.join(f'{s:.2f}' for s in r.runs)}"
            for (row, _), r in best.items() if len(r.runs) > 1]  # fmt: skip
    if runs:
        lines.append("- every run's epoch seconds (fastest kept): " + "; ".join(runs))
        firsts = [f"{ROWS[row]} {', '.join(f'{s:.3f}' for s in r.firsts)}"
                  for (row, _), r in best.items() if len(r.firsts) > 1]  # fmt: skip
        lines.append("- every run's first batch, seconds (median shown): " + "; ".join(firsts))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="images in the epoch (even)")
    parser.add_argument(
        "--big", type=int, default=0, help="also this many images, genlab 2 workers vs the pool"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="interleaved runs per row: the fastest epoch kept, the median first batch",
    )
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "genlab-bench"),
                        help="folder caching the generated image sets")  # fmt: skip
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.row:
        print(json.dumps(run_row(args.row, args.root, args.traced)), flush=True)
        return 0

    from image_sets import photo_set, warm_cache

    rows = [r for r in args.rows.split(",") if r]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown!r}; choose from {list(ROWS)!r}")
    started = time.perf_counter()
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start, batch {BATCH}")
    root = photo_set(Path(args.data), args.images)
    warm_cache(root)
    best: dict = {}
    for _ in range(args.repeat):
        for row in rows:
            r = measure(row, root, args.images)
            _keep_best(best, r)
            shown = r.note or f"first {r.first:.3f} s, epoch {r.seconds:.2f} s"
            print(f"  {ROWS[row]:48s} {shown}", flush=True)
    for row in (r for r in GENLAB_ROWS if r in rows):  # Python's allocations, untimed
        traced = measure(row, root, args.images, traced=True)
        if (row, args.images) in best and not traced.note:
            best[(row, args.images)].traced_peak = traced.traced_peak
    if args.big:
        big_root = photo_set(Path(args.data), args.big)
        warm_cache(big_root)
        for _ in range(args.repeat):
            for row in ("genlab_w2", "pool"):
                r = measure(row, big_root, args.big)
                _keep_best(best, r)
                print(f"  {ROWS[row]:48s} {args.big:,}: {r.note or f'epoch {r.seconds:.2f} s'}")
    lines = report(best, args.images, args.big or None)
    print("\n" + "\n".join(lines))
    print(
        f"\n# load average {os.getloadavg()[0]:.2f} at end; {time.perf_counter() - started:.0f} s in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
