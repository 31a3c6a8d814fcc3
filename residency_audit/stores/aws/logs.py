"""CloudWatch Logs log groups: the group's region, and every region a subscription sends its log events to.

A subscription filter streams every matching event to its `destinationArn`: a Kinesis data stream, a Firehose
stream, a Lambda function, or a Logs destination (cross-account); the destination's region holds a copy. An
account-level subscription filter policy (PutAccountPolicy, SUBSCRIPTION_FILTER_POLICY) does the same for every log
group of its region but those its `selectionCriteria` excludes (`LogGroupName NOT IN [...]`).

Requests: one paged DescribeLogGroups per region (an empty region costs that one request); where the region has
groups, one DescribeAccountPolicies for the region and one DescribeSubscriptionFilters per group: no API lists a
region's or an account's per-group filters at once (DescribeSubscriptionFilters takes a `logGroupName`), and no field
of DescribeLogGroups says which groups have one. Tags come from the Resource Groups Tagging API, one paged call per
region. Each copy at a destination carries key control *unknown*: what the destination stores, and under which
keys, is not read. The organization's centralization rules (below) add their copies.

Field names are those of botocore's `logs` model (2014-03-28): DescribeLogGroups `logGroups[]` (`logGroupName`,
`logGroupArn`, `arn`, `kmsKeyId`), DescribeSubscriptionFilters `subscriptionFilters[]` (`filterName`,
`destinationArn`), DescribeAccountPolicies `accountPolicies[]` (`policyName`, `policyDocument` with
`DestinationArn`, `selectionCriteria`).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, Memo, dedupe_places, region_of_arn

TAG_TYPE = "logs:log-group"  # the Resource Groups Tagging API's resource type filter
GROUP_TYPE = "AWS::Logs::LogGroup"
FILTER_TYPE = "AWS::Logs::SubscriptionFilter"
DEFAULT_KEY = "CloudWatch Logs' own server-side encryption (no KMS key associated)"
_NOT_IN = re.compile(r"^\s*LogGroupName\s+NOT\s+IN\s+\[(.*)\]\s*$", re.IGNORECASE | re.DOTALL)

# --- live -----------------------------------------------------------------------------------------------------


def logs_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's log groups, each with the regions its subscriptions (own and account-level) send events to."""
    client = account.client("logs", region)
    groups: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 50}):
        groups.extend(page.get("logGroups", []))
    if not groups:
        return  # an account policy subscribes log groups: with none here, nothing is sent anywhere
    scope = ("region", region, "service", "log-group")
    policies: list[dict[str, Any]] = []
    try:
        policies = _account_policies(client)
    except Exception as exc:
        reason = (
            f"account-level subscription policies unreadable, where they send events unknown: {describe_error(exc)}"
        )
        yield Skip(Provider.AWS, account.scope(*scope, "account-policies"), reason)
    for group in groups:
        name = group["logGroupName"]
        arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
        footprint = [Copy(region, CopyRole.PRIMARY)]
        footprint += [c for p in policies if (c := _policy_copy(p, name)) is not None]
        central, skip = centralized_copies(account, region, name)
        if skip:
            yield skip
        footprint += central
        try:
            footprint += _filter_copies(client, name)
        except Exception as exc:
            reason = f"subscription filters unreadable, where the group's events go unknown: {describe_error(exc)}"
            yield Skip(Provider.AWS, account.scope(*scope, "log-group", name), reason)
        key_id = group.get("kmsKeyId")
        key = account.key_control(region, key_id, DEFAULT_KEY)
        yield from account.key_skips(region, key_id)
        tags, skip = account.tags_for(region, TAG_TYPE, arn)
        if skip:
            yield skip
        yield resource(account, "log-group", GROUP_TYPE, arn, name, dedupe_places(footprint), tags, key)


def _account_policies(client: Any) -> list[dict[str, Any]]:
    policies: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"policyType": "SUBSCRIPTION_FILTER_POLICY"}
        if token:
            kwargs["nextToken"] = token
        out = client.describe_account_policies(**kwargs)
        policies.extend(out.get("accountPolicies", []))
        token = out.get("nextToken")
        if not token:
            return policies


def _filter_copies(client: Any, group: str) -> list[Copy]:
    copies = []
    for page in client.get_paginator("describe_subscription_filters").paginate(logGroupName=group):
        for f in page.get("subscriptionFilters", []):
            what = f"subscription filter {f.get('filterName', '?')}"
            copies.append(destination_copy(f.get("destinationArn"), what))
    return copies


def _policy_copy(policy: dict[str, Any], group: str) -> Copy | None:
    """The copy an account-level subscription policy makes of `group`, or None where its criteria exclude it."""
    what = f"account-level subscription filter policy {policy.get('policyName', '?')}"
    criteria = policy.get("selectionCriteria")
    if criteria:
        excluded = _excluded(criteria)
        if excluded is None:
            what += f" (selection criteria {criteria!r} not understood: counted as applying)"
        elif group in excluded:
            return None
    try:
        doc = json.loads(policy.get("policyDocument") or "{}")
    except ValueError:
        doc = {}
    dest = doc.get("DestinationArn") if isinstance(doc, dict) else None
    return destination_copy(dest if isinstance(dest, str) else None, what)


def _excluded(criteria: str) -> set[str] | None:
    """The group names `LogGroupName NOT IN ["a", "b"]` excludes; None for any other criteria."""
    match = _NOT_IN.match(criteria)
    if not match:
        return None
    try:
        names = json.loads(f"[{match.group(1)}]")
    except ValueError:
        return None
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else None


_KINDS = {"kinesis": "Kinesis data stream", "firehose": "Firehose stream", "lambda": "Lambda function",
          "logs": "CloudWatch Logs destination"}  # fmt: skip


def destination_copy(arn: str | None, what: str) -> Copy:
    """The copy a subscription makes at its destination: the ARN's region, keys unknown (the destination is unread)."""
    if not arn:
        return Copy(
            UNKNOWN_LOCATION, CopyRole.REPLICA, note=f"{what}: no destination ARN", key_control=KeyControl.UNKNOWN
        )
    kind = _KINDS.get(arn.split(":")[2] if arn.count(":") >= 2 else "", "destination")
    note = f"{what} sends log events to {kind} {arn}; its keys are not read"
    return Copy(region_of_arn(arn) or UNKNOWN_LOCATION, CopyRole.REPLICA, note=note, key_control=KeyControl.UNKNOWN)


# --- organization log centralization rules --------------------------------------------------------------
#
# CloudWatch Logs centralization rules of the organization: log groups copied to another account and region.
#
# A centralization rule (CloudWatch Observability Admin) copies the log events of the organization's log groups in its
# source Regions (`Source.Regions`), for the accounts its `Source.Scope` names and the groups its
# `SourceLogsConfiguration.LogGroupSelectionCriteria` selects, into `Destination.Account` in `Destination.Region`, and
# optionally into a backup Region (`DestinationLogsConfiguration.BackupConfiguration.Region`). Each is a copy of every
# log group it selects.
#
# Rules are read only by the organization's management account or a delegated administrator, so they are read once
# per `--org` scan, with the scanning account's credentials (ListCentralizationRulesForOrganization with AllRegions,
# then GetCentralizationRuleForOrganization per rule), and only once a log group is found: an empty organization costs
# nothing. Without `--org` they are not read (a member account cannot read them). A denied or failed read is one skip
# naming the permission. Scope and selection criteria are filter expressions; those this reader does not evaluate
# (anything but `*`, `AccountId = '…'` and `AccountId IN (…)` scopes) count as selecting the group, with a note:
# a copy too many, never one missed.
#
# Field names are those of botocore's `observabilityadmin` model (2018-05-10).

PERMISSIONS = "observabilityadmin:ListCentralizationRulesForOrganization and GetCentralizationRuleForOrganization"
_LOCK = threading.Lock()
_ACCOUNT_IS = re.compile(r"^\s*AccountId\s*=\s*'(\d{12})'\s*$", re.IGNORECASE)
_ACCOUNT_IN = re.compile(r"^\s*AccountId\s+IN\s*\(([^)]*)\)\s*$", re.IGNORECASE)


def centralized_copies(account: Account, region: str, group: str) -> tuple[list[Copy], Skip | None]:
    """The copies the organization's centralization rules make of log group `group` of `account` in `region`."""
    if not account.options.org:
        return [], None
    reader = account.caller
    memo = _memo(reader)
    try:
        rules: list[dict[str, Any]] = memo.get("rules")
    except Exception as exc:
        if not memo.first_failure("rules"):
            return [], None
        reason = (
            f"the organization's log centralization rules are unreadable (needs {PERMISSIONS}, from the management "
            f"or a delegated administrator account), so the copies they make are unknown: {describe_error(exc)}"
        )
        return [], Skip(Provider.AWS, reader.scope("log-centralization"), reason)
    copies: list[Copy] = []
    for rule in rules:
        copies.extend(_rule_copies(rule, account.id, region, group))
    return copies, None


def _memo(reader: Account) -> Memo:
    with _LOCK:
        memo: Memo | None = reader.__dict__.get("_log_centralization")
        if memo is None:
            memo = reader.__dict__["_log_centralization"] = Memo(lambda _: _read(reader))
        return memo


def _read(reader: Account) -> list[dict[str, Any]]:
    client = reader.client("observabilityadmin", reader.home_region)
    summaries: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"AllRegions": True, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        out = client.list_centralization_rules_for_organization(**kwargs)
        summaries.extend(out.get("CentralizationRuleSummaries", []))
        token = out.get("NextToken")
        if not token:
            break
    rules = []
    for summary in summaries:
        # a rule lives in the Region it was created in: it is read there
        regional = reader.client("observabilityadmin", summary.get("CreatedRegion") or reader.home_region)
        rule = regional.get_centralization_rule_for_organization(
            RuleIdentifier=summary.get("RuleArn") or summary["RuleName"]
        )
        rules.append(rule)
    return rules


def _rule_copies(rule: dict[str, Any], account_id: str, region: str, group: str) -> list[Copy]:
    body = rule.get("CentralizationRule") or {}
    source, dest = body.get("Source") or {}, body.get("Destination") or {}
    regions = source.get("Regions")
    if isinstance(regions, list) and region not in regions:
        return []
    caveats = []
    scope = str(source.get("Scope") or "*").strip()
    if scope != "*":
        one, several = _ACCOUNT_IS.match(scope), _ACCOUNT_IN.match(scope)
        if one or several:
            named = {one.group(1)} if one else {a.strip(" '\"") for a in several.group(1).split(",")}  # type: ignore[union-attr]
            if account_id not in named:
                return []
        else:
            caveats.append(f"scope {scope!r} not evaluated")
    criteria = str((source.get("SourceLogsConfiguration") or {}).get("LogGroupSelectionCriteria") or "*").strip()
    if criteria != "*":
        caveats.append(f"log group selection {criteria!r} not evaluated")
    logs = dest.get("DestinationLogsConfiguration") or {}
    what = f"organization log centralization rule {rule.get('RuleName', '?')} copies {group} to account "
    what += f"{dest.get('Account', '?')}"
    tail = f" ({'; '.join(caveats)}: counted as selecting it)" if caveats else ""
    encryption = logs.get("LogsEncryptionConfiguration") or {}
    key, how = _key(encryption.get("EncryptionStrategy"), encryption.get("KmsKeyArn"))
    out = [
        Copy(
            dest.get("Region") or UNKNOWN_LOCATION,
            CopyRole.REPLICA,
            note=f"{what} in {dest.get('Region', '?')}{tail}; {how}",
            key_control=key,
        )
    ]
    backup = logs.get("BackupConfiguration") or {}
    if backup.get("Region"):
        key, how = _key("CUSTOMER_MANAGED" if backup.get("KmsKeyArn") else None, backup.get("KmsKeyArn"))
        note = f"{what}'s backup Region {backup['Region']}{tail}; {how}"
        out.append(Copy(backup["Region"], CopyRole.REPLICA, note=note, key_control=key))
    return out


def _key(strategy: Any, key_arn: Any) -> tuple[KeyControl, str]:
    if strategy == "AWS_OWNED":
        return KeyControl.PROVIDER_MANAGED, "keys: AWS owned"
    if strategy == "CUSTOMER_MANAGED" and key_arn:
        # in the destination account: its origin (AWS KMS, imported, external) is not read, so the weaker level
        return KeyControl.CUSTOMER_MANAGED, f"keys: customer managed KMS key {key_arn} (origin not read)"
    return KeyControl.UNKNOWN, "keys: not stated by the rule (unknown)"


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_destination(ctx: Context, item: Item, what: str) -> Copy:
    arn = item.text("destination_arn")
    if arn is not None:
        return destination_copy(arn, what)
    for rtype in ("aws_kinesis_stream", "aws_kinesis_firehose_delivery_stream", "aws_lambda_function",
                  "aws_cloudwatch_log_destination"):  # fmt: skip
        targets = ctx.target(item, ("destination_arn",), rtype, ("arn",))
        regions = {ctx.aws_region(t)[0] for t in targets}
        if len(regions) == 1:
            where = regions.pop()
            note = f"{what} sends log events to {targets[0].address}; its keys are not read"
            return Copy(where, CopyRole.REPLICA, note=note, key_control=KeyControl.UNKNOWN)
    return unknown_copy(CopyRole.REPLICA, f"{what}: destination {AFTER_APPLY}")


def _plan_log_group(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    name = item.text("name")
    for sub in ctx.by_type.get("aws_cloudwatch_log_subscription_filter", []):
        groups = ctx.target(sub, ("log_group_name",), "aws_cloudwatch_log_group", ("name",))
        if item.address in {g.address for g in groups}:
            footprint.append(_plan_destination(ctx, sub, f"{sub.address}"))
    for policy in ctx.by_type.get("aws_cloudwatch_log_account_policy", []):
        if policy.text("policy_type") != "SUBSCRIPTION_FILTER_POLICY" or ctx.aws_region(policy)[0] not in (
            region,
            UNKNOWN_LOCATION,
        ):
            continue
        copy = _policy_copy(
            {"policyName": policy.address, "policyDocument": policy.text("policy_document"),
             "selectionCriteria": policy.text("selection_criteria")},
            name or "",
        )  # fmt: skip
        if copy is not None:
            footprint.append(copy)
    key = ctx.aws_key(item, ("kms_key_id",), DEFAULT_KEY)
    kind = ("log-group", GROUP_TYPE, "name")
    return ctx.resource(item, Provider.AWS, kind, dedupe_places(footprint), key, plan_tags(item, "tags_all", "tags"))


def _plan_subscription_filter(ctx: Context, item: Item) -> Resource:
    """A subscription filter on its own: the events of its log group (wherever that is managed) sent elsewhere.

    Reported as a resource of its own so a filter on a log group created outside this plan is assessed too; a
    group in the plan also counts the copy (a second finding on the same flow, never a missed one).
    """
    region, note = ctx.aws_region(item)
    group = item.text("log_group_name") or AFTER_APPLY
    footprint = [
        Copy(region, CopyRole.PRIMARY, note=f"log group {group}" + (f"; {note}" if note else "")),
        _plan_destination(ctx, item, item.address),
    ]
    groups = ctx.target(item, ("log_group_name",), "aws_cloudwatch_log_group", ("name",))
    if len(groups) == 1:
        key = ctx.aws_key(groups[0], ("kms_key_id",), DEFAULT_KEY)
    else:
        key = (KeyControl.UNKNOWN, f"the keys of log group {group} are not in the plan")
    kind = ("log-group", FILTER_TYPE, "name")
    return ctx.resource(item, Provider.AWS, kind, dedupe_places(footprint), key, {})


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {
    "aws_cloudwatch_log_group": _plan_log_group,
    "aws_cloudwatch_log_subscription_filter": _plan_subscription_filter,
}
