"""The scan pipeline: run connector tasks on one bounded pool, resolve locations, assess.

A connector is a source of `Task`s. A task reads one scope (an account, a region × service, a page of buckets …)
and yields resources, skips, or further tasks, which join the same pool. So one `--concurrency` bounds every
request the scan makes, across accounts, regions and services, and no stage waits for a slower sibling.

A task that raises becomes a skip naming its scope and the cause: the scan goes on, and the report shows it.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .classify import assess
from .inventory import Found, merge
from .knowledge import KnowledgeBase
from .model import Assessment, Copy, Location, Provider, Resource, Skip, Viewpoint

_T = TypeVar("_T")


@dataclass(frozen=True)
class Task:
    """One unit of reading: `run()` yields resources, skips, inventory records and further tasks."""

    provider: Provider
    scope: str
    run: Callable[[], Iterable[Resource | Skip | Found | Task]]
    describe_error: Callable[[BaseException], str] = field(default=lambda exc: f"{type(exc).__name__}: {exc}")


@dataclass
class Progress:
    """Counters the pipeline updates as it goes; the CLI renders them."""

    tasks_done: int = 0
    tasks_total: int = 0
    resources: int = 0
    skips: int = 0
    current: str = ""


@dataclass(frozen=True)
class ScanResult:
    """What a scan found: resources (deduplicated, sorted), skips, and what the inventory saw (for coverage)."""

    resources: tuple[Resource, ...]
    skipped: tuple[Skip, ...]
    found: tuple[Found, ...] = ()


class _Pool:
    """A fixed pool of daemon worker threads.

    Unlike ThreadPoolExecutor, whose workers the interpreter joins at exit, a worker blocked in an abandoned
    HTTP call (the scan deadline passed, or Ctrl-C) never keeps the process alive: `shutdown` cancels what has not
    started and returns at once.
    """

    def __init__(self, workers: int) -> None:
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._workers = max(1, workers)
        self._threads: list[threading.Thread] = []

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            fut, fn = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to the waiting thread, as an executor does
                fut.set_exception(exc)

    def submit(self, fn: Callable[[], _T]) -> Future[_T]:
        """Queue `fn`; a worker is started per submission until there are `workers` (one thread submits)."""
        fut: Future[_T] = Future()
        self._queue.put((fut, fn))
        if len(self._threads) < self._workers:
            worker = threading.Thread(target=self._work, name=f"scan_{len(self._threads)}", daemon=True)
            worker.start()
            self._threads.append(worker)
        return fut

    def shutdown(self, cancel: Iterable[Future[Any]] = ()) -> None:
        """Cancel `cancel` where not started, and let the workers end (without waiting for running calls)."""
        for fut in cancel:
            fut.cancel()
        for _ in self._threads:
            self._queue.put(None)


INTERRUPTED = "scan interrupted before this scope was read"
DEADLINE = "scan deadline passed before this scope was read"
DEADLINE_RUNNING = "scan deadline passed while this scope was being read (its calls were abandoned)"


def run_tasks(
    tasks: Iterable[Task],
    concurrency: int = 16,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    deadline: float | None = None,
) -> ScanResult:
    """Run tasks (and the tasks they yield) with at most `concurrency` at once; collect what they find.

    `cancel` (set from another thread) or `deadline` (a `time.monotonic()` instant) stops the scan: tasks not yet
    finished become skips saying so, and calls still running are abandoned, not waited for. A KeyboardInterrupt
    propagates the same way, after the pool is told to stop.
    """
    progress = Progress()
    resources: dict[tuple[str, str, str], Resource] = {}
    skipped: list[Skip] = []
    found: list[Found] = []
    notify = on_progress or (lambda p: None)

    def execute(task: Task) -> list[Resource | Skip | Found | Task]:
        try:
            return list(task.run())
        except Exception as exc:  # a task's failure is data: a skip with its scope and reason
            return [Skip(task.provider, task.scope, task.describe_error(exc))]

    pool = _Pool(concurrency)
    pending: dict[Future[list[Resource | Skip | Found | Task]], Task] = {}
    try:
        # Tasks wait in a backlog and enter the pool a few at a time, so 10,000 bucket tasks are 10,000 small
        # objects, not 10,000 queued futures.
        backlog: deque[Task] = deque()
        window = 2 * max(1, concurrency)

        def submit(task: Task) -> None:
            progress.tasks_total += 1
            backlog.append(task)

        def fill() -> None:
            while backlog and len(pending) < window:
                task = backlog.popleft()
                pending[pool.submit(functools.partial(execute, task))] = task

        for task in tasks:
            submit(task)
        fill()
        notify(progress)
        while pending:
            timeout = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            stop = INTERRUPTED if cancel is not None and cancel.is_set() else None
            if stop is None and deadline is not None and time.monotonic() >= deadline:
                stop = DEADLINE
            for fut in done:
                task = pending.pop(fut)
                progress.tasks_done += 1
                progress.current = task.scope
                for item in fut.result():
                    if isinstance(item, Task):
                        submit(item)
                    elif isinstance(item, Skip):
                        skipped.append(item)
                        progress.skips += 1
                    elif isinstance(item, Found):
                        found.append(item)
                    else:
                        # the same resource reached by two paths is one resource
                        resources.setdefault((item.provider, item.account, item.id), item)
                        progress.resources = len(resources)
            if stop is not None:
                running = stop
                if stop == DEADLINE:
                    running = DEADLINE_RUNNING
                for fut, task in pending.items():
                    reason = stop if fut.cancel() else running
                    skipped.append(Skip(task.provider, task.scope, reason))
                skipped.extend(Skip(t.provider, t.scope, stop) for t in backlog)
                progress.skips = len(skipped)
                break
            fill()
            notify(progress)
    finally:
        pool.shutdown(cancel=pending)

    return ScanResult(
        resources=tuple(sorted(resources.values(), key=lambda r: (r.provider, r.account, r.service, r.id))),
        skipped=tuple(sorted(set(skipped), key=lambda s: (s.provider, s.scope, s.reason))),
        found=merge(found),
    )


def locate(kb: KnowledgeBase, resources: Iterable[Resource]) -> Iterator[Resource]:
    """The locations stage: attach the knowledge base's location to every copy (None when unknown).

    Identical footprints share one tuple of (frozen) copies, which also lets `assess_all` recognise them cheaply.
    """
    resolved: dict[tuple[Provider, str], Location | None] = {}
    shared: dict[tuple[object, ...], tuple[Copy, ...]] = {}
    # footprints a reader already shared, by identity; each entry holds its key object so the id cannot be reused
    by_identity: dict[tuple[Provider, int], tuple[tuple[Copy, ...], tuple[Copy, ...]]] = {}
    for r in resources:
        hit = by_identity.get((r.provider, id(r.footprint)))
        if hit is not None:
            yield r.evolve(footprint=hit[1])
            continue
        key = (r.provider, *((c.code, c.role, c.note, c.key_control) for c in r.footprint))
        footprint = shared.get(key)
        if footprint is None:
            copies = []
            for c in r.footprint:
                where = (r.provider, c.code)
                if where not in resolved:
                    resolved[where] = kb.resolve(r.provider, c.code)
                copies.append(Copy.make(c.code, c.role, resolved[where], c.note, c.key_control))
            footprint = shared[key] = tuple(copies)
        by_identity[(r.provider, id(r.footprint))] = (r.footprint, footprint)
        yield r.evolve(footprint=footprint)


def assess_all(kb: KnowledgeBase, resources: Iterable[Resource], view: Viewpoint) -> Iterator[Resource]:
    """The assessment stage: attach an assessment from `view` to every resource.

    Resources with the same places and key control get the same (frozen, shared) assessment: an estate of
    10,000 buckets in six regions has a handful of distinct assessments, not 10,000 copies of the same reasons.
    """
    # `locate` shares identical footprints, so identity finds them; each entry holds its footprint, so a freed
    # footprint's id can never be reused for another while the cache lives
    seen: dict[tuple[object, ...], tuple[tuple[Copy, ...], Assessment]] = {}
    for r in resources:
        key = (r.provider, r.key_control, id(r.footprint))
        if key not in seen:
            seen[key] = (r.footprint, assess(kb, r.footprint, r.key_control, view))
        yield r.evolve(assessment=seen[key][1])
