"""A live scan, from a validated request to an assessed result: inventory → stores → locations → assessment.

The CLI parses options into a `ScanRequest`, calls `validate` and `run`, renders, exits. Nothing here prints or
exits, and nothing heavy is imported at module level (the CLI imports `SERVICES` for its --help text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .knowledge import KnowledgeBase
    from .model import Viewpoint
    from .pipeline import Progress, ScanResult, Task

# The --service names each provider offers (each is read by one module under residency_audit/stores/).
SERVICES = {
    "aws": (
        "s3",
        "dynamodb",
        "rds",
        "ebs-snapshot",
        "backup-vault",
        "kms-key",
        "secret",
        "ecr-repository",
        "redshift",
        "efs",
        "docdb",
        "neptune",
        "elasticache",
        "elasticache-cluster",
        "elasticache-serverless",
        "docdb-elastic",
        "memorydb",
        "opensearch",
        "ami",
        "log-group",
    ),
    "azure": (
        "storage-account",
        "cosmosdb",
        "sql-database",
        "postgresql-flexible",
        "mysql-flexible",
        "disk",
        "snapshot",
        "recovery-services-vault",
        "backup-vault",
        "key-vault",
        "managed-hsm",
        "sql-managed-instance",
        "container-registry",
        "eventhub-namespace",
        "servicebus-namespace",
        "log-analytics-workspace",
        "redis-cache",
        "gallery-image-version",
    ),
    "gcp": (
        "gcs",
        "bigquery-dataset",
        "cloudsql-instance",
        "compute-snapshot",
        "compute-image",
        "compute-machine-image",
        "secret-manager",
        "logging-bucket",
        "pubsub-topic",
        "spanner-instance",
        "artifact-registry",
        "firestore-database",
        "bigtable-instance",
        "backupdr-vault",
        "backupdr-plan",
        "logging-sink",
    ),
}


class ScanRequestError(ValueError):
    """An option names something that does not exist (a service, a region): the message says which and why."""


@dataclass(frozen=True)
class ScanRequest:
    """Everything a scan needs to know, as the CLI parsed it (empty tuples mean "all")."""

    providers: tuple[str, ...] = ("aws",)
    services: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    aws_profile: str | None = None
    org: bool = False
    account_ids: tuple[str, ...] = ()
    role_name: str = "OrganizationAccountAccessRole"
    aws_inventory: str = "walk"  # or "resource-explorer", "config:NAME[@REGION]"
    azure_cloud: str = "public"
    azure_endpoint: str | None = None
    subscriptions: tuple[str, ...] = ()
    resource_graph: bool = True
    projects: tuple[str, ...] = ()
    organization: str | None = None
    folder: str | None = None
    cloud_asset: bool = True
    classification_tag: str = "data-classification"
    concurrency: int = 16
    timeout: float = 30.0
    scan_timeout: float | None = None


def validate(request: ScanRequest, kb: KnowledgeBase) -> None:
    """Raise ScanRequestError for a --service no selected provider offers or a --region AWS does not have."""
    offered = [s for p in request.providers for s in SERVICES[p]]
    for s in request.services:
        if s not in offered:
            raise ScanRequestError(
                f"--service {s!r} is not one of {', '.join(offered)} (for --provider {', '.join(request.providers)})"
            )
    for r in request.regions:
        loc = kb.resolve("aws", r)
        if loc is None or loc.code != r:
            close = kb.suggest("aws", r)
            hint = f"; closest known: {', '.join(close)}" if close else ""
            raise ScanRequestError(f"--region {r!r} is not an AWS region{hint}")
    engine = request.aws_inventory
    if engine not in ("walk", "resource-explorer") and not (
        engine.startswith("config:") and engine.split(":", 1)[1].split("@", 1)[0]
    ):
        raise ScanRequestError(
            f"--aws-inventory {engine!r} is not walk, resource-explorer or config:AGGREGATOR[@REGION]"
        )


def _picked(request: ScanRequest, provider: str) -> tuple[str, ...]:
    return tuple(s for s in request.services if s in SERVICES[provider])


def _selected(request: ScanRequest, provider: str) -> bool:
    # an explicit --service list that names none of this provider's services leaves the provider out
    return provider in request.providers and (not request.services or bool(_picked(request, provider)))


def root_tasks(request: ScanRequest) -> list[Task]:
    """The root task of each selected cloud; they yield the rest (accounts, regions, stores) as they go."""
    tasks: list[Task] = []
    if _selected(request, "aws"):
        from .clouds import aws

        tasks += aws.tasks(
            aws.AwsOptions(
                profile=request.aws_profile,
                regions=request.regions,
                services=_picked(request, "aws"),
                org=request.org,
                account_ids=request.account_ids,
                role_name=request.role_name,
                inventory=request.aws_inventory,
                classification_tag=request.classification_tag,
                concurrency=request.concurrency,
                timeout=request.timeout,
            )
        )
    if _selected(request, "azure"):
        from .clouds import azure

        tasks += azure.tasks(
            azure.AzureOptions(
                cloud=request.azure_cloud,
                endpoint=request.azure_endpoint,
                subscriptions=request.subscriptions,
                resource_graph=request.resource_graph,
                services=_picked(request, "azure"),
                classification_tag=request.classification_tag,
                concurrency=request.concurrency,
                timeout=request.timeout,
            )
        )
    if _selected(request, "gcp"):
        from .clouds import gcp

        tasks += gcp.tasks(
            gcp.GcpOptions(
                projects=request.projects,
                organization=request.organization,
                folder=request.folder,
                cloud_asset=request.cloud_asset,
                services=_picked(request, "gcp"),
                classification_label=request.classification_tag,
                concurrency=request.concurrency,
                timeout=request.timeout,
            )
        )
    return tasks


def run(
    request: ScanRequest, kb: KnowledgeBase, view: Viewpoint, on_progress: Callable[[Progress], None] | None = None
) -> ScanResult:
    """Scan, locate every copy and assess it; what was found but not read stays in the result (coverage, skips)."""
    import dataclasses
    import time

    from .model import Skip
    from .pipeline import assess_all, locate, run_tasks
    from .safe import scrubbed, utf8

    deadline = None if request.scan_timeout is None else time.monotonic() + request.scan_timeout
    result = run_tasks(root_tasks(request), request.concurrency, on_progress, deadline=deadline)
    # what a cloud API sent, as every format can write it: a JSON body may carry a lone surrogate in a tag or name
    resources = (scrubbed(r) for r in result.resources)
    skipped = tuple(Skip(s.provider, utf8(s.scope), utf8(s.reason)) for s in result.skipped)
    return dataclasses.replace(result, resources=tuple(assess_all(kb, locate(kb, resources), view)), skipped=skipped)
