"""The processes that draw the digests' charts (`bot.charts`), and drawing off the event loop.

Drawing is CPU-bound and holds the GIL: in the bot's process it would take turns with the event
loop (and with every other chart). So charts are drawn in a pool of worker processes, one per
core less the bot's own by default (`CHART_WORKERS`, `default_workers`), started with "spawn"
(nothing of the bot's state, sockets or threads is inherited) when the bot starts. Each worker
imports matplotlib once and keeps its fonts, glyphs, text metrics and rendered labels for every
chart it draws after; a worker that dies (killed, out of memory) is replaced on the next draw. `CHART_WORKERS=0` draws in one thread of the bot's process
instead (a one-core machine; the tests).

The bot's own process does not load matplotlib, numpy and Pillow (about 40 MB it would hold for
nothing): this module names what runs in a worker by its dotted name (`DRAW`, `INIT`), resolved
where it runs (`_call`). That, and `bot/__main__.py` loading the command line after the instance
lock, are the deliberate exceptions to "no project import inside a function".
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pkgutil
import threading
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Final

from bot.domain.digest import Digest

__all__ = [
    "CHART_SECTIONS",
    "configure",
    "default_workers",
    "render_all_async",
    "shutdown",
    "slowest_chart_s",
    "start",
    "worker_pids",
]

log = logging.getLogger(__name__)

#: the digest sections that have a chart (the rekapitulasi has none)
CHART_SECTIONS: Final = frozenset({"logistik", "hitung", "insiden"})

#: what a worker runs: `bot.charts.draw(digest, sections)` → (charts, seconds of each, pid)
DRAW: Final = "bot.charts:draw"
#: a new worker's set-up, and the warm-up of fonts
INIT: Final = "bot.charts:init_worker"
WARM: Final = "bot.charts:warm_up"


def _call(name: str, *args: Any) -> Any:
    """Run the function called `name` ("module:function") here — in a worker, or in the chart
    thread — importing its module on first use."""
    return pkgutil.resolve_name(name)(*args)


def default_workers() -> int:
    """One drawing worker per core the bot may use, less the core its own process needs (at least
    one). At 07:00 the bot's process reads every group's digest and sends while the workers draw:
    with as many workers as cores (2 on 2), three busy processes took turns and the slowest chart
    took 0.37 s instead of 0.14 s; one worker draws the country's 1,656 charts in about 86 s, within
    the ~95 s Telegram's 30 messages a second need to send them, with 130 MB less memory."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


class _Drawer:
    """The pool (or the single thread) that draws charts, made on first use."""

    def __init__(self) -> None:
        self.workers = 0
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        #: slowest chart drawn so far, seconds, per drawing process's pid (the benchmark's `chart_s`)
        self.slowest: dict[int, float] = {}

    def configure(self, workers: int) -> None:
        with self._lock:
            if workers != self.workers:
                self._stop(wait=True)
                self.workers = workers
                self.slowest.clear()

    def executor(self) -> Executor:
        with self._lock:
            if self._executor is None:
                if self.workers:
                    self._executor = ProcessPoolExecutor(
                        self.workers,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_call,
                        initargs=(INIT, os.getpid()),  # the worker exits when this process is gone
                    )
                else:
                    self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="charts")
            return self._executor

    def pids(self) -> list[int]:
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    def _stop(self, wait: bool) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)

    def stop(self, wait: bool = True) -> None:
        with self._lock:
            self._stop(wait)

    def reset_broken(self, broken: Executor) -> None:
        """Forget a pool whose worker died: the next draw starts a new one."""
        with self._lock:
            if self._executor is broken:
                self._stop(wait=False)


_drawer = _Drawer()


def configure(workers: int | None) -> None:
    """How many processes draw charts: None, one per core less the bot's own (`default_workers`);
    0, a thread of this process. Takes effect for the next draw (a running pool is stopped first)."""
    _drawer.configure(default_workers() if workers is None else workers)


def start() -> list[Future[Any]]:
    """Start the drawing workers now (at the bot's start), so the first digest does not wait for
    them; returns what each worker's warm-up will be done with."""
    executor = _drawer.executor()
    return [executor.submit(_call, WARM) for _ in range(max(_drawer.workers, 1))]


def worker_pids() -> list[int]:
    """The drawing processes' ids (none when drawing in a thread)."""
    return _drawer.pids()


def slowest_chart_s() -> dict[int, float]:
    """The slowest chart each drawing process drew, seconds, by pid."""
    return dict(_drawer.slowest)


async def render_all_async(d: Digest, sections: tuple[str, ...] | None = None) -> list[tuple[str, bytes]]:
    """`bot.charts.render_all` off the event loop: in a drawing worker (or the chart thread), so the
    bot keeps serving updates and sending meanwhile. A pool whose worker died is replaced once."""
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        executor = _drawer.executor()
        try:
            pngs, seconds, pid = await loop.run_in_executor(executor, _call, DRAW, d, sections)
        except BrokenExecutor:
            _drawer.reset_broken(executor)
            if attempt == 2:
                raise
            log.warning("a chart worker died; starting the drawing pool again")
            continue
        _drawer.slowest[pid] = max([_drawer.slowest.get(pid, 0.0), *seconds])  # none: sections without a chart
        return list(pngs)
    raise AssertionError("unreachable")


def shutdown(wait: bool = True) -> None:
    """Stop the drawing workers (on bot shutdown: each finishes the chart it draws); a later
    `render_all_async` starts them again."""
    _drawer.stop(wait)
