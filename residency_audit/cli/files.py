"""The commands that evaluate files, offline and without credentials.

check (a saved report), plan (a Terraform plan) and diff (two saved reports).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..formats import OutputFormat
from ..rules import Severity
from .common import (
    EXIT_INTERRUPTED,
    AllowIncompleteOpt,
    AsOfOpt,
    FailOnOpt,
    Format,
    FormatOpt,
    HomeOpt,
    OutputOpt,
    ProfileOpt,
    TrustOpt,
    as_of_date,
    emit,
    fail,
    kb_and_profile,
    viewpoint_of,
)

if TYPE_CHECKING:
    from datetime import datetime

    from ..knowledge import KnowledgeBase
    from ..model import Viewpoint
    from ..profiles import Profile


def check(
    report_file: Annotated[str, typer.Argument(help="A JSON report saved by `scan --format json`; `-` reads stdin.")],
    profile: ProfileOpt = None,
    home: HomeOpt = None,
    trust: TrustOpt = None,
    fail_on: FailOnOpt = Severity.ERROR,
    allow_incomplete: AllowIncompleteOpt = False,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Judge under the law on this date (YYYY-MM-DD), or 'report' for the report's "
            "scan date. Default: today.",
        ),
    ] = None,
) -> None:
    """Re-evaluate a saved JSON report offline (no credentials): scan once, gate many times.

    Assessments are recomputed with this version's knowledge base and the profile. Skips in the report, and
    data-bearing resources it found but did not assess, still make the result incomplete. The report is read one
    resource at a time, in any JSON layout. Exit codes as for scan.
    """
    from ..recheck import check_report
    from ..reportfile import ReportError

    by_report = as_of is not None and as_of.strip().lower() == "report"
    ready: tuple[KnowledgeBase, Viewpoint, Profile | None] | None = None
    if not by_report:  # a bad --profile or --as-of is reported before the report is read
        at = as_of_date(as_of)
        kb, prof = kb_and_profile(profile, at)
        ready = (kb, viewpoint_of(kb, prof, home, trust, at), prof)

    def setup(started: datetime | None) -> tuple[KnowledgeBase, Viewpoint, Profile | None]:
        if ready is not None:
            return ready
        at = started.date() if started is not None else None  # --as-of report: the law on the scan's date
        kb, prof = kb_and_profile(profile, at)
        return kb, viewpoint_of(kb, prof, home, trust, at), prof

    try:
        run = check_report(report_file, fmt, setup, fail_on, allow_incomplete, plain=output is not None,
                           started_first=by_report)  # fmt: skip
    except ReportError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted: no report was written", code=EXIT_INTERRUPTED)
    try:
        emit(run, output, fail_on, allow_incomplete)
    except KeyboardInterrupt:  # --output is written atomically: whole or absent
        fail("interrupted: no report was written", code=EXIT_INTERRUPTED)


def plan(
    plan_file: Annotated[
        Path, typer.Argument(help="A Terraform plan as JSON: `terraform show -json tfplan` (- reads standard input).")
    ],
    profile: ProfileOpt = None,
    home: HomeOpt = None,
    trust: TrustOpt = None,
    fail_on: FailOnOpt = Severity.ERROR,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Evaluate a Terraform plan before anything is deployed. Resource types it does not evaluate are listed.

    Exit codes as for scan: a data store the plan reader does not evaluate makes the result incomplete (exit 3)
    unless the profile accepts its type (accept_unassessed); values known only after apply are unknown locations.
    """
    from ..outcome import judge
    from ..plan import assess_plan
    from ..plan.file import PlanError

    at = as_of_date(as_of)
    kb, prof = kb_and_profile(profile, at)
    view = viewpoint_of(kb, prof, home, trust, at)
    try:
        result, meta = assess_plan(plan_file, kb, view)
    except PlanError as exc:
        fail(str(exc))
    if meta.not_evaluated:
        n = len(meta.not_evaluated)
        typer.echo(f"residency-audit: {n} resource(s) not evaluated (listed in the report)", err=True)
    run = judge(kb, result, view, meta, prof, fmt, fail_on, False, plain=output is not None)
    emit(run, output, fail_on, allow_incomplete=False)


def diff(
    old: Annotated[str, typer.Argument(help="The earlier JSON report (`-`: stdin).")],
    new: Annotated[str, typer.Argument(help="The later JSON report (`-`: stdin).")],
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Show drift between two JSON reports: new and removed resources, footprint and level changes, new findings.

    Neither report is held in memory: each is read one item at a time, in any JSON layout, and compared on disk.
    """
    from ..diff import Drift
    from ..output import write_output
    from ..reportfile import ReportError

    drift = Drift()
    try:
        drift.read_reports(old, new)
        write_output(None, drift.write_json if fmt is Format.json else drift.write_text)
    except ReportError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", code=EXIT_INTERRUPTED)
    finally:
        drift.close()
