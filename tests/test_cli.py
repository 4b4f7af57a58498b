"""The genlab command: run, sample, grid, export, validate."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from corpus import BOMB_PIXELS, write_corpus

from genlab.cli import main


def test_run_on_a_folder_reports_and_writes_the_exports(digits_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(digits_root), "--batch-size", "20", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "60 images, 10 classes, 3 batches of 20" in text
    assert "img/s" in text and "peak resident memory" in text and "skipped 0 unreadable" in text
    spec = json.loads((out / "pipeline.json").read_text())
    assert spec["source"]["params"]["batch_size"] == 20
    assert (out / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "genlab.Pipeline.from_folder(" in (out / "pipeline.py").read_text()


def test_export_and_grid_from_a_spec(digits_root, tmp_path, capsys):
    assert main(["run", str(digits_root), "--out", str(tmp_path)]) == 0
    assert main(["export", str(tmp_path / "pipeline.json"), "-o", str(tmp_path / "again.py")]) == 0
    assert (tmp_path / "again.py").read_text() == (tmp_path / "pipeline.py").read_text().replace(
        "pipeline.py", "again.py").replace("from pipeline import", "from again import")  # fmt: skip
    assert main(["grid", str(tmp_path / "pipeline.json"), "-o", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 1000


def test_sample_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("keep me")
    assert main(["sample", str(tmp_path / "x")]) == 2
    assert "non-empty folder" in capsys.readouterr().err
    assert (tmp_path / "x" / "file").read_text() == "keep me"


def test_validate_lists_bad_files_and_fails(tmp_path, capsys):
    corpus = write_corpus(tmp_path)
    code = main(["validate", str(tmp_path), "--max-pixels", str(BOMB_PIXELS // 2)])
    text = capsys.readouterr().out
    assert code == 1
    for path in corpus.bad:
        assert f"bad {path}: " in text


def test_bad_target_is_a_clean_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_python_dash_m_genlab_runs():
    result = subprocess.run(
        [sys.executable, "-m", "genlab", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("genlab ")


def test_run_takes_the_number_and_kind_of_workers(digits_root, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "run",
                str(digits_root),
                "--workers",
                "2",
                "--worker-kind",
                "process",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    run = json.loads((out / "pipeline.json").read_text())["run"]
    assert (run["num_workers"], run["worker_kind"]) == (2, "process")
    assert (
        main(["run", str(out / "pipeline.json"), "--worker-kind", "thread", "--out", str(out)]) == 0
    )
    assert json.loads((out / "pipeline.json").read_text())["run"]["worker_kind"] == "thread"


def test_bad_worker_options_are_clean_errors(digits_root, capsys):
    assert main(["run", str(digits_root), "--workers", "-1", "--out", ""]) == 2
    assert "parameter '--workers' must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", str(digits_root), "--worker-kind", "fibre"])
    assert "invalid choice: 'fibre'" in capsys.readouterr().err


def test_run_help_says_workers_are_threads_or_processes(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "--worker-kind {thread,process}" in text
        and "threads of this process or forked processes" in text
    )
    assert "worker processes" not in text


def test_run_prints_the_time_to_the_first_batch_beside_the_throughput(digits_root, capsys):
    assert main(["run", str(digits_root), "--batch-size", "20", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if "throughput" in line)
    first = float(re.search(r"first batch after ([0-9.]+) s", line).group(1))
    assert 0 < first < 600 and re.search(r"throughput \d+ img/s", line)
