"""Runs the enrichment off the event loop: in worker processes, or one thread.

spaCy is CPU-bound; on Faust's event loop it would stall heartbeats and commits. With
``nlp_processes >= 1`` each process loads the pipeline once (in its initializer) and a batch is
split across them; with ``0`` a single thread runs it (for tests and small machines).
Articles cross the process boundary as JSON bytes, results come back the same way.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from concurrent.futures.thread import BrokenThreadPool
from multiprocessing.process import BaseProcess

from streams.codec import dumps, loads
from streams.errors import ProcessingError
from streams.nlp.enrich import Enricher, Result
from streams.pids import alive
from streams.records import Article, EnrichedArticle
from streams.settings import Settings

log = logging.getLogger(__name__)
BrokenExecutor = (BrokenProcessPool, BrokenThreadPool)
_enricher: Enricher | None = None


def _init(settings_json: str, parent: int | None = None) -> None:
    """Load the pipeline in an NLP process; with ``parent`` (the worker's pid, taken when the
    pool was made), exit once that worker is gone.

    The pid is passed, not read here with ``getppid()``: a worker stopped while this process
    was still starting has already handed it to init, and it would watch init for good.
    """
    global _enricher
    if parent is not None:
        _exit_with_parent(parent)
    _enricher = Enricher.from_settings(Settings.model_validate_json(settings_json))


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """End this NLP process once the worker that started it is gone.

    A worker stopped normally shuts its pool down; one killed (``kill -9``, the OOM killer)
    leaves no one to do it, and the process would sit on its model's memory for good.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        log.warning("the worker (pid %d) is gone; NLP process %d exits", parent, os.getpid())
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ready() -> int:
    assert _enricher is not None, "worker process not initialised"
    return os.getpid()


def _enrich_encoded(payloads: list[bytes]) -> list[bytes | str]:
    assert _enricher is not None, "worker process not initialised"
    articles = [loads(Article, p) for p in payloads]
    return [r if isinstance(r, str) else dumps(r) for r in _encode(_enricher.enrich(articles))]


def _encode(results: Sequence[Result]) -> list[EnrichedArticle | str]:
    return [str(r) if isinstance(r, ProcessingError) else r for r in results]


class EnrichRunner:
    """``await runner.enrich(articles)`` without blocking the loop."""

    def __init__(self, settings: Settings, *, stop_timeout: float = 30.0) -> None:
        self.processes = settings.nlp_processes
        self.stop_timeout = stop_timeout
        self._settings_json = settings.model_dump_json()
        self._executor: Executor | None = None

    def start(self) -> None:
        if self._executor is not None:
            return
        if self.processes == 0:
            self._executor = ThreadPoolExecutor(
                1, thread_name_prefix="spacy", initializer=_init, initargs=(self._settings_json,)
            )
        else:
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded loop
                initializer=_init,
                initargs=(self._settings_json, os.getpid()),
            )

    def warm(self) -> float:
        """Start the NLP processes and wait until each has loaded the model; returns seconds.

        Called before the worker consumes, so the first batch does not wait for spaCy to load
        (and a broken model install fails the worker at once, not at its first article).
        """
        started = time.monotonic()
        self.start()
        assert self._executor is not None
        count = max(1, self.processes)
        # the pool starts all its processes at the first submit (spawn), each runs the
        # initializer (the model load) before any task; waiting on as many tasks as there are
        # processes returns once the first has loaded, the others following within a moment
        pids = {f.result() for f in [self._executor.submit(_ready) for _ in range(count)]}
        seconds = time.monotonic() - started
        log.info("spaCy loaded in %d process(es) %s in %.1fs", len(pids), sorted(pids), seconds)
        return seconds

    def stop(self, *, lost: bool = False) -> None:
        """Shut the pool down; with ``lost`` (a process died), kill the others first.

        A process killed while it held the pool's task queue lock (an idle process waits for
        work holding it) leaves that lock taken for good: the survivors would never read the
        shutdown request and a graceful shutdown would wait on them forever. The pool kills
        them itself when its manager thread sees the death first; when the shutdown comes
        first, it is ours to do. A graceful stop that still does not finish within
        ``stop_timeout`` seconds (the same lock, a death nobody noticed) ends the same way.
        """
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if not isinstance(executor, ProcessPoolExecutor):
            executor.shutdown(wait=True, cancel_futures=True)
            return
        # shutdown(wait=False) forgets the processes and the manager thread: take them first
        processes = list((getattr(executor, "_processes", None) or {}).values())
        manager = getattr(executor, "_executor_manager_thread", None)
        results = getattr(executor, "_result_queue", None)
        if lost:
            _kill(processes)
        executor.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            manager.join(self.stop_timeout)
            if manager.is_alive():
                log.warning(
                    "NLP processes still running %.0fs after the stop; killing them",
                    self.stop_timeout,
                )
                _kill(processes)
                manager.join(self.stop_timeout)
        if manager is not None and manager.is_alive():
            log.error("the NLP pool did not stop, even with its processes killed")
        elif results is not None:
            results.close()

    def _lost_a_process(self) -> bool:
        processes = getattr(self._executor, "_processes", None) or {}
        return any(
            not process.is_alive() or not alive(pid) for pid, process in list(processes.items())
        )

    def pids(self) -> list[int]:
        """Process ids of the NLP processes (empty in thread mode or before the first batch)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    async def enrich(self, articles: Sequence[Article]) -> list[Result]:
        """Results in input order; a crashed NLP process is replaced and the batch retried once."""
        try:
            return await self._enrich(articles)
        except BrokenExecutor:
            log.exception("an NLP process died; starting new ones and retrying the batch")
            self.stop(lost=True)
            return await self._enrich(articles)

    async def _enrich(self, articles: Sequence[Article]) -> list[Result]:
        if self._lost_a_process():
            # the pool has not noticed yet (its manager thread checks in its own time): a
            # batch sent now could run on the survivors alone and leave the pool short
            log.warning("an NLP process died; starting new ones")
            self.stop(lost=True)
        self.start()
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        chunks = _split(list(articles), max(1, self.processes))
        futures = [
            loop.run_in_executor(self._executor, _enrich_encoded, [dumps(a) for a in chunk])
            for chunk in chunks
        ]
        results: list[Result] = []
        for encoded in await asyncio.gather(*futures):
            for item in encoded:
                # our own NLP process wrote it: pydantic's JSON parser validates it in one
                # pass, four times faster than orjson then model_validate
                results.append(
                    ProcessingError(item)
                    if isinstance(item, str)
                    else EnrichedArticle.model_validate_json(item)
                )
        return results


def _kill(processes: Sequence[BaseProcess]) -> None:
    """SIGKILL the processes and reap them (the pool's own ``join`` on them then returns)."""
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join()


def _split(items: list[Article], n: int) -> list[list[Article]]:
    size = -(-len(items) // n) or 1
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]
