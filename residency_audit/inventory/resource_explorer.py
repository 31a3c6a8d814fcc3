"""AWS Resource Explorer: every resource of an organization through the aggregator index's default view.

The engine reads, from the scanning account (the management account or Resource Explorer's delegated
administrator): its aggregator index (`ListIndexes`), that Region's default view (`GetDefaultView`, `GetView`: its
scope must be the organization and it must carry no filter, or resources would be hidden without a word), which
member account-Regions have an index at all (`ListIndexesForMembers`, 10 accounts a call), the resource types
Resource Explorer indexes (`ListSupportedResourceTypes`) and then the resources: one `Search` per Region (plus
`region:global`).

Resource Explorer counts at most 1,000 matches per query (`Count.Complete` false beyond that), so a Region with
more is split by service, a service by resource type, a type by account; a query still over the cap at the
account level is a `Blind` for that account, Region and type, and the scan walks it. Requests grow with the
number of Regions and resources, not with the number of accounts (except `ListIndexesForMembers`, one per 10).

Blind spots become `Blind` records, never silence: no aggregator index or default view, a filtered or
account-scoped view, an account-Region without an index (Resource Explorer indexes only where it is turned on),
types Resource Explorer does not index (checked against `ListSupportedResourceTypes` for every type a store reads: a
type missing from it is walked everywhere, never assumed absent), and any call that fails after botocore's retries.
Like every inventory service, the index trails reality by minutes; the stores then read each resource found directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Provider
from .records import Blind, Listed

ENGINE = "resource-explorer"
SERVICE = "resource-explorer-2"
CAP = 1000  # matches Resource Explorer counts per query
MEMBERS_PER_CALL = 10  # ListIndexesForMembers takes at most 10 account ids

ClientFactory = Callable[[str, str], Any]  # (service, region) → a boto3 client


@dataclass(frozen=True)
class _View:
    client: Any
    arn: str
    types: dict[str, str]  # Resource Explorer type (s3:bucket) → CloudFormation type ("" if none)
    accounts: frozenset[str]


def search(
    client: ClientFactory,
    home_region: str,
    caller: str,
    accounts: Sequence[str],
    regions: Sequence[str],
    describe_error: Callable[[BaseException], str],
    *,
    only: bool = False,
    types: Sequence[Sequence[str]] = (),
) -> Iterator[Listed | Blind]:
    """Every resource of `accounts` the view shows, and a Blind for each of `regions` without an index.

    The searched Regions are every Region with an index (a member's opt-in Region too), plus `global`; with `only`,
    just `regions` (the scan was restricted with --region). Each of `types` (a type's names: Resource Explorer's,
    CloudFormation's) that the view's supported types do not include is a Blind for that type.
    """
    everything = Blind(Provider.AWS, ENGINE, "organization", "")
    try:
        view, problem = _view(client, home_region, caller, accounts)
        if problem:
            yield _replace_reason(everything, problem)
            return
        assert view is not None
        indexed = _indexed(view.client, caller, accounts) if len(view.accounts) > 1 else _own(view.client, caller)
    except Exception as exc:  # any failure before the first search: the organization is walked instead
        yield _replace_reason(everything, f"Resource Explorer unavailable: {describe_error(exc)}")
        return
    for account in accounts:
        if account not in view.accounts:
            yield Blind(
                Provider.AWS,
                ENGINE,
                f"account/{account}",
                "the default view's scope does not include this account",
                account=account,
            )
            continue
        for region in regions:
            if (account, region) not in indexed:
                yield Blind(
                    Provider.AWS,
                    ENGINE,
                    f"account/{account}/region/{region}",
                    "no Resource Explorer index in this account and Region",
                    account=account,
                    region=region,
                )
    supported = {*view.types, *view.types.values()}
    for names in types:
        if names and not supported.intersection(names):
            reason = "Resource Explorer does not index this type (ListSupportedResourceTypes)"
            yield Blind(Provider.AWS, ENGINE, f"type/{names[0]}", reason, native_type=names[0])
    wanted = set(accounts)
    searched = [*sorted({r for _, r in indexed if not only or r in regions}), "global"]
    for region in searched:
        yield from _split(view, (("region", region),), wanted, describe_error)


def _replace_reason(blind: Blind, reason: str) -> Blind:
    return Blind(blind.provider, blind.engine, blind.scope, reason)


def _view(client: ClientFactory, home: str, caller: str, accounts: Sequence[str]) -> tuple[_View | None, str]:
    home_client = client(SERVICE, home)
    aggregators = [
        index
        for page in home_client.get_paginator("list_indexes").paginate(Type="AGGREGATOR")
        for index in page.get("Indexes", [])
    ]
    if not aggregators:
        return None, f"no Resource Explorer aggregator index in account {caller}: cross-Region search is off"
    region = aggregators[0]["Region"]
    agg_client = client(SERVICE, region)
    arn = agg_client.get_default_view().get("ViewArn")
    if not arn:
        return None, f"no default view in {region}, the Region of the aggregator index"
    view = agg_client.get_view(ViewArn=arn)["View"]
    hidden = ((view.get("Filters") or {}).get("FilterString") or "").strip()
    if hidden:
        return None, f"the default view {arn} filters resources ({hidden!r}): what it hides would go unseen"
    in_scope = frozenset(accounts) if ":organization/" in str(view.get("Scope", "")) else frozenset({caller})
    types: dict[str, str] = {}
    for page in agg_client.get_paginator("list_supported_resource_types").paginate():
        for row in page.get("ResourceTypes", []):
            cfn = row.get("CFNResourceTypes") or []
            types[str(row.get("ResourceType"))] = str(cfn[0]) if cfn else ""
    return _View(agg_client, arn, types, in_scope), ""


def _own(re_client: Any, caller: str) -> set[tuple[str, str]]:
    return {
        (caller, index["Region"])
        for page in re_client.get_paginator("list_indexes").paginate()
        for index in page.get("Indexes", [])
    }


def _indexed(re_client: Any, caller: str, accounts: Sequence[str]) -> set[tuple[str, str]]:
    """The account-Regions with an index: the caller's own, and the members' ten accounts a call."""
    found = _own(re_client, caller)
    members = [a for a in dict.fromkeys(accounts) if a != caller]
    for start in range(0, len(members), MEMBERS_PER_CALL):
        chunk = members[start : start + MEMBERS_PER_CALL]
        for page in re_client.get_paginator("list_indexes_for_members").paginate(AccountIdList=chunk):
            found.update((i["AccountId"], i["Region"]) for i in page.get("Indexes", []))
    return found


def _query(view: _View, query: str) -> tuple[list[dict[str, Any]], bool]:
    rows: list[dict[str, Any]] = []
    complete = False
    for i, page in enumerate(
        view.client.get_paginator("search").paginate(
            QueryString=query, ViewArn=view.arn, PaginationConfig={"PageSize": CAP}
        )
    ):
        if i == 0:
            # no count means no proof the answer is whole: treated as over the cap
            complete = bool((page.get("Count") or {}).get("Complete", False))
            if not complete:
                return [], False
        rows.extend(page.get("Resources", []))
    return rows, complete


def _split(
    view: _View, filters: tuple[tuple[str, str], ...], wanted: set[str], describe_error: Callable[[BaseException], str]
) -> Iterator[Listed | Blind]:
    """One query; over the cap, the same query split one level finer (service, type, account)."""
    query = " ".join(f"{k}:{v}" for k, v in filters)
    where = dict(filters)
    try:
        rows, complete = _query(view, query)
    except Exception as exc:
        yield _blind(where, f"Resource Explorer search {query!r} failed: {describe_error(exc)}")
        return
    if complete:
        yield from (_found(view, row) for row in rows if row.get("OwningAccountId") in wanted)
        return
    finer = _finer(view, where, wanted)
    if finer is None:
        yield _blind(where, f"more than {CAP} resources match {query!r}: Resource Explorer counts no further")
        return
    key, values = finer
    for value in values:
        yield from _split(view, (*filters, (key, value)), wanted, describe_error)


def _finer(view: _View, where: dict[str, str], wanted: set[str]) -> tuple[str, Iterable[str]] | None:
    if "service" not in where:
        return "service", sorted({t.split(":", 1)[0] for t in view.types})
    if "resourcetype" not in where:
        return "resourcetype", sorted(t for t in view.types if t.split(":", 1)[0] == where["service"])
    if "accountid" not in where:
        return "accountid", sorted(wanted)
    return None


def _blind(where: dict[str, str], reason: str) -> Blind:
    account, region, rtype = where.get("accountid", ""), where.get("region", ""), where.get("resourcetype", "")
    parts = [("account", account), ("region", region), ("service", where.get("service", "")), ("type", rtype)]
    scope = "/".join(f"{k}/{v}" for k, v in parts if v)
    return Blind(Provider.AWS, ENGINE, scope, reason, account=account, region=region, native_type=rtype)


def _found(view: _View, row: dict[str, Any]) -> Listed:
    arn = str(row.get("Arn", ""))
    re_type = str(row.get("ResourceType", ""))
    cfn = str(row.get("CfnResourceType") or view.types.get(re_type) or re_type)
    last = arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return Listed(
        provider=Provider.AWS,
        engine=ENGINE,
        account=str(row.get("OwningAccountId", "")),
        native_type=cfn,
        id=arn,
        name=last,
        location=str(row.get("Region", "")),
        properties={"resource_explorer_type": re_type, "service": row.get("Service")},
    )
