"""A result in memory (a live scan's or a plan's) to a report ready to write.

Coverage, the profile's gate and the format's renderer. Nothing here prints or exits; the CLI writes the Run and
exits with its code.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .formats import OutputFormat
    from .knowledge import KnowledgeBase
    from .model import Viewpoint
    from .pipeline import ScanResult
    from .profiles import Profile
    from .render import Run
    from .report import Meta
    from .rules import Severity


def judge(
    kb: KnowledgeBase,
    result: ScanResult,
    view: Viewpoint,
    meta: Meta,
    prof: Profile | None,
    fmt: OutputFormat,
    fail_on: Severity,
    allow_incomplete: bool,
    *,
    plain: bool,
) -> Run:
    """The report of `result` in `fmt`, with its coverage, stale facts and (with a profile) findings and verdict."""
    from . import report
    from .catalogue import load as load_catalogue
    from .coverage import compute
    from .policy import evaluate, verdict
    from .render import render_result

    reverify = kb.due_for_review(view.at or date.today())
    # a data-bearing resource found but not assessed (nor accepted by the profile) is incomplete, like a skip
    coverage = compute(load_catalogue(), result.resources, result.found, prof.accept_unassessed if prof else ())
    meta = dataclasses.replace(meta, coverage=coverage, reverify=tuple(reverify))
    incomplete = bool(result.skipped) or coverage.incomplete
    gate = None
    if prof is not None:
        # waivers expire by the calendar, never by --as-of: a past date must not revive an expired waiver
        findings = tuple(evaluate(result.resources, prof, kb, date.today()))
        decision, _ = verdict(findings, incomplete, fail_on, allow_incomplete)
        gate = report.Gate(prof, findings, decision)
    return render_result(fmt, result, view, meta, gate, plain=plain)
