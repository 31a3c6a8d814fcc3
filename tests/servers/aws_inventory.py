"""AWS Resource Explorer 2 and AWS Config aggregator stand-ins for the local AWS endpoint (tests/servers/aws.py).

moto 5.2 has neither API. These speak their real wire protocols on the same endpoint: Resource Explorer 2 is
REST-JSON (``POST /Search``, ``/ListIndexes`` …, errors named in ``x-amzn-ErrorType``), Config is JSON 1.1
(``X-Amz-Target: StarlingDoveService.<Operation>``, errors in ``__type``). Shapes come from the installed botocore
models (resource-explorer-2 2022-07-28, config 2014-11-12).

What they index is moto's own state, read in-process, so an engine finds exactly what the walk would: S3 buckets,
DynamoDB tables, RDS instances and clusters, EBS volumes and snapshots, in the account-regions the test declares
covered (an index there, or an aggregator source that records), plus what a test adds with :meth:`add`.

Resource Explorer: ``index(accounts, regions)`` gives account-regions a local index; ``aggregator_region`` holds
the aggregator index and its default view (``view_scope`` "organization" or "account", ``view_filter`` its filter
string). ``Search`` understands the filter prefixes ``region:``, ``service:``, ``resourcetype:`` and
``accountid:``, and counts at most ``search_cap`` matches (1,000, as the real service; lower it to test splitting).

Config: ``aggregator(name, accounts, regions)`` declares an organization aggregator; ``recording`` limits the
account-regions whose recorders record (default: all its sources); ``source_status`` overrides a source's
``LastUpdateStatus``; its operations are in tests/servers/aws_config.py, the shared envelopes in aws_wire.py.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .aws_config import CONFIG_OPERATIONS, Aggregator, ConfigAggregators
from .aws_wire import (
    MANAGEMENT,
    ORG_ID,
    RE_SERVICE,
    REPORTED,
    Invalid,
    Item,
    NotFound,
    Unauthorized,
    _Response,
    error,
    ok,
    paged,
)

__all__ = ["MANAGEMENT", "ORG_ID", "AwsInventory", "Item", "action_of", "error_response", "run"]

RE_OPERATIONS = frozenset(
    {"Search", "ListIndexes", "ListIndexesForMembers", "GetDefaultView", "GetView", "ListSupportedResourceTypes"}
)


@dataclass
class AwsInventory(ConfigAggregators):
    """The two stand-ins' switches; reset() between tests."""

    indexes: set[tuple[str, str]] = field(default_factory=set)
    aggregator_region: str | None = None
    view_scope: str = "organization"
    view_filter: str = ""
    search_cap: int = 1000
    aggregators: dict[str, Aggregator] = field(default_factory=dict)
    source_status: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    extra: list[Item] = field(default_factory=list)
    #: Resource Explorer types left out of ListSupportedResourceTypes (a type the index does not cover)
    unindexed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        """Nothing indexed, no aggregator, no extra items, the real 1,000-match cap."""
        self.indexes.clear()
        self.aggregator_region = None
        self.view_scope, self.view_filter, self.search_cap = "organization", "", 1000
        self.aggregators.clear()
        self.source_status.clear()
        self.extra.clear()
        self.unindexed.clear()

    # -- declaring what exists ---------------------------------------------------------------------------------

    def index(self, accounts: Iterable[str], regions: Iterable[str], *, aggregator_region: str | None = None) -> None:
        """A Resource Explorer index in each account-region; the aggregator (with its default view) in one."""
        regions = list(regions)
        self.indexes.update((a, r) for a in accounts for r in regions)
        if aggregator_region is not None:
            self.aggregator_region = aggregator_region

    def aggregator(
        self,
        name: str,
        accounts: Iterable[str],
        regions: Iterable[str],
        *,
        region: str = "us-east-1",
        recording: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """An organization Config aggregator over `accounts` × `regions`, living in `region`."""
        self.aggregators[name] = Aggregator(
            name, list(accounts), list(regions), region, None if recording is None else set(recording)
        )

    def add(self, account: str, region: str, re_type: str, cfn_type: str, arn: str, name: str = "") -> None:
        """A resource of any type (one the tool does not read, typically)."""
        self.extra.append(Item(account, region, re_type, cfn_type, arn, name or arn.rsplit("/", 1)[-1]))

    # -- the wire ----------------------------------------------------------------------------------------------

    def handles(self, service: str | None, action: str | None) -> bool:
        """Whether a request is this stand-in's to answer."""
        if service == RE_SERVICE:
            return True
        return service == "config" and action in CONFIG_OPERATIONS

    def answer(self, service: str | None, region: str | None, action: str | None, body: bytes) -> _Response:
        """The response to one request."""
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return error(service, 400, "SerializationException", "request body is not JSON")
        if service == RE_SERVICE:
            if action not in RE_OPERATIONS:
                return error(service, 404, "UnknownOperationException", f"no such operation {action}")
            return ok(service, getattr(self, "_re_" + str(action))(region or "us-east-1", params))
        handler = getattr(self, "_config_" + str(action))
        result = handler(params)
        if isinstance(result, tuple):
            return error(service, 400, *result)
        return ok(service, result)

    # -- moto's state as index items ---------------------------------------------------------------------------

    def items(self) -> list[Item]:
        """Every resource moto holds that the stand-ins index, plus the extras."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.ec2.models import ec2_backends
        from moto.rds.models import rds_backends
        from moto.s3.models import s3_backends

        out: list[Item] = []
        for account, partitions in list(s3_backends.items()):
            for bucket in list(partitions["aws"].buckets.values()) if "aws" in partitions else []:
                region = bucket.region_name if bucket.region_name not in ("", "EU") else "eu-west-1"
                arn = f"arn:aws:s3:::{bucket.name}"
                out.append(Item(account, region, "s3:bucket", "AWS::S3::Bucket", arn, bucket.name, bucket.name))
        for account, regions in list(dynamodb_backends.items()):
            for region, backend in list(regions.items()):
                for name in list(backend.tables):
                    arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
                    out.append(Item(account, region, "dynamodb:table", "AWS::DynamoDB::Table", arn, name, name))
        for account, regions in list(rds_backends.items()):
            for region, backend in list(regions.items()):
                for ident in list(backend.databases):
                    arn = f"arn:aws:rds:{region}:{account}:db:{ident}"
                    out.append(Item(account, region, "rds:db", "AWS::RDS::DBInstance", arn, ident, ident))
                for ident in list(backend.clusters):
                    arn = f"arn:aws:rds:{region}:{account}:cluster:{ident}"
                    out.append(Item(account, region, "rds:cluster", "AWS::RDS::DBCluster", arn, ident, ident))
        for account, regions in list(ec2_backends.items()):
            for region, backend in list(regions.items()):
                for sid, snap in list(backend.snapshots.items()):
                    if getattr(snap, "owner_id", account) == account:
                        arn = f"arn:aws:ec2:{region}::snapshot/{sid}"
                        out.append(Item(account, region, "ec2:snapshot", "AWS::EC2::Snapshot", arn, sid, sid))
                for vid in list(backend.volumes):
                    arn = f"arn:aws:ec2:{region}:{account}:volume/{vid}"
                    out.append(Item(account, region, "ec2:volume", "AWS::EC2::Volume", arn, vid, vid))
        with self._lock:
            out.extend(self.extra)
        return out

    # -- Resource Explorer 2 -----------------------------------------------------------------------------------

    def _view_arn(self) -> str:
        return f"arn:aws:resource-explorer-2:{self.aggregator_region}:{MANAGEMENT}:view/all-resources/{ORG_ID}"

    def _re_ListIndexes(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted_type = params.get("Type")
        rows = []
        for account, index_region in sorted(self.indexes):
            if account != MANAGEMENT:
                continue
            kind = "AGGREGATOR" if index_region == self.aggregator_region else "LOCAL"
            if wanted_type and kind != wanted_type:
                continue
            if params.get("Regions") and index_region not in params["Regions"]:
                continue
            arn = f"arn:aws:resource-explorer-2:{index_region}:{account}:index/{uuid.uuid5(uuid.NAMESPACE_URL, index_region)}"
            rows.append({"Region": index_region, "Arn": arn, "Type": kind})
        return paged(rows, "Indexes", params, 100)

    def _re_ListIndexesForMembers(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        accounts = params.get("AccountIdList") or []
        if not 1 <= len(accounts) <= 10:
            raise Invalid("AccountIdList must hold 1 to 10 account ids")
        rows = [
            {
                "AccountId": account,
                "Region": index_region,
                "Arn": f"arn:aws:resource-explorer-2:{index_region}:{account}:index/{account}-{index_region}",
                "Type": "AGGREGATOR" if account == MANAGEMENT and index_region == self.aggregator_region else "LOCAL",
            }
            for account, index_region in sorted(self.indexes)
            if account in accounts
        ]
        return paged(rows, "Indexes", params, 10)

    def _re_GetDefaultView(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        # real Resource Explorer answers 200 without a ViewArn when the region has no default view
        return {"ViewArn": self._view_arn()} if region == self.aggregator_region else {}

    def _re_GetView(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("ViewArn") != self._view_arn():
            raise NotFound(f"view {params.get('ViewArn')} not found")
        scope = (
            f"arn:aws:organizations::{MANAGEMENT}:organization/{ORG_ID}"
            if self.view_scope == "organization"
            else f"arn:aws:iam::{MANAGEMENT}:root"
        )
        return {
            "View": {
                "ViewArn": self._view_arn(),
                "Owner": MANAGEMENT,
                "LastUpdatedAt": REPORTED,
                "Scope": scope,
                "IncludedProperties": [],
                "Filters": {"FilterString": self.view_filter},
            },
            "Tags": {},
        }

    def _re_ListSupportedResourceTypes(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        from residency_audit.catalogue import load

        kinds = {(i.re_type, i.cfn_type) for i in self.items()}
        # every type a store reads that has a Resource Explorer name, as the real index lists them
        kinds |= {(t.resource_explorer, t.native or "") for t in load().types if t.resource_explorer and t.store}
        kinds |= {
            ("s3:bucket", "AWS::S3::Bucket"),
            ("dynamodb:table", "AWS::DynamoDB::Table"),
            ("rds:db", "AWS::RDS::DBInstance"),
            ("rds:cluster", "AWS::RDS::DBCluster"),
            ("ec2:snapshot", "AWS::EC2::Snapshot"),
            ("ec2:volume", "AWS::EC2::Volume"),
        }
        rows = [
            {"Service": t.split(":", 1)[0], "ResourceType": t, "CFNResourceTypes": [c] if c else []}
            for t, c in sorted(kinds)
            if t not in self.unindexed
        ]
        return paged(rows, "ResourceTypes", params, 1000)

    def _re_Search(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        terms = _terms(str(params.get("QueryString") or ""))
        view = params.get("ViewArn") or (self._view_arn() if region == self.aggregator_region else None)
        if view != self._view_arn() or region != self.aggregator_region:
            raise Unauthorized("no default view in this Region; search through the aggregator index's view")
        visible = [
            i
            for i in self.items()
            if (i.account, i.region) in self.indexes
            and (self.view_scope == "organization" or i.account == MANAGEMENT)
            and all(_match(i, key, value) for key, value in terms)
        ]
        visible.sort(key=lambda i: i.arn)
        counted = visible[: self.search_cap]
        page = paged(
            [
                {
                    "Arn": i.arn,
                    "OwningAccountId": i.account,
                    "Region": i.region,
                    "ResourceType": i.re_type,
                    "Service": i.re_type.split(":", 1)[0],
                    "CfnResourceType": i.cfn_type,
                    "LastReportedAt": REPORTED,
                    "Properties": [],
                }
                for i in counted
            ],
            "Resources",
            params,
            1000,
        )
        page["ViewArn"] = self._view_arn()
        page["Count"] = {"TotalResources": len(counted), "Complete": len(visible) <= self.search_cap}
        return page


# -- helpers -------------------------------------------------------------------------------------------------


_TERM = re.compile(r"^(region|service|resourcetype|accountid):(\S+)$")


def _terms(query: str) -> list[tuple[str, str]]:
    out = []
    for token in query.split():
        match = _TERM.match(token)
        if not match:
            raise Invalid(f"this stand-in understands region:, service:, resourcetype: and accountid: only: {token}")
        out.append((match.group(1), match.group(2)))
    return out


def _match(item: Item, key: str, value: str) -> bool:
    if key == "region":
        return item.region == value
    if key == "service":
        return item.re_type.split(":", 1)[0] == value
    if key == "resourcetype":
        return item.re_type == value
    return item.account == value


def error_response(service: str | None, status: int, code: str, message: str) -> _Response | None:
    """An injected fault in Resource Explorer's REST-JSON error shape (Config's JSON 1.1 one is the proxy's own)."""
    return error(service, status, code, message) if service == RE_SERVICE else None


def action_of(service: str | None, path: str) -> str | None:
    """A REST-JSON request's operation name from its path (/Search → Search)."""
    if service == RE_SERVICE:
        return path.split("?", 1)[0].strip("/") or None
    return None


def run(inventory: AwsInventory, service: str | None, region: str | None, action: str | None, body: bytes) -> _Response:
    """Answer a request, turning the handlers' typed exceptions into the protocol's error shape."""
    try:
        return inventory.answer(service, region, action, body)
    except (Invalid, NotFound, Unauthorized) as exc:
        return error(service, exc.status, exc.code, str(exc))
