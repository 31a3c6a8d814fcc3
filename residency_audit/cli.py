"""The command line. The only module that prints or exits.

Cloud SDKs and even the knowledge base are imported inside the commands that need them, so `--help` is instant.

Exit codes: 0 done, nothing skipped; 1 policy violations (with a profile); 2 usage, configuration or input error;
3 scan incomplete (something could not be read); 130 interrupted (Ctrl-C during a scan: nothing is written).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from typer.core import TyperGroup

from . import __version__
from .formats import OutputFormat
from .model import KeyControl
from .rules import Severity
from .scan import SERVICES

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .model import Viewpoint
    from .pipeline import Progress, ScanResult
    from .profiles import Profile
    from .report import Meta

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class _Ordered(TyperGroup):
    """Lists commands in the order a user reaches for them, not the order they are defined in."""

    ORDER = ("scan", "check", "plan", "explain", "regions", "profiles", "diff", "schema", "kb-check")

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: self.ORDER.index(n) if n in self.ORDER else len(self.ORDER))


app = typer.Typer(
    cls=_Ordered,
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
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Log every step and SDK call to stderr, with credentials redacted.")
    ] = False,
) -> None:
    """Audit data residency and legal reach across AWS, Azure and Google Cloud."""
    if debug:
        from .logs import setup

        ctx.call_on_close(setup())


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


def _as_of(value: str | None, default: date | None = None) -> date:
    """The date the law is read at: --as-of, else `default`, else today."""
    if value is None:
        return default or date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        _fail(f"--as-of {value!r} is not a date: write YYYY-MM-DD, e.g. 2026-08-18")


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
    profile: ProfileOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Show one location's facts and its exposure from a viewpoint, with the reasons and their sources."""
    from . import serialize
    from .classify import assess
    from .model import Copy, CopyRole, Provider

    at = _as_of(as_of)
    kb, prof = _kb_and_profile(profile, at)
    provider_text, sep, code = location.partition(":")
    if not sep or provider_text.lower() not in {p.value for p in Provider}:
        _fail(f"{location!r} is not PROVIDER:LOCATION (provider aws, azure or gcp), e.g. aws:eu-central-1")
    provider = Provider(provider_text.lower())
    loc = kb.resolve(provider, code)
    if loc is None:
        close = kb.suggest(provider, code)
        hint = f"; closest known: {', '.join(close)}" if close else ""
        _fail(f"unknown location {location!r}{hint} (see `residency-audit regions --provider {provider}`)")
    view = _viewpoint(kb, prof, home, trust, at)
    result = assess(kb, [Copy(loc.code, CopyRole.PRIMARY, loc)], key_control, view)
    for line in kb.due_for_review(at):
        typer.echo(f"residency-audit: warning: {line}", err=True)
    if fmt is Format.json:
        from .tables import instruments_in

        laws = [serialize.instrument(i) for i in instruments_in(kb, result)]
        _print_json(
            serialize.location(loc)
            | {
                "viewpoint": view.label,
                "as_of": at.isoformat(),
                "assessment": serialize.assessment(result),
                "laws": laws,
                "reverify": kb.due_for_review(at),
            }
        )
    else:
        from .tables import explain_view

        _print(explain_view(kb, loc, result, f"{view.label} (law as of {at.isoformat()})"))


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


def _kb_and_profile(name: str | None, at: date | None = None) -> tuple[KnowledgeBase, Profile | None]:
    """The knowledge base, with the profile's overrides applied when a profile is given."""
    from .policy import apply_overrides
    from .profiles import ProfileError, load_profile

    kb = _kb()
    if name is None:
        return kb, None
    try:
        prof = load_profile(name, kb, at)
    except ProfileError as exc:
        _fail(f"--profile: {exc}")
    return apply_overrides(kb, prof), prof


def _viewpoint(
    kb: KnowledgeBase, prof: Profile | None, home: list[str] | None, trust: list[str] | None, at: date | None = None
) -> Viewpoint:
    from .classify import viewpoint
    from .policy import profile_viewpoint

    at = at or date.today()
    try:
        if prof is not None:
            if home or trust:
                _fail(
                    f"--home/--trust: the profile {prof.name!r} sets the viewpoint; drop --home/--trust or the profile"
                )
            return profile_viewpoint(kb, prof, at)
        return viewpoint(kb, _split(home, ["EU"]), _split(trust, []), at=at)
    except ValueError as exc:
        _fail(f"--home/--trust: {exc}")


def _deliver(
    kb: KnowledgeBase,
    result: ScanResult,
    view: Viewpoint,
    meta: Meta,
    prof: Profile | None,
    fmt: OutputFormat,
    output: Path | None,
    fail_on: Severity,
    allow_incomplete: bool,
) -> NoReturn:
    """Evaluate the profile, write the report in `fmt`, say what happened on stderr, exit with the contract code."""
    import dataclasses

    from . import report
    from .catalogue import load as load_catalogue
    from .coverage import compute
    from .policy import counts, evaluate, verdict
    from .render import render

    reverify = kb.due_for_review(view.at or date.today())
    # a data-bearing resource found but not assessed (nor accepted by the profile) is incomplete, like a skip
    coverage = compute(load_catalogue(), result.resources, result.found, prof.accept_unassessed if prof else ())
    meta = dataclasses.replace(meta, coverage=coverage, reverify=tuple(reverify))
    incomplete = bool(result.skipped) or coverage.incomplete
    for line in reverify:
        typer.echo(f"residency-audit: warning: {line}", err=True)
    gate = None
    if prof is not None:
        # waivers expire by the calendar, never by --as-of: a past date must not revive an expired waiver
        findings = tuple(evaluate(result.resources, prof, kb, date.today()))
        decision, code = verdict(findings, incomplete, fail_on, allow_incomplete)
        gate = report.Gate(prof, findings, decision)
    else:
        code = EXIT_INCOMPLETE if incomplete and not allow_incomplete else EXIT_OK
    text = render(fmt, result, view, meta, gate, plain=output is not None)
    if output is not None:
        try:
            report.write_atomic(output, text)
        except OSError as exc:
            _fail(f"--output {output}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.writelines([text] if isinstance(text, str) else text)
    if result.skipped:
        typer.echo(
            f"residency-audit: incomplete: {len(result.skipped)} scope(s) could not be read (listed in the report)",
            err=True,
        )
    typer.echo(f"residency-audit: coverage: {coverage.line()}", err=True)
    if coverage.incomplete:
        missing = sum(t.missing for t in coverage.unassessed)
        typer.echo(
            f"residency-audit: incomplete: {missing} data-bearing resource(s) of {len(coverage.unassessed)} type(s) "
            "found but not assessed (listed in the report; a profile may accept a type with accept_unassessed)",
            err=True,
        )
    if gate is not None:
        c = counts(gate.findings)
        typer.echo(
            f"residency-audit: {gate.verdict}: {c['error']} error(s), {c['warning']} warning(s), {c['note']} "
            f"note(s), {c['waived']} waived (profile {prof.name if prof else ''}, --fail-on {fail_on})",
            err=True,
        )
    raise typer.Exit(code)


@app.command()
def check(
    report_file: Annotated[Path, typer.Argument(help="A JSON report saved by `scan --format json`.")],
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

    Assessments are recomputed with this version's knowledge base and the profile. Skips in the report still make
    the result incomplete. Exit codes as for scan.
    """
    from .pipeline import ScanResult, assess_all, locate
    from .report import Meta
    from .reportfile import ReportError, read, times

    by_report = as_of is not None and as_of.strip().lower() == "report"
    if not by_report:  # a bad --profile or --as-of is reported before the report is read
        at = _as_of(as_of)
        kb, prof = _kb_and_profile(profile, at)
    try:
        resources, skips, data = read(report_file)
        started, finished = times(data)
    except (ReportError, KeyError, ValueError) as exc:
        _fail(str(exc) if isinstance(exc, ReportError) else f"{report_file}: bad started_at/finished_at: {exc}")
    if by_report:
        at = started.date()
        kb, prof = _kb_and_profile(profile, at)
    view = _viewpoint(kb, prof, home, trust, at)
    from .coverage import found_from_json

    try:
        found = found_from_json(data)
    except ValueError as exc:
        _fail(f"{report_file}: {exc}")
    result = ScanResult(tuple(assess_all(kb, locate(kb, resources), view)), tuple(skips), tuple(found))
    _deliver(kb, result, view, Meta("check", str(report_file), started, finished), prof, fmt, output, fail_on,
             allow_incomplete)  # fmt: skip


@app.command()
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
    from dataclasses import asdict
    from datetime import UTC, datetime

    from .pipeline import ScanResult, assess_all, locate
    from .plan.file import PlanError, load
    from .plan.reader import plan_found, read_plan
    from .report import Meta

    at = _as_of(as_of)
    kb, prof = _kb_and_profile(profile, at)
    view = _viewpoint(kb, prof, home, trust, at)
    try:
        resources, not_evaluated = read_plan(load(plan_file), str(plan_file))
    except PlanError as exc:
        _fail(str(exc))
    now = datetime.now(UTC)
    found = plan_found(str(plan_file), resources, not_evaluated)
    result = ScanResult(tuple(assess_all(kb, locate(kb, resources), view)), (), found)
    meta = Meta("plan", str(plan_file), now, now, tuple(asdict(n) for n in not_evaluated))
    if not_evaluated:
        typer.echo(f"residency-audit: {len(not_evaluated)} resource(s) not evaluated (listed in the report)", err=True)
    _deliver(kb, result, view, meta, prof, fmt, output, fail_on, allow_incomplete=False)


profiles_app = typer.Typer(help="List and validate policy profiles.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")


@profiles_app.command("list")
def profiles_list() -> None:
    """List the bundled profiles (use one with --profile NAME)."""
    from .profiles import ProfileError, bundled, load_profile

    kb = _kb()
    for name, path in bundled().items():
        try:
            description = load_profile(name, kb).description
        except ProfileError as exc:
            description = f"(invalid: {exc})"
        typer.echo(f"{name:<14} {description.splitlines()[0] if description else ''}")
        typer.echo(f"{'':<14} {path}")


@profiles_app.command("validate")
def profiles_validate(file: Annotated[str, typer.Argument(help="A profile .toml file or bundled name.")]) -> None:
    """Check a profile: exit 0 when valid, 2 with the file, field and fix when not."""
    from datetime import date

    from .profiles import ProfileError, load_profile

    kb = _kb()
    try:
        prof = load_profile(file, kb)
    except ProfileError as exc:
        _fail(str(exc))
    expired = [w for w in prof.waivers if w.expires < date.today()]
    typer.echo(
        f"{prof.source}: valid profile {prof.name!r}: {len(prof.overrides)} override(s), {len(prof.waivers)} "
        f"waiver(s){f', {len(expired)} expired (each is a violation, RA005)' if expired else ''}"
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of the JSON report."""
    from importlib import resources

    sys.stdout.write(resources.files("residency_audit").joinpath("schema", "report-v2.schema.json").read_text())


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier JSON report.")],
    new: Annotated[Path, typer.Argument(help="The later JSON report.")],
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Show drift between two JSON reports: new and removed resources, footprint and level changes, new findings."""
    from . import diff as drift
    from .reportfile import ReportError, load_json

    try:
        before, after = load_json(old), load_json(new)
    except ReportError as exc:
        _fail(str(exc))
    for path, data in ((old, before), (new, after)):
        if not isinstance(data, dict) or "resources" not in data:
            _fail(f"{path}: not a residency-audit JSON report")
    changes = drift.diff(before, after)
    if fmt is Format.json:
        _print_json(changes)
    else:
        sys.stdout.write(drift.render_diff(changes))


class AzureCloud(StrEnum):
    """Azure clouds `--azure-cloud` selects."""

    public = "public"
    china = "china"
    usgov = "usgov"


@app.command()
def scan(
    provider: Annotated[
        list[ProviderOpt] | None, typer.Option("--provider", help="Cloud to scan; repeatable. Default: aws.")
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            help="Only these services; repeatable. aws: "
            + ", ".join(SERVICES["aws"])
            + "; azure: "
            + ", ".join(SERVICES["azure"])
            + "; gcp: "
            + ", ".join(SERVICES["gcp"])
            + ".",
        ),
    ] = None,
    aws_profile: Annotated[
        str | None,
        typer.Option("--aws-profile", help="AWS named profile (SSO profiles too). Default: the boto3 chain."),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="AWS: only these regions; repeatable. Default: every enabled region."),
    ] = None,
    org: Annotated[
        bool,
        typer.Option("--org", help="AWS: every active account of the organisation (from its management account)."),
    ] = False,
    account_id: Annotated[
        list[str] | None,
        typer.Option("--account-id", help="AWS: scan this account (assuming --role-name); repeatable."),
    ] = None,
    role_name: Annotated[
        str, typer.Option("--role-name", help="AWS: role assumed in each member account.")
    ] = "OrganizationAccountAccessRole",
    aws_inventory: Annotated[
        str,
        typer.Option(
            "--aws-inventory",
            help="AWS: how resources are found: walk (every account, region and service; default), "
            "resource-explorer (the aggregator index's default view), or config:AGGREGATOR[@REGION] (an AWS Config "
            "organization aggregator). Whatever an engine cannot see is walked.",
        ),
    ] = "walk",
    azure_cloud: Annotated[
        AzureCloud, typer.Option("--azure-cloud", help="Azure: public, china (21Vianet) or usgov (Government).")
    ] = AzureCloud.public,
    azure_endpoint: Annotated[
        str | None,
        typer.Option(
            "--azure-endpoint",
            envvar="RESIDENCY_AUDIT_AZURE_ENDPOINT",
            help="Azure: Resource Manager URL (overrides the cloud's; private endpoints, tests).",
        ),
    ] = None,
    subscription: Annotated[
        list[str] | None,
        typer.Option(
            "--subscription", help="Azure: only this subscription id; repeatable. Default: every enabled one."
        ),
    ] = None,
    resource_graph: Annotated[
        bool,
        typer.Option(
            "--resource-graph/--no-resource-graph",
            help="Azure: inventory with one Resource Graph query (default) or per-subscription Resource Manager calls.",
        ),
    ] = True,
    project: Annotated[
        list[str] | None,
        typer.Option("--project", help="Google Cloud: only this project id; repeatable. Default: every active one."),
    ] = None,
    organization: Annotated[
        str | None, typer.Option("--organization", help="Google Cloud: the projects under this organization id.")
    ] = None,
    folder: Annotated[
        str | None, typer.Option("--folder", help="Google Cloud: the projects under this folder id, at any depth.")
    ] = None,
    cloud_asset: Annotated[
        bool,
        typer.Option(
            "--cloud-asset/--no-cloud-asset",
            help="Google Cloud: inventory through Cloud Asset Inventory (default; walked where it cannot answer) or "
            "per-project service listings.",
        ),
    ] = True,
    classification_tag: Annotated[
        str,
        typer.Option("--classification-tag", help="Tag (GCP: label) key that holds a resource's data classification."),
    ] = "data-classification",
    home: HomeOpt = None,
    trust: TrustOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Requests in flight at once.")] = 16,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds each API call may take.")] = 30.0,
    scan_timeout: Annotated[
        float | None,
        typer.Option(
            "--scan-timeout",
            min=1,
            help="Seconds the whole scan may take. Scopes not read by then are skips; the report keeps what was "
            "found (exit 3). Default: no limit.",
        ),
    ] = None,
    profile: ProfileOpt = None,
    fail_on: FailOnOpt = Severity.ERROR,
    allow_incomplete: AllowIncompleteOpt = False,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
) -> None:
    """Inventory data stores, map every copy to countries and legal reach, assess, and (with --profile) gate.

    Exit codes: 0 pass/complete, 1 policy violations, 2 usage or input error, 3 incomplete (something could not be
    read; every report lists it), 130 interrupted (Ctrl-C; nothing is written).
    """
    from datetime import UTC, datetime

    from . import scan as scanning
    from .report import Meta

    kb, prof = _kb_and_profile(profile)
    view = _viewpoint(kb, prof, home, trust)
    request = scanning.ScanRequest(
        providers=tuple(dict.fromkeys(p.value for p in provider or [ProviderOpt.aws])),
        services=tuple(dict.fromkeys(_split(service, []))),
        regions=tuple(dict.fromkeys(_split(region, []))),
        aws_profile=aws_profile,
        org=org,
        account_ids=tuple(dict.fromkeys(_split(account_id, []))),
        role_name=role_name,
        aws_inventory=aws_inventory,
        azure_cloud=azure_cloud.value,
        azure_endpoint=azure_endpoint,
        subscriptions=tuple(dict.fromkeys(_split(subscription, []))),
        resource_graph=resource_graph,
        projects=tuple(dict.fromkeys(_split(project, []))),
        organization=organization,
        folder=folder,
        cloud_asset=cloud_asset,
        classification_tag=classification_tag,
        concurrency=concurrency,
        timeout=timeout,
        scan_timeout=scan_timeout,
    )
    try:
        scanning.validate(request, kb)
    except scanning.ScanRequestError as exc:
        _fail(str(exc))
    started = datetime.now(UTC)
    try:
        result = _run_with_progress(lambda on_progress: scanning.run(request, kb, view, on_progress))
        meta = Meta("scan", None, started, datetime.now(UTC))
        _deliver(kb, result, view, meta, prof, fmt, output, fail_on, allow_incomplete)
    except KeyboardInterrupt:
        # calls in flight are abandoned (daemon threads); --output is written atomically, so it is whole or absent
        _fail("interrupted: the scan was stopped and no report was written", code=EXIT_INTERRUPTED)


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
def kb_check(as_of: AsOfOpt = None) -> None:
    """Check the knowledge base's integrity, and that it knows every region of the installed botocore."""
    from .kbcheck import botocore_regions, check

    kb = _kb()
    problems = check(kb, botocore_regions())
    for problem in problems:
        typer.echo(problem, err=True)
    for line in kb.due_for_review(_as_of(as_of)):  # listed, never failing: the facts still stand until re-read
        typer.echo(f"residency-audit: warning: {line}", err=True)
    if problems:
        _fail(f"knowledge base: {len(problems)} problem(s)", code=1)
    typer.echo(
        f"knowledge base OK: {len(kb.locations)} locations, {len(kb.operators)} operators, "
        f"{len(kb.countries)} countries, {len(kb.instruments)} legal instruments, {len(kb.sources)} sources"
    )


def main() -> None:
    """Console-script entry point."""
    import gc

    # A scan or check builds 10^5-10^6 small acyclic objects; the default thresholds make the cyclic collector
    # walk the whole growing heap again and again (a third of `check`'s time at 100,000 resources).
    gc.set_threshold(100_000, 50, 100)
    app()
