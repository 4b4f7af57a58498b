"""Tests for genlab.lab.throttle: redraw at once, then merge bursts into one trailing call."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from genlab.lab.throttle import Throttle


def in_fresh_thread(function, *args):
    """Run in a thread of its own, away from any event loop another test left running here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


def test_throttle_runs_the_first_request_and_merges_a_burst():
    calls = []

    async def burst():
        # a long interval against a burst of zero-length sleeps: robust on a loaded machine
        throttle = Throttle(lambda: calls.append(len(calls)), interval=0.5)
        throttle.trigger()
        assert calls == [0]  # the first change redraws at once
        for _ in range(10):
            throttle.trigger()
            await asyncio.sleep(0)
        assert throttle.pending and calls == [0]
        await asyncio.sleep(0.8)
        assert not throttle.pending
        assert calls == [0, 1]  # the burst became one trailing call
        await asyncio.sleep(0.6)
        throttle.trigger()  # quiet for longer than the interval: at once again
        assert calls == [0, 1, 2]

    in_fresh_thread(asyncio.run, burst())
    in_fresh_thread(
        Throttle(lambda: calls.append("now"), interval=0.05).trigger
    )  # no loop: at once
    assert calls == [0, 1, 2, "now"]
