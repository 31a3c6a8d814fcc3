"""AWS Config organization aggregators for the local AWS endpoint (JSON 1.1, ``X-Amz-Target: StarlingDoveService.*``).

Mixed into :class:`tests.servers.aws_inventory.AwsInventory`: the aggregators a test declares, their sources'
status, and ``SelectAggregateResourceConfig`` over the SQL subset the tool sends (a field list, an optional ``WHERE
resourceType IN (…)`` / ``= …``, or ``COUNT(*)`` with ``GROUP BY``). Configuration items are the indexed moto
resources whose type Config records (botocore's ``ResourceType`` enum), plus a default VPC in every recording
account-region, as real accounts have.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .aws_wire import MANAGEMENT, ORG_ID, Item, paged

CONFIG_OPERATIONS = frozenset(
    {
        "DescribeConfigurationAggregators",
        "DescribeConfigurationAggregatorSourcesStatus",
        "SelectAggregateResourceConfig",
    }
)


@dataclass
class Aggregator:
    name: str
    accounts: list[str]
    regions: list[str]
    region: str
    recording: set[tuple[str, str]] | None = None


class ConfigAggregators:
    """The Config operations; the class using it provides `aggregators`, `source_status` and `items()`."""

    aggregators: dict[str, Aggregator]
    source_status: dict[tuple[str, str], tuple[str, str, str]]

    def items(self) -> list[Item]:
        raise NotImplementedError

    def _agg(self, params: dict[str, Any]) -> Aggregator | tuple[str, str]:
        name = str(params.get("ConfigurationAggregatorName") or "")
        if name not in self.aggregators:
            return "NoSuchConfigurationAggregatorException", f"The configuration aggregator {name} does not exist."
        return self.aggregators[name]

    def _config_DescribeConfigurationAggregators(self, params: dict[str, Any]) -> Any:
        rows = []
        for name in params.get("ConfigurationAggregatorNames") or list(self.aggregators):
            agg = self._agg({"ConfigurationAggregatorName": name})
            if isinstance(agg, tuple):
                return agg
            rows.append(
                {
                    "ConfigurationAggregatorName": name,
                    "ConfigurationAggregatorArn": f"arn:aws:config:{agg.region}:{MANAGEMENT}:config-aggregator/{name}",
                    "OrganizationAggregationSource": {
                        "RoleArn": f"arn:aws:iam::{MANAGEMENT}:role/config-aggregator",
                        "AwsRegions": list(agg.regions),
                        "AllAwsRegions": False,
                    },
                    "CreationTime": 1764374400.0,
                    "LastUpdatedTime": 1764374400.0,
                }
            )
        return {"ConfigurationAggregators": rows}

    def _config_DescribeConfigurationAggregatorSourcesStatus(self, params: dict[str, Any]) -> Any:
        agg = self._agg(params)
        if isinstance(agg, tuple):
            return agg
        rows = []
        for region in agg.regions:
            status, code, message = self.source_status.get((ORG_ID, region), ("SUCCEEDED", "", ""))
            row: dict[str, Any] = {
                "SourceId": ORG_ID,
                "SourceType": "ORGANIZATION",
                "AwsRegion": region,
                "LastUpdateStatus": status,
                "LastUpdateTime": 1764374400.0,
            }
            if code:
                row.update(LastErrorCode=code, LastErrorMessage=message)
            rows.append(row)
        return paged(rows, "AggregatedSourceStatusList", params, 100, limit_key="Limit")

    def _config_SelectAggregateResourceConfig(self, params: dict[str, Any]) -> Any:
        agg = self._agg(params)
        if isinstance(agg, tuple):
            return agg
        query = _parse_sql(str(params.get("Expression") or ""))
        if query is None:
            return "InvalidExpressionException", "The expression is not valid for this stand-in's SQL subset."
        fields, types, group = query
        recorded = [i for i in self._config_items(agg) if (not types or i.cfn_type in types)]
        if group:
            counts = Counter(tuple(_config_field(i, g) for g in group) for i in recorded)
            rows = [
                json.dumps({**dict(zip(group, key, strict=True)), "COUNT(*)": n}) for key, n in sorted(counts.items())
            ]
            names = [*group, "COUNT(*)"]
        else:
            rows = [json.dumps({f: _config_field(i, f) for f in fields}) for i in sorted(recorded, key=lambda i: i.arn)]
            names = fields
        page = paged(rows, "Results", params, 100, limit_key="Limit")
        page["QueryInfo"] = {"SelectFields": [{"Name": n} for n in names]}
        return page

    def _config_items(self, agg: Aggregator) -> list[Item]:
        import botocore.session

        recordable = set(botocore.session.get_session().get_service_model("config").shape_for("ResourceType").enum)
        covered = {(a, r) for a in agg.accounts for r in agg.regions}
        if agg.recording is not None:
            covered &= agg.recording
        out = [i for i in self.items() if (i.account, i.region) in covered and i.cfn_type in recordable]
        for account, region in sorted(covered):
            vpc = f"vpc-{abs(hash((account, region))) % 10**8:08d}"
            arn = f"arn:aws:ec2:{region}:{account}:vpc/{vpc}"
            out.append(Item(account, region, "ec2:vpc", "AWS::EC2::VPC", arn, vpc, vpc))
        return out


_SQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)(?:\s+WHERE\s+resourceType\s*(?:=\s*'(?P<one>[^']+)'|IN\s*\((?P<many>[^)]*)\)))?"
    r"(?:\s+GROUP\s+BY\s+(?P<group>.+?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_FIELDS = ("accountId", "awsRegion", "resourceType", "resourceId", "resourceName", "arn", "tags", "availabilityZone")


def _parse_sql(expression: str) -> tuple[list[str], set[str], list[str]] | None:
    match = _SQL.match(expression)
    if not match:
        return None
    fields = [f.strip() for f in match.group("fields").split(",")]
    types: set[str] = set()
    if match.group("one"):
        types.add(match.group("one"))
    if match.group("many"):
        types.update(t.strip().strip("'") for t in match.group("many").split(","))
    group = [g.strip() for g in (match.group("group") or "").split(",") if g.strip()]
    if group:
        if sorted(fields) != sorted([*group, "COUNT(*)"]) or any(g not in _FIELDS for g in group):
            return None
    elif any(f not in _FIELDS for f in fields):
        return None
    return fields, types, group


def _config_field(item: Item, name: str) -> Any:
    return {
        "accountId": item.account,
        "awsRegion": item.region,
        "resourceType": item.cfn_type,
        "resourceId": item.resource_id or item.name,
        "resourceName": item.name,
        "arn": item.arn,
        "tags": [],
        "availabilityZone": "Regional",
    }[name]
