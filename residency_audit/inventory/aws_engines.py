"""AWS: an org-wide engine says where there is something; the walk reads only there, and wherever it is blind.

`--aws-inventory resource-explorer` or `config:NAME` asks the engine, from the scanning account, for every
resource of every account. Then, per account: each S3 bucket found is read directly (its Region is known, so no
`ListBuckets`), and each other service is listed only in the Regions where the engine found one of its resources.
An account where the engine found nothing, and is blind nowhere, costs no request at all (not even `AssumeRole`).

Blind spots are walked, never dropped: an account-Region without an index, or not aggregated, or not recording,
is listed service by service; a type the engine cannot see (Config records no EBS snapshots) is listed in every
account-Region; a whole-organization failure (no aggregator index, a filtered view, access denied) walks
everything, as `--aws-inventory walk` does, and says why with `--debug`. A blind scope the walk cannot cover (a
type no store reads, global resources) is a skip, so the scan is incomplete rather than silently short.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..clouds import aws as walk
from ..model import Provider, Resource, Skip
from ..pipeline import Task
from ..stores.aws.s3 import _endpoint_region, _s3_bucket, s3_list
from . import Found, aws_config, resource_explorer
from .records import Blind, Counted, Listed, config_types, explorer_types, readers

_log = logging.getLogger(__name__)

ALL = "*"  # every enabled region of the account

#: CloudFormation (Config) and Resource Explorer type → the service that reads it (the names --service takes),
#: from the catalogue's entries that name a store
SERVICE_OF_TYPE = {name: service for name, service in readers(Provider.AWS).items() if service in walk.SERVICES}
#: the names AWS Config records those types under (the catalogue's `aws_config` where Config's differs)
CONFIG_TYPES = {name: service for name, service in config_types(Provider.AWS).items() if service in walk.SERVICES}
#: Services listed wherever another is: DocumentDB and Neptune clusters are RDS clusters to Resource Explorer
#: (`rds:cluster`) and come from the same DescribeDBClusters answer, so listing them there costs no request.
ALSO = {"rds": ("docdb", "neptune")}


@dataclass
class _Work:
    """What the walk must read in one account."""

    regions: dict[str, set[str]] = field(default_factory=dict)  # service → regions to list (ALL: every one)
    buckets: dict[str, str] = field(default_factory=dict)  # S3 bucket found → its region

    def add(self, service: str, region: str) -> None:
        for name in (service, *ALSO.get(service, ())):
            self.regions.setdefault(name, set()).add(region)

    def __bool__(self) -> bool:
        return bool(self.regions or self.buckets)


def start(me: Any, targets: list[str]) -> Iterator[Task | Skip | Found]:
    """Ask the engine, then yield per account only the reads its answer (and its blind spots) call for."""
    options = me.options
    services = tuple(options.services or walk.SERVICES)
    regions = walk.enabled_regions(me)
    # both engines know DocumentDB and Neptune clusters only as RDS clusters (Config's AWS::RDS::DBCluster, Resource
    # Explorer's rds:cluster): asked for through that type (ALSO routes them), never walked as a type unseen
    covered = {also: service for service, alsos in ALSO.items() for also in alsos}
    wanted = {covered.get(s, s) for s in services}
    if options.inventory == "resource-explorer":
        indexed = [names for s, names in explorer_types(Provider.AWS) if s in wanted and s not in covered]
        records: Any = resource_explorer.search(
            me.client, me.home_region, me.id, targets, regions, walk.describe_error, only=bool(options.regions),
            types=indexed,
        )  # fmt: skip
    else:
        types = [t for t, s in CONFIG_TYPES.items() if s in wanted and s not in covered]
        spec = options.inventory.split(":", 1)[1]
        records = aws_config.search(me.client, me.home_region, spec, targets, regions, types, walk.describe_error)
    work = {account: _Work() for account in targets}
    counted: list[Found] = []
    for record in records:
        if isinstance(record, Listed | Counted) and record.native_type not in SERVICE_OF_TYPE and not options.services:
            # a type no store reads: counted for coverage (those the stores read are counted by what they assess)
            n, where = (record.count, record.region) if isinstance(record, Counted) else (1, record.location)
            counted.append(Found(Provider.AWS, record.engine, f"account/{record.account}", record.native_type, n,
                                 (where,) if where else ()))  # fmt: skip
        if isinstance(record, Listed):
            service = SERVICE_OF_TYPE.get(record.native_type, "")
            if _wanted(service, services) and record.account in work:
                if service == "s3":
                    work[record.account].buckets[record.name] = record.location
                else:
                    work[record.account].add(service, record.location)
        elif isinstance(record, Blind):
            if not (record.account or record.region or record.native_type):
                _log.info("%s: walking every account, region and service", record.reason)
                yield from walk.walk(me, targets)
                return
            yield from _blind(record, work, services, targets)
    yield from counted
    engine = "resource-explorer" if options.inventory == "resource-explorer" else options.inventory.split("@", 1)[0]
    yield from (Found(Provider.AWS, engine, f"account/{account}", "", 0) for account in targets)
    for account, todo in work.items():
        if todo:
            scope = me.scope() if account == me.id else f"account/{account}"
            yield Task(Provider.AWS, scope, functools.partial(_account, me, account, todo), walk.describe_error)


def _wanted(service: str, services: tuple[str, ...]) -> bool:
    """Whether a service, or one listed alongside it (ALSO), is among those asked for."""
    return any(s in services for s in (service, *ALSO.get(service, ())))


def _blind(record: Blind, work: dict[str, _Work], services: tuple[str, ...], targets: list[str]) -> Iterator[Skip]:
    """Mark what the walk must cover for a blind scope; a skip where no store can cover it."""
    if record.native_type:
        service = SERVICE_OF_TYPE.get(record.native_type)
        if service is None:
            scope = "/".join(p for p in ("inventory", record.engine, record.scope) if p)
            yield Skip(Provider.AWS, scope, f"{record.reason}; no store reads {record.native_type}, so none is walked")
            return
        touched = [service] if _wanted(service, services) else []
    elif record.region == "global":
        yield Skip(
            Provider.AWS, f"inventory/{record.engine}/{record.scope}", f"global resources unseen: {record.reason}"
        )
        return
    else:
        touched = list(services)
    for account in [record.account] if record.account else targets:
        if account not in work:
            continue
        for service in touched:
            work[account].add(service, record.region or ALL)


def _account(me: Any, account_id: str, todo: _Work) -> Iterator[Task | Skip | Resource]:
    account = me if account_id == me.id else walk.assume(me, account_id)
    enabled: list[str] | None = None

    def regions_of(service: str, wanted: set[str]) -> list[str]:
        nonlocal enabled
        if ALL in wanted:
            if enabled is None:
                enabled = walk.enabled_regions(account)  # this account's own, opt-in regions included
            chosen = list(enabled)
        else:
            chosen = sorted(r for r in wanted if not account.options.regions or r in account.options.regions)
        return walk.offered(account, service, chosen)

    for name, region in sorted(todo.buckets.items()):
        account.bucket_regions.seed(name, region)
        yield Task(
            Provider.AWS,
            account.scope("service", "s3", "bucket", name),
            functools.partial(_s3_bucket, account, name, regions_of("s3", {region})),
            walk.describe_error,
        )
    for service, wanted in sorted(todo.regions.items()):
        if account.options.services and service not in account.options.services:
            continue  # added alongside another service (ALSO) but not asked for
        chosen = regions_of(service, wanted)
        if service == "s3":
            yield Task(
                Provider.AWS,
                account.scope("service", "s3"),
                functools.partial(_s3_blind, account, set(chosen), set(todo.buckets)),
                walk.describe_error,
            )
            continue
        run = walk.listings()[service]
        for region in chosen:
            yield Task(
                Provider.AWS,
                account.scope("region", region, "service", service),
                functools.partial(run, account, region),
                walk.describe_error,
            )


def _s3_blind(account: Any, regions: set[str], known: set[str]) -> Iterator[Task | Skip]:
    """The buckets of blind regions, through ListBuckets; those the engine found are read once, elsewhere."""
    for task in s3_list(account, sorted(regions)):
        name = task.scope.rsplit("/", 1)[-1] if isinstance(task, Task) else ""
        if isinstance(task, Task) and name in known:
            continue
        if isinstance(task, Task):
            try:
                region = _endpoint_region(account.bucket_regions.get(name))
            except Exception:
                region = ""  # unreadable: the bucket task reports it
            if region and region not in regions:
                continue
        yield task
