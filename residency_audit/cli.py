"""The command line. The only module that prints or exits.

Cloud SDKs and even the knowledge base are imported inside the commands that need them, so `--help` is instant.

Exit codes: 0 done, nothing skipped; 1 policy violations (with a profile); 2 usage, configuration or input error;
3 scan incomplete (something could not be read).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from . import __version__
from .model import KeyControl

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .pipeline import Progress, ScanResult

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3

app = typer.Typer(
    name="residency-audit",
    help="Where does every copy of your cloud data live, which states can compel its disclosure, "
    "and does that break your policy?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    """Output formats of the knowledge-base commands."""

    table = "table"
    json = "json"


class ProviderOpt(StrEnum):
    """Providers as the CLI spells them."""

    aws = "aws"
    azure = "azure"
    gcp = "gcp"


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    typer.echo(f"residency-audit: error: {message}", err=True)
    raise typer.Exit(code)


def _kb() -> KnowledgeBase:
    from .knowledge import KnowledgeError, load

    try:
        return load()
    except KnowledgeError as exc:
        _fail(f"the knowledge base is malformed: {exc}")


def _render(renderable: object, plain: bool) -> str:
    """Render to text: styled for this terminal, or plain and wide for a file."""
    import io

    from rich.console import Console

    if plain:
        buffer = io.StringIO()
        Console(file=buffer, width=200, color_system=None, force_terminal=False).print(renderable)
        return buffer.getvalue()
    console = Console()
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def _print(renderable: object) -> None:
    from rich.console import Console

    Console(soft_wrap=False).print(renderable)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"residency-audit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Audit data residency and legal reach across AWS, Azure and Google Cloud."""


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


def _split(values: list[str] | None, default: list[str]) -> list[str]:
    out = [part for value in values or [] for part in value.split(",") if part.strip()]
    return out or default


@app.command()
def regions(
    provider: Annotated[ProviderOpt | None, typer.Option(help="Only this provider's locations.")] = None,
    country: Annotated[str | None, typer.Option(help="Only locations with a copy in this ISO country.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """List the knowledge base: every known region, dual-region and multi-region, with country and operator."""
    from . import serialize

    kb = _kb()
    locs = [loc for loc in kb.locations if provider is None or loc.provider == provider.value]
    if country is not None:
        cc = country.strip().upper()
        if cc not in kb.countries:
            _fail(f"--country {country!r} is not an ISO 3166-1 alpha-2 code (for example DE, US, BR)")
        locs = [loc for loc in locs if cc in loc.countries]
    if fmt is Format.json:
        _print_json([serialize.location(loc) for loc in locs])
    else:
        from .tables import regions_table

        _print(regions_table(locs))


@app.command()
def explain(
    location: Annotated[str, typer.Argument(help="PROVIDER:LOCATION, e.g. azure:brazilsouth, gcp:EUR4.")],
    home: HomeOpt = None,
    trust: TrustOpt = None,
    key_control: Annotated[
        KeyControl,
        typer.Option("--key-control", help="Who holds the keys, to see how it changes the exposure."),
    ] = KeyControl.PROVIDER_MANAGED,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Show one location's facts and its exposure from a viewpoint, with the reasons and their sources."""
    from . import serialize
    from .classify import assess, viewpoint
    from .model import Copy, CopyRole, Provider

    kb = _kb()
    provider_text, sep, code = location.partition(":")
    if not sep or provider_text.lower() not in {p.value for p in Provider}:
        _fail(f"{location!r} is not PROVIDER:LOCATION (provider aws, azure or gcp), e.g. aws:eu-central-1")
    provider = Provider(provider_text.lower())
    loc = kb.resolve(provider, code)
    if loc is None:
        close = kb.suggest(provider, code)
        hint = f"; closest known: {', '.join(close)}" if close else ""
        _fail(f"unknown location {location!r}{hint} (see `residency-audit regions --provider {provider}`)")
    try:
        view = viewpoint(kb, _split(home, ["EU"]), _split(trust, []))
    except ValueError as exc:
        _fail(f"--home/--trust: {exc}")
    result = assess(kb, [Copy(loc.code, CopyRole.PRIMARY, loc)], key_control, view)
    if fmt is Format.json:
        _print_json(serialize.location(loc) | {"viewpoint": view.label, "assessment": serialize.assessment(result)})
    else:
        from .tables import explain_view

        _print(explain_view(kb, loc, result, view.label))


class ScanFormat(StrEnum):
    """Output formats of `scan`."""

    table = "table"
    json = "json"


@app.command()
def scan(
    provider: Annotated[
        list[ProviderOpt] | None, typer.Option("--provider", help="Cloud to scan; repeatable. Default: aws.")
    ] = None,
    aws_profile: Annotated[
        str | None,
        typer.Option("--aws-profile", help="AWS named profile (SSO profiles too). Default: the boto3 chain."),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Only these regions; repeatable. Default: every enabled region."),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Only these services; repeatable (aws: s3, dynamodb, rds, ebs-snapshot)."),
    ] = None,
    org: Annotated[
        bool,
        typer.Option("--org", help="Scan every active account of the AWS organisation (from its management account)."),
    ] = False,
    account_id: Annotated[
        list[str] | None,
        typer.Option("--account-id", help="Scan this AWS account (assuming --role-name); repeatable."),
    ] = None,
    role_name: Annotated[
        str, typer.Option("--role-name", help="Role assumed in each member account.")
    ] = "OrganizationAccountAccessRole",
    classification_tag: Annotated[
        str, typer.Option("--classification-tag", help="Tag key that holds a resource's data classification.")
    ] = "data-classification",
    home: HomeOpt = None,
    trust: TrustOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Requests in flight at once.")] = 16,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds each API call may take.")] = 30.0,
    fmt: Annotated[ScanFormat, typer.Option("--format", help="Output format.")] = ScanFormat.table,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file (atomically) instead of stdout."),
    ] = None,
) -> None:
    """Inventory data stores, map every copy to countries and legal reach, and assess the exposure.

    Exit codes: 0 complete, 2 usage or input error, 3 incomplete (something could not be read; every report lists it).
    """
    from datetime import UTC, datetime

    from . import report
    from .classify import viewpoint
    from .connectors import aws
    from .pipeline import assess_all, locate, run_tasks

    kb = _kb()
    try:
        view = viewpoint(kb, _split(home, ["EU"]), _split(trust, []))
    except ValueError as exc:
        _fail(f"--home/--trust: {exc}")
    providers = list(dict.fromkeys(p.value for p in provider or [ProviderOpt.aws]))
    unsupported = [p for p in providers if p != "aws"]
    if unsupported:
        _fail(f"--provider {unsupported[0]}: this version scans aws only")
    services = tuple(dict.fromkeys(_split(service, [])))
    bad = [s for s in services if s not in aws.SERVICES]
    if bad:
        _fail(f"--service {bad[0]!r} is not one of {', '.join(aws.SERVICES)}")
    regions = tuple(dict.fromkeys(_split(region, [])))
    for r in regions:
        loc = kb.resolve("aws", r)
        if loc is None or loc.code != r:
            close = kb.suggest("aws", r)
            hint = f"; closest known: {', '.join(close)}" if close else ""
            _fail(f"--region {r!r} is not an AWS region{hint}")
    options = aws.AwsOptions(
        profile=aws_profile,
        regions=regions,
        services=services,
        org=org,
        account_ids=tuple(dict.fromkeys(_split(account_id, []))),
        role_name=role_name,
        classification_tag=classification_tag,
        concurrency=concurrency,
        timeout=timeout,
    )

    started = datetime.now(UTC)
    result = _run_with_progress(lambda on_progress: run_tasks(aws.tasks(options), concurrency, on_progress))
    located = assess_all(kb, locate(kb, result.resources), view)
    from .pipeline import ScanResult

    result = ScanResult(tuple(located), result.skipped)
    finished = datetime.now(UTC)

    if fmt is ScanFormat.json:
        text = json.dumps(report.build(result, view, started, finished), indent=2, ensure_ascii=False) + "\n"
    else:
        from .tables import scan_view

        text = _render(scan_view(result.resources, result.skipped, view.label), plain=output is not None)
    if output is not None:
        try:
            report.write_atomic(output, text)
        except OSError as exc:
            _fail(f"--output {output}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    if result.skipped:
        typer.echo(
            f"residency-audit: scan incomplete: {len(result.skipped)} scope(s) could not be read"
            " (listed in the report)",
            err=True,
        )
        raise typer.Exit(EXIT_INCOMPLETE)


def _run_with_progress(run: Callable[[Callable[[Progress], None]], ScanResult]) -> ScanResult:
    """Run a scan with a live progress line on stderr (only when stderr is a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    if not console.is_terminal:
        return run(lambda p: None)
    with Bar(
        SpinnerColumn(),
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[found]}"),
        console=console,
        transient=True,
    ) as bar:
        task_id = bar.add_task("scan", total=None, found="")

        def update(p: Progress) -> None:
            bar.update(
                task_id,
                completed=p.tasks_done,
                total=p.tasks_total,
                found=f"{p.resources} resources, {p.skips} skipped · {p.current[-60:]}",
            )

        return run(update)


@app.command("kb-check")
def kb_check() -> None:
    """Check the knowledge base's integrity, and that it knows every region of the installed botocore."""
    from .kbcheck import botocore_regions, check

    kb = _kb()
    problems = check(kb, botocore_regions())
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        _fail(f"knowledge base: {len(problems)} problem(s)", code=1)
    typer.echo(
        f"knowledge base OK: {len(kb.locations)} locations, {len(kb.operators)} operators, "
        f"{len(kb.countries)} countries, {len(kb.instruments)} legal instruments, {len(kb.sources)} sources"
    )


def main() -> None:
    """Console-script entry point."""
    app()
