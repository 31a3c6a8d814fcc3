"""`scan`: options to a ScanRequest, the scan run with a progress line, the report written, the exit code.

The scan itself is residency_audit.scan's; the report, residency_audit.outcome's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from ..formats import OutputFormat
from ..rules import Severity
from ..scan import SERVICES
from .common import (
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    AllowIncompleteOpt,
    FailOnOpt,
    FormatOpt,
    HomeOpt,
    OutputOpt,
    ProfileOpt,
    ProviderOpt,
    TrustOpt,
    emit,
    fail,
    kb_and_profile,
    split,
    viewpoint_of,
)

if TYPE_CHECKING:
    from ..pipeline import Progress, ScanResult


class AzureCloud(StrEnum):
    """Azure clouds `--azure-cloud` selects."""

    public = "public"
    china = "china"
    usgov = "usgov"


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

    from .. import scan as scanning
    from ..outcome import judge
    from ..report import Meta

    kb, prof = kb_and_profile(profile)
    view = viewpoint_of(kb, prof, home, trust)
    request = scanning.ScanRequest(
        providers=tuple(dict.fromkeys(p.value for p in provider or [ProviderOpt.aws])),
        services=tuple(dict.fromkeys(split(service, []))),
        regions=tuple(dict.fromkeys(split(region, []))),
        aws_profile=aws_profile,
        org=org,
        account_ids=tuple(dict.fromkeys(split(account_id, []))),
        role_name=role_name,
        aws_inventory=aws_inventory,
        azure_cloud=azure_cloud.value,
        azure_endpoint=azure_endpoint,
        subscriptions=tuple(dict.fromkeys(split(subscription, []))),
        resource_graph=resource_graph,
        projects=tuple(dict.fromkeys(split(project, []))),
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
        fail(str(exc))
    started = datetime.now(UTC)
    try:
        # requests silences urllib3's warning that optional SOCKS support is not installed as it is imported, but
        # the clouds' clients are imported on worker threads at once, and once under load the warning reached stderr
        warnings.filterwarnings("ignore", message="SOCKS support in urllib3 requires")
        result = run_with_progress(lambda on_progress: scanning.run(request, kb, view, on_progress))
        meta = Meta("scan", None, started, datetime.now(UTC))
        from ..firstrun import missing_credentials, nothing_readable

        for hint in missing_credentials(result.skipped).values():
            typer.echo(f"residency-audit: {hint}", err=True)
        if nothing_readable(request.providers, result.skipped) is not None:
            # no cloud could be read at all: no empty tables, and no --allow-incomplete pass
            if fmt is OutputFormat.table and output is None:
                typer.echo("residency-audit: incomplete: nothing was scanned (no credentials for any cloud)", err=True)
                raise typer.Exit(EXIT_INCOMPLETE)
            allow_incomplete = False
        run = judge(kb, result, view, meta, prof, fmt, fail_on, allow_incomplete, plain=output is not None)
        emit(run, output, fail_on, allow_incomplete)
    except KeyboardInterrupt:
        # calls in flight are abandoned (daemon threads); --output is written atomically, so it is whole or absent
        fail("interrupted: the scan was stopped and no report was written", code=EXIT_INTERRUPTED)


def run_with_progress(run: Callable[[Callable[[Progress], None]], ScanResult]) -> ScanResult:
    """Run a scan with one live line on stderr: scopes done/total, resources found, the scope being read.

    Only when stderr is a terminal; the line is erased when the scan ends (or is interrupted).
    """
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    console = Console(stderr=True)
    if not console.is_terminal:
        return run(lambda p: None)
    with Bar(
        SpinnerColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[line]}", markup=False),  # a scope name is printed literally: no markup
        console=console,
        transient=True,
    ) as bar:
        task_id = bar.add_task("scan", total=None, line="scanning")

        def update(p: Progress) -> None:
            skipped = f", {p.skips} skipped" if p.skips else ""
            line = Text(f"scanning {p.tasks_done}/{p.tasks_total} scopes · {p.resources} resources found{skipped}")
            if p.current:
                line.append(f" · {p.current}")
            # one line, never wrapped: the scope is cut at the terminal's edge (read each time: it may be resized)
            line.truncate(max(console.width - 12, 20), overflow="ellipsis")
            bar.update(task_id, line=line.plain)

        return run(update)
