"""Rate-limit redraws on fast slider drags without losing the last value."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Throttle"]


class Throttle:
    """Run ``action`` at once, then at most once per ``interval`` seconds while requests keep coming.

    The first change after a quiet spell redraws immediately; during a fast slider drag the requests
    that arrive while the last redraw is recent are merged into one trailing call, scheduled on the
    running asyncio loop (the Jupyter kernel's), which reads the controls' latest values. With
    ``interval <= 0`` or no running loop (scripts, tests, nbclient) every request runs at once.
    """

    def __init__(self, action: Callable[[], None], interval: float = 0.15) -> None:
        self.action = action
        self.interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._last_run = float("-inf")

    def trigger(self) -> None:
        """Ask for the action: run now, or once when ``interval`` has passed since the last run."""
        try:
            loop = asyncio.get_running_loop() if self.interval > 0 else None
        except RuntimeError:
            loop = None
        if loop is None:
            self.action()
            return
        if self._handle is not None:
            return  # a trailing call is already scheduled and will see the latest values
        wait = self._last_run + self.interval - loop.time()
        if wait <= 0:
            self._run(loop)
        else:
            self._handle = loop.call_later(wait, self._run, loop)

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        self._handle = None
        try:
            self.action()
        finally:
            self._last_run = loop.time()

    @property
    def pending(self) -> bool:
        """Whether a trailing call is waiting to run."""
        return self._handle is not None
