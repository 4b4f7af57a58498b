"""Fixtures that drive a real JupyterLab in headless Chromium through Playwright.

``jupyterlab_server`` starts ``python -m jupyterlab`` on 127.0.0.1 on a free port with its own config,
runtime, settings and workspace folders in a temporary directory, serving a copy of ``notebooks/``;
``lab`` opens a page on it and offers the few actions the tests need (open a notebook, wait for the
kernel, run all cells). Screenshots go to ``test-output/browser/`` at the repository root.

Tests here are marked ``browser`` and skipped, with the reason, only when Playwright or
``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"
OUTPUT_DIR = REPO_ROOT / "test-output" / "browser"
SERVER_START_TIMEOUT = 60.0
KERNEL_IDLE_TEXT = "(ipykernel) | Idle"


def _missing_requirement() -> str | None:
    """Return why browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "jupyterlab is not installed (pip install jupyterlab)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` and skip them all when a requirement is missing."""
    reason = _missing_requirement()
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"browser test skipped: {reason}"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_status(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyterlab exited with code {process.returncode}; log:\n{log_path.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{base_url}api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"jupyterlab did not answer {base_url}api/status within {SERVER_START_TIMEOUT:.0f} s; "
        f"log:\n{log_path.read_text()}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def running_jupyterlab(base: Path, notebooks: Path = NOTEBOOKS) -> Iterator[dict]:
    """Run JupyterLab over a copy of ``notebooks`` with its own folders under ``base``; yield its
    URL and folders, stop it (by its PID) on exit. Used by the fixture and the benchmarks."""
    root_dir = base / "root"
    shutil.copytree(notebooks, root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings_dir = base / "settings"
    notification = settings_dir / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        IPYTHONDIR=str(base / "ipython"),
        MPLCONFIGDIR=str(base / "matplotlib"),
        GENLAB_DATA=str(base / "genlab-data"),  # the notebooks write the sample data afresh
        # the kernel imports genlab from this checkout even when it is not installed
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    port = _free_port()
    log_path = base / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.token=", "--ServerApp.password=",
        "--ServerApp.ip=127.0.0.1", "--allow-root", "--expose-app-in-browser",
        f"--ServerApp.root_dir={root_dir}",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for_status(base_url, process, log_path)
        yield {"url": base_url, "root_dir": root_dir, "log": log_path, "pid": process.pid}
    finally:
        _stop(process)


@pytest.fixture(scope="package")
def jupyterlab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Start JupyterLab over a temporary copy of ``notebooks/``; yield its URL and folders."""
    reason = _missing_requirement()
    if reason is not None:
        pytest.skip(f"browser test skipped: {reason}")
    with running_jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


class LabPage:
    """A Playwright page on JupyterLab with the few actions the tests need."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open_notebook(self, name: str, timeout: float = 60.0) -> None:
        """Open ``name`` (relative to the server root), ignoring any saved workspace."""
        self.page.goto(f"{self.base_url}lab/tree/{name}?reset", timeout=timeout * 1000)
        self.page.wait_for_selector(".jp-Notebook", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)

    def wait_kernel_idle(self, timeout: float = 60.0) -> None:
        """Wait for the status bar to read ``(ipykernel) | Idle``."""
        self.page.wait_for_function(
            """text => [...document.querySelectorAll('.jp-StatusBar-Widget')]
                       .some(el => el.textContent.includes(text))""",
            arg=KERNEL_IDLE_TEXT,
            timeout=timeout * 1000,
        )

    def run_all_cells(self) -> None:
        """Run every cell of the current notebook through the app's command registry."""
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot as ``test-output/browser/<name>.png`` and return its path."""
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUTPUT_DIR / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot saved: {path}")
        return path


@pytest.fixture(scope="package")
def browser():
    """A headless Debian Chromium driven by Playwright's sync API."""
    reason = _missing_requirement()
    if reason is not None:
        pytest.skip(f"browser test skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def lab(browser, jupyterlab_server: dict, request: pytest.FixtureRequest) -> Iterator[LabPage]:
    """A fresh browser page on the JupyterLab server; a screenshot is kept when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    lab_page = LabPage(page, jupyterlab_server["url"])
    try:
        yield lab_page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            lab_page.screenshot(f"{request.node.name}-failed")
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item so ``lab`` can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
