"""What the commands share: exit codes, option types, errors, the knowledge base and viewpoint, report delivery.

The knowledge base and viewpoint come from the options; `emit` writes a finished report, sums it up on stderr and
exits with the contract code.

Nothing heavy is imported at module level: `--help` loads this module.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ..formats import OutputFormat
from ..rules import Severity

if TYPE_CHECKING:
    from ..knowledge import KnowledgeBase
    from ..model import Viewpoint
    from ..profiles import Profile
    from ..render import Run

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Format(StrEnum):
    """Output formats of the knowledge-base commands."""

    table = "table"
    json = "json"


class ProviderOpt(StrEnum):
    """Providers as the CLI spells them."""

    aws = "aws"
    azure = "azure"
    gcp = "gcp"


HomeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--home",
        help="Home jurisdiction: a bloc (EU, EEA, …) or ISO country code; repeatable or comma-separated. "
        "Reach by home states is not foreign. Default: EU.",
    ),
]
TrustOpt = Annotated[
    list[str] | None,
    typer.Option("--trust", help="States or blocs whose reach is tolerated like home's; repeatable."),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="Evaluate with this policy profile: a bundled name (eu-gdpr, eu-sovereign, us-only) or a path to a file "
        "(with a / or ending in .toml).",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Judge under the law as it stands on this date (YYYY-MM-DD). Default: today."),
]
FailOnOpt = Annotated[
    Severity,
    typer.Option("--fail-on", help="Lowest finding severity that fails the gate (exit 1)."),
]
AllowIncompleteOpt = Annotated[
    bool,
    typer.Option("--allow-incomplete", help="Exit 0 rather than 3 when something was skipped and nothing violates."),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the report to this file (atomically) instead of stdout."),
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Say what went wrong on stderr and exit with `code` (usage error by default)."""
    typer.echo(f"residency-audit: error: {message}", err=True)
    raise typer.Exit(code)


def warn(line: str) -> None:
    """One warning line on stderr."""
    typer.echo(f"residency-audit: warning: {line}", err=True)


def load_kb() -> KnowledgeBase:
    """The bundled knowledge base, or exit 2 when it is malformed."""
    from ..knowledge import KnowledgeError, load

    try:
        return load()
    except KnowledgeError as exc:
        fail(f"the knowledge base is malformed: {exc}")


def show(renderable: object) -> None:
    """Print a rich renderable to stdout, never wrapped."""
    from rich.console import Console

    Console(soft_wrap=False).print(renderable)


def show_json(data: object) -> None:
    """Print `data` as indented JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def split(values: list[str] | None, default: list[str]) -> list[str]:
    """Repeatable, comma-separated option values as one list (`default` when none)."""
    out = [part for value in values or [] for part in value.split(",") if part.strip()]
    return out or default


def as_of_date(value: str | None, default: date | None = None) -> date:
    """The date the law is read at: --as-of, else `default`, else today."""
    if value is None:
        return default or date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"--as-of {value!r} is not a date: write YYYY-MM-DD, e.g. 2026-08-18")


def kb_and_profile(name: str | None, at: date | None = None) -> tuple[KnowledgeBase, Profile | None]:
    """The knowledge base, with the profile's overrides applied when a profile is given."""
    from ..policy import apply_overrides
    from ..profiles import ProfileError, load_profile

    kb = load_kb()
    if name is None:
        return kb, None
    try:
        prof = load_profile(name, kb, at)
    except ProfileError as exc:
        fail(f"--profile: {exc}")
    return apply_overrides(kb, prof), prof


def viewpoint_of(
    kb: KnowledgeBase, prof: Profile | None, home: list[str] | None, trust: list[str] | None, at: date | None = None
) -> Viewpoint:
    """The viewpoint the profile sets, else --home/--trust's (home EU by default); exit 2 when both are given."""
    from ..classify import viewpoint
    from ..policy import profile_viewpoint

    at = at or date.today()
    try:
        if prof is not None:
            if home or trust:
                fail(
                    f"--home/--trust: the profile {prof.name!r} sets the viewpoint; drop --home/--trust or the profile"
                )
            return profile_viewpoint(kb, prof, at)
        return viewpoint(kb, split(home, ["EU"]), split(trust, []), at=at)
    except ValueError as exc:
        fail(f"--home/--trust: {exc}")


def emit(run: Run, output: Path | None, fail_on: Severity, allow_incomplete: bool) -> NoReturn:
    """Write a finished render.Run to `output` (or stdout), say what happened on stderr, exit with the code."""
    from ..output import write_output
    from ..policy import verdict_of_counts

    try:
        write_output(output, run.write)
    except OSError as exc:
        fail(f"--output {shown(output)}: cannot write: {exc.strerror or exc}")
    finally:
        run.close()
    for line in run.meta.reverify:  # knowledge-base facts past their review date
        warn(line)
    skipped = len(run.skipped)
    coverage = run.meta.coverage
    incomplete = bool(skipped) or (coverage is not None and coverage.incomplete)
    if skipped:
        typer.echo(
            f"residency-audit: incomplete: {skipped} scope(s) could not be read (listed in the report)", err=True
        )
    if coverage is not None:
        typer.echo(f"residency-audit: coverage: {coverage.line()}", err=True)
        if coverage.incomplete:
            missing = sum(t.missing for t in coverage.unassessed)
            typer.echo(
                f"residency-audit: incomplete: {missing} data-bearing resource(s) of {len(coverage.unassessed)} "
                "type(s) found but not assessed (listed in the report; a profile may accept a type with "
                "accept_unassessed)",
                err=True,
            )
    c = run.tally.findings
    if run.profile is not None:
        decision, code = verdict_of_counts(c, incomplete, fail_on, allow_incomplete)
        typer.echo(
            f"residency-audit: {decision}: {c['error']} error(s), {c['warning']} warning(s), {c['note']} "
            f"note(s), {c['waived']} waived (profile {shown(run.profile.name)}, --fail-on {fail_on})",
            err=True,
        )
    else:
        code = EXIT_INCOMPLETE if incomplete and not allow_incomplete else EXIT_OK
    raise typer.Exit(code)


def shown(value: object) -> str:
    """`value` as text safe to print: control characters and escapes made visible."""
    from ..safe import visible

    return visible(str(value))
