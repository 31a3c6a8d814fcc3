"""`check`: a saved report re-evaluated one resource at a time, into a render.Run ready to write.

Reading, locating, assessing, evaluating and the chosen format's sink are chained per resource, so nothing grows
with the report but the counts. Raises ReportError for a report that cannot be read (the Run is then discarded,
so nothing is written).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from .formats import OutputFormat
from .knowledge import KnowledgeBase
from .model import Provider, Resource, Skip, Viewpoint
from .profiles import Profile
from .render import Run
from .rules import Severity

if TYPE_CHECKING:
    from .inventory import Found


def check_report(
    arg: str,
    fmt: OutputFormat,
    setup: Callable[[datetime | None], tuple[KnowledgeBase, Viewpoint, Profile | None]],
    fail_on: Severity,
    allow_incomplete: bool,
    *,
    plain: bool,
    started_first: bool = False,
) -> Run:
    """The report `arg` names (a path, `-`, a pipe), re-evaluated with what `setup` gives.

    `setup` returns the knowledge base, viewpoint and profile; it is given the scan's start when `started_first`
    (`--as-of report`), else None.
    """
    from .pipeline import assess_all, locate
    from .policy import Evaluator
    from .report import Meta
    from .reportfile import check_provider, opened, read, started_at, times, to_resource

    with opened(arg) as (path, shown):
        kb, view, prof = setup(started_at(path, shown) if started_first else None)
        now = datetime.now(UTC)
        run = Run(fmt, view, Meta("check", shown, now, now), prof, plain=plain)
        try:
            evaluator = Evaluator(prof, kb, date.today()) if prof is not None else None
            pending: list[Resource] = []
            pipe = assess_all(kb, locate(kb, _drain(pending)), view)
            shared: dict[Any, Any] = {}
            shapes: dict[tuple[object, ...], tuple[object, object, Resource]] = {}
            add, judge = run.add, (evaluator.resource if evaluator else lambda r: [])

            def on_resource(raw: dict[str, Any]) -> None:
                # Resources read from the same line parts (one footprint list, one tags dict: see reportlayouts)
                # locate and assess alike: the first goes through the pipeline, the rest take its result with
                # their own identity. Each entry holds the parts, so their ids are not reused while it lives.
                footprint, tags = raw["footprint"], raw.get("tags")
                key = (raw["provider"], id(footprint), id(tags), raw["key_control"], raw.get("key_note"),
                       raw.get("classification"))  # fmt: skip
                hit = shapes.get(key)
                if hit is not None and hit[0] is footprint and hit[1] is tags:
                    r = hit[2].evolve(account=raw["account"], service=raw["service"], type=raw["type"],
                                      id=raw["id"], name=raw["name"])  # fmt: skip
                else:
                    pending.append(to_resource(raw, shared))
                    r = next(pipe)
                    if len(shapes) > 50_000:
                        shapes.clear()
                    shapes[key] = (footprint, tags, r)
                add(r, judge(r))

            head = read(path, shown, on_resource)
            for i, s in enumerate(head["skipped"]):
                check_provider(shown, f"skipped[{i}]", s["provider"])
            reverify = tuple(kb.due_for_review(view.at or date.today()))
            run.meta = Meta("check", shown, *times(head, shown), reverify=reverify)
            run.extra(evaluator.finish() if evaluator else [])
            _finish(run, head, shown, prof, fail_on, allow_incomplete)
        except BaseException:
            run.close()
            raise
    return run


def _finish(
    run: Run, head: dict[str, Any], shown: str, prof: Profile | None, fail_on: Severity, allow_incomplete: bool
) -> None:
    """Coverage (from what the report found and what was assessed), skips and the verdict."""
    from .catalogue import load as load_catalogue
    from .coverage import compute, found_from_json
    from .policy import verdict_of_counts
    from .reportfile import ReportError, to_skip

    try:
        found = found_from_json(head)
    except ValueError as exc:
        raise ReportError(f"{shown}: {exc}") from None
    skips = [to_skip(s) for s in head["skipped"]]
    if head["schema_version"] == "1":  # no coverage section: a plan's report lists what it did not evaluate
        found = _unevaluated(head)
        kind = (head.get("source") or {}).get("kind")
        if kind != "plan":  # a scan's: what it found and did not assess was never recorded
            providers = sorted({p for p, _ in run.tally.types} or set(Provider), key=str)
            skips += [Skip(p, f"report {shown}", UNRECORDED) for p in providers]
    # coverage counts resources per provider and type: the tally's counts stand in for the resources
    coverage = compute(load_catalogue(), run.tally.types, found, prof.accept_unassessed if prof else ())
    run.meta = dataclasses.replace(run.meta, coverage=coverage)
    incomplete = bool(skips) or coverage.incomplete
    decision = verdict_of_counts(run.tally.findings, incomplete, fail_on, allow_incomplete)[0]
    run.finish(skips, decision if prof is not None else None)


UNRECORDED = (
    "a schema 1 report does not record what its scan found but did not assess (coverage came with schema 2), so a "
    "pass could not mean every data store found was assessed; re-run the scan with this version"
)


def _unevaluated(head: dict[str, Any]) -> list[Found]:
    """What a plan's report lists as not evaluated, as inventory records (as `plan` counts them for coverage)."""
    from .catalogue import terraform_provider
    from .inventory import TERRAFORM_PLAN, Found, merge
    from .plan.context import PLANNED_FOR_DELETION

    found = []
    for n in head.get("not_evaluated") or []:
        rtype, where = n.get("type"), n.get("location")
        provider = terraform_provider(rtype) if isinstance(rtype, str) else None
        if provider is not None and n.get("reason") != PLANNED_FOR_DELETION:
            places = (where,) if isinstance(where, str) and where else ()
            found.append(Found(provider, TERRAFORM_PLAN, "report", str(rtype), 1, places, str(n.get("reason"))))
    return list(merge(found))


def _drain(pending: list[Resource]) -> Iterator[Resource]:
    """An endless iterator over what is appended to `pending`: feeds a pull pipeline one item at a time."""
    while True:
        yield pending.pop()
