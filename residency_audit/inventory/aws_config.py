"""AWS Config: every recorded resource of an organization through one configuration aggregator.

`--aws-inventory config:NAME` (or `config:NAME@REGION` when the aggregator lives outside the home Region) reads,
from the account holding the aggregator:

1. `DescribeConfigurationAggregators`: which Regions (and, for account sources, which accounts) it aggregates, and
   any resource-type filter;
2. `DescribeConfigurationAggregatorSourcesStatus`: sources whose last aggregation FAILED or is OUTDATED;
3. one advanced query counting configuration items by type, account and Region
   (`SELECT resourceType, accountId, awsRegion, COUNT(*) GROUP BY …`): the coverage counts of every type, known or
   not, and proof that each account-Region is recording at all;
4. one advanced query listing the resources of the types the scan reads (`WHERE resourceType IN (…)`).

Queries page by 100 rows (the API's maximum), so requests grow with resources, never with accounts × Regions ×
services. Blind spots are `Blind` records: a Region the aggregator does not cover, a failed or outdated source, an
account-Region without a single configuration item (a recorder that is off shows exactly so; every recording
Region holds at least its default VPC and security group), a type Config does not record (EBS snapshots, for one)
or the aggregator filters out, and any call that fails after botocore's retries.

What this engine cannot see, and the docs say: a recorder that records some types but not others looks alive.
Config's recording group is visible only inside each account; use the walk or Resource Explorer where recorders are
not known to record every supported type.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..model import Provider
from .records import Blind, Counted, Listed

ENGINE_PREFIX = "config:"
PAGE = 100  # SelectAggregateResourceConfig and the status listing return at most 100 rows a call
COUNT_QUERY = "SELECT resourceType, accountId, awsRegion, COUNT(*) GROUP BY resourceType, accountId, awsRegion"
FIELDS = "accountId, awsRegion, resourceType, resourceId, resourceName, arn"

ClientFactory = Callable[[str, str], Any]


def parse(spec: str, home_region: str) -> tuple[str, str]:
    """`NAME` or `NAME@REGION` → (aggregator name, its Region)."""
    name, _, region = spec.partition("@")
    return name.strip(), (region.strip() or home_region)


def recordable() -> frozenset[str]:
    """The resource types AWS Config can record, from the installed botocore model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("config")
    return frozenset(model.shape_for("ResourceType").enum)


def search(
    client: ClientFactory,
    home_region: str,
    spec: str,
    accounts: Sequence[str],
    regions: Sequence[str],
    types: Sequence[str],
    describe_error: Callable[[BaseException], str],
) -> Iterator[Listed | Counted | Blind]:
    """Counts of every type, the resources of `types`, and a Blind for every scope the aggregator cannot answer."""
    name, region = parse(spec, home_region)
    engine = ENGINE_PREFIX + name
    try:
        config = client("config", region)
        covered, kept = _sources(config, name, accounts, regions)
        failing = _failing(config, name)
        counts = [
            Counted(Provider.AWS, engine, row["accountId"], row["awsRegion"], row["resourceType"], int(row["COUNT(*)"]))
            for row in _select(config, name, COUNT_QUERY)
        ]
    except Exception as exc:  # the aggregator cannot answer: the organization is walked instead
        yield Blind(
            Provider.AWS, engine, "organization", f"AWS Config aggregator {name} unavailable: {describe_error(exc)}"
        )
        return
    yield from counts
    live = {(c.account, c.region) for c in counts if c.count > 0}
    for account in accounts:
        for where in regions:
            reason = _blind_reason(account, where, covered, failing, live)
            if reason:
                yield Blind(
                    Provider.AWS, engine, f"account/{account}/region/{where}", reason, account=account, region=where
                )
    known = recordable()
    listed = []
    for rtype in dict.fromkeys(types):
        if rtype not in known:
            yield Blind(
                Provider.AWS, engine, f"type/{rtype}", "AWS Config does not record this type", native_type=rtype
            )
        elif kept is not None and rtype not in kept:
            yield Blind(
                Provider.AWS, engine, f"type/{rtype}", f"the aggregator {name} filters this type out", native_type=rtype
            )
        else:
            listed.append(rtype)
    if not listed:
        return
    wanted_accounts, wanted_regions = set(accounts), set(regions)
    query = f"SELECT {FIELDS} WHERE resourceType IN ({', '.join(repr(t) for t in listed)})"
    try:
        for row in _select(config, name, query):
            if row.get("accountId") in wanted_accounts and row.get("awsRegion") in wanted_regions:
                yield _found(engine, row)
    except Exception as exc:
        yield Blind(Provider.AWS, engine, "organization", f"AWS Config query failed part-way: {describe_error(exc)}")


def _sources(
    config: Any, name: str, accounts: Sequence[str], regions: Sequence[str]
) -> tuple[set[tuple[str, str]], set[str] | None]:
    """The account-Regions the aggregator aggregates, and the types its filter keeps (None: no filter)."""
    aggregator = config.describe_configuration_aggregators(ConfigurationAggregatorNames=[name])[
        "ConfigurationAggregators"
    ][0]
    covered: set[tuple[str, str]] = set()
    org = aggregator.get("OrganizationAggregationSource")
    if org:
        org_regions = regions if org.get("AllAwsRegions") else [r for r in regions if r in org.get("AwsRegions", [])]
        covered.update((a, r) for a in accounts for r in org_regions)
    for source in aggregator.get("AccountAggregationSources") or []:
        src_regions = (
            regions if source.get("AllAwsRegions") else [r for r in regions if r in source.get("AwsRegions", [])]
        )
        covered.update((a, r) for a in source.get("AccountIds", []) for r in src_regions)
    kept: set[str] | None = None
    type_filter = (aggregator.get("AggregatorFilters") or {}).get("ResourceType") or {}
    if type_filter.get("Value"):
        kept = set(type_filter["Value"])
    return covered, kept


def _failing(config: Any, name: str) -> dict[tuple[str, str], str]:
    """(source id, Region) → why its aggregation cannot be trusted; the source id is an account or organization."""
    out: dict[tuple[str, str], str] = {}
    paginator = config.get_paginator("describe_configuration_aggregator_sources_status")
    for page in paginator.paginate(ConfigurationAggregatorName=name, PaginationConfig={"PageSize": PAGE}):
        for row in page.get("AggregatedSourceStatusList", []):
            status = row.get("LastUpdateStatus")
            if status != "SUCCEEDED":
                detail = ": ".join(x for x in (row.get("LastErrorCode"), row.get("LastErrorMessage")) if x)
                key = ("*" if row.get("SourceType") == "ORGANIZATION" else row.get("SourceId", ""), row["AwsRegion"])
                out[key] = f"the aggregator's last update from this source {status}" + (
                    f" ({detail})" if detail else ""
                )
    return out


def _blind_reason(
    account: str,
    region: str,
    covered: set[tuple[str, str]],
    failing: dict[tuple[str, str], str],
    live: set[tuple[str, str]],
) -> str:
    if (account, region) not in covered:
        return "the Config aggregator does not cover this account and Region"
    why = failing.get((account, region)) or failing.get(("*", region))
    if why:
        return why
    if (account, region) not in live:
        return "no configuration items from this account and Region: Config is not recording there"
    return ""


def _select(config: Any, name: str, expression: str) -> Iterator[dict[str, Any]]:
    paginator = config.get_paginator("select_aggregate_resource_config")
    for page in paginator.paginate(
        Expression=expression, ConfigurationAggregatorName=name, PaginationConfig={"PageSize": PAGE}
    ):
        for text in page.get("Results", []):
            row = json.loads(text)
            if isinstance(row, dict):
                yield row


def _found(engine: str, row: dict[str, Any]) -> Listed:
    arn = str(row.get("arn") or "")
    return Listed(
        provider=Provider.AWS,
        engine=engine,
        account=str(row.get("accountId", "")),
        native_type=str(row.get("resourceType", "")),
        id=arn or str(row.get("resourceId", "")),
        name=str(row.get("resourceName") or row.get("resourceId") or arn.rsplit("/", 1)[-1]),
        location=str(row.get("awsRegion", "")),
        properties={"resource_id": row.get("resourceId")},
    )
