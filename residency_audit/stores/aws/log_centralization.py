"""CloudWatch Logs centralization rules of the organization: log groups copied to another account and region.

A centralization rule (CloudWatch Observability Admin) copies the log events of the organization's log groups in its
source Regions (`Source.Regions`), for the accounts its `Source.Scope` names and the groups its
`SourceLogsConfiguration.LogGroupSelectionCriteria` selects, into `Destination.Account` in `Destination.Region`, and
optionally into a backup Region (`DestinationLogsConfiguration.BackupConfiguration.Region`). Each is a copy of every
log group it selects.

Rules are read only by the organization's management account or a delegated administrator, so they are read once
per `--org` scan, with the scanning account's credentials (ListCentralizationRulesForOrganization with AllRegions,
then GetCentralizationRuleForOrganization per rule), and only once a log group is found: an empty organization costs
nothing. Without `--org` they are not read (a member account cannot read them). A denied or failed read is one skip
naming the permission. Scope and selection criteria are filter expressions; those this reader does not evaluate
(anything but `*`, `AccountId = '…'` and `AccountId IN (…)` scopes) count as selecting the group, with a note:
a copy too many, never one missed.

Field names are those of botocore's `observabilityadmin` model (2018-05-10).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ...clouds.aws import Account, describe_error
from ...model import Copy, CopyRole, KeyControl, Provider, Skip
from ..common import UNKNOWN_LOCATION, Memo

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
