"""Drive the lab in JupyterLab and headless Chromium, for the browser benchmark and the docs'
screenshots: the same server, page and actions as the browser tests (``tests/browser``).

``open_tuning_lab()`` starts JupyterLab over a copy of ``notebooks/``, runs the tuning notebook
and adds four ops from the lab's menu, then yields the Playwright page.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # this checkout's genlab and tests
    sys.path.insert(len(sys.path) if os.environ.get("PYTHONPATH") else 1, str(HERE.parent))

from tests.browser.conftest import CHROMIUM, LabPage, running_jupyterlab  # noqa: E402
from tests.browser.test_lab_browser import (  # noqa: E402
    _add_from_dropdown,
    _run_tuning_notebook,
    _wait_until_settled,
    run_generators_notebook,
    unfold,
)

__all__ = [
    "ADDED_OPS",
    "LabPage",
    "open_tuning_lab",
    "run_generators_notebook",
    "unfold",
    "wait_until_settled",
]

#: The ops added from the menu to the tuning notebook's chain (the issue's "four ops added").
ADDED_OPS = ("random_resized_crop", "color_jitter", "gaussian_blur", "random_erasing")

wait_until_settled = _wait_until_settled


@contextlib.contextmanager
def open_tuning_lab(
    width: int = 1400, height: int = 1000, ops: tuple[str, ...] = ADDED_OPS
) -> Iterator[LabPage]:
    """The tuning notebook run in JupyterLab, ``ops`` added from the menu; yields the page."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, running_jupyterlab(Path(folder)) as server:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                context = browser.new_context(viewport={"width": width, "height": height})
                lab = LabPage(context.new_page(), server["url"])
                lab.server = server
                _run_tuning_notebook(lab)
                for name in ops:
                    _add_from_dropdown(lab.page, name)
                _wait_until_settled(lab.page, ["img.genlab-grid", ".genlab-stages"])
                yield lab
            finally:
                browser.close()
