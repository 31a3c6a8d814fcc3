"""The scan pipeline: run connector tasks on one bounded pool, resolve locations, assess.

A connector is a source of `Task`s. A task reads one scope (an account, a region × service, a page of buckets …)
and yields resources, skips, or further tasks, which join the same pool. So one `--concurrency` bounds every
request the scan makes, across accounts, regions and services, and no stage waits for a slower sibling.

A task that raises becomes a skip naming its scope and the cause: the scan goes on, and the report shows it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from .classify import assess
from .knowledge import KnowledgeBase
from .model import Assessment, Copy, Location, Provider, Resource, Skip, Viewpoint


@dataclass(frozen=True)
class Task:
    """One unit of reading: `run()` yields resources, skips and further tasks."""

    provider: Provider
    scope: str
    run: Callable[[], Iterable[Resource | Skip | Task]]
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
    """What a scan found: resources (deduplicated, sorted) and skips."""

    resources: tuple[Resource, ...]
    skipped: tuple[Skip, ...]


def run_tasks(
    tasks: Iterable[Task],
    concurrency: int = 16,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> ScanResult:
    """Run tasks (and the tasks they yield) with at most `concurrency` at once; collect what they find."""
    progress = Progress()
    resources: dict[tuple[str, str, str], Resource] = {}
    skipped: list[Skip] = []
    notify = on_progress or (lambda p: None)

    def execute(task: Task) -> list[Resource | Skip | Task]:
        try:
            return list(task.run())
        except Exception as exc:  # a task's failure is data: a skip with its scope and reason
            return [Skip(task.provider, task.scope, task.describe_error(exc))]

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="scan") as pool:
        pending: dict[Future[list[Resource | Skip | Task]], Task] = {}

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
                pending[pool.submit(execute, task)] = task

        for task in tasks:
            submit(task)
        fill()
        notify(progress)
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if cancel is not None and cancel.is_set():
                for fut, task in pending.items():
                    fut.cancel()
                    skipped.append(Skip(task.provider, task.scope, "scan interrupted before this scope was read"))
                skipped.extend(
                    Skip(t.provider, t.scope, "scan interrupted before this scope was read") for t in backlog
                )
                break
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
                    else:
                        # the same resource reached by two paths is one resource
                        resources.setdefault((item.provider, item.account, item.id), item)
                        progress.resources = len(resources)
            fill()
            notify(progress)

    return ScanResult(
        resources=tuple(sorted(resources.values(), key=lambda r: (r.provider, r.account, r.service, r.id))),
        skipped=tuple(sorted(set(skipped), key=lambda s: (s.provider, s.scope, s.reason))),
    )


def locate(kb: KnowledgeBase, resources: Iterable[Resource]) -> Iterator[Resource]:
    """The locations stage: attach the knowledge base's location to every copy (None when unknown).

    Identical footprints share one tuple of (frozen) copies, which also lets `assess_all` recognise them cheaply.
    """
    resolved: dict[tuple[Provider, str], Location | None] = {}
    shared: dict[tuple[object, ...], tuple[Copy, ...]] = {}
    for r in resources:
        key = (r.provider, *((c.code, c.role, c.note) for c in r.footprint))
        footprint = shared.get(key)
        if footprint is None:
            copies = []
            for c in r.footprint:
                where = (r.provider, c.code)
                if where not in resolved:
                    resolved[where] = kb.resolve(r.provider, c.code)
                copies.append(Copy.make(c.code, c.role, resolved[where], c.note))
            footprint = shared[key] = tuple(copies)
        yield r.evolve(footprint=footprint)


def assess_all(kb: KnowledgeBase, resources: Iterable[Resource], view: Viewpoint) -> Iterator[Resource]:
    """The assessment stage: attach an assessment from `view` to every resource.

    Resources with the same places and key control get the same (frozen, shared) assessment: an estate of
    10,000 buckets in six regions has a handful of distinct assessments, not 10,000 copies of the same reasons.
    """
    seen: dict[tuple[object, ...], Assessment] = {}
    for r in resources:
        # `locate` shares identical footprints, so identity finds them; resources are alive, so ids are unique
        key = (r.provider, r.key_control, id(r.footprint))
        if key not in seen:
            seen[key] = assess(kb, r.footprint, r.key_control, view)
        yield r.evolve(assessment=seen[key])
