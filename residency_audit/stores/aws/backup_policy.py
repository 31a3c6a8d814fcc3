"""Organization-wide backup policies: the copy actions an AWS Organizations backup policy imposes on an account.

A backup policy attached to the organization's root, an OU or the account makes AWS Backup run its plans in the
account, in the policy's `regions`, backing up into the vault its rules name (`target_backup_vault_name`) and copying
each recovery point to its `copy_actions` (keyed by, and naming in `target_backup_vault_arn`, the destination vault;
`$account` stands for the account). Those copies are copies of that vault's recovery points, so they join the
footprint of the vault of that name in each of the plan's regions, as a local backup plan's copy actions do.

Read with DescribeEffectivePolicy (PolicyType BACKUP_POLICY, no TargetId): the account's own effective policy, the
inheritance of root, OUs and account already resolved by Organizations. It can be called from any account in the
organization, so each account scanned (the caller, or a member entered with --role-name) reads its own: no
management or delegated-admin account is needed, and there is no inheritance for this tool to get wrong (ListPolicies
and DescribePolicy from the management account would leave it to). One request per account that has a backup vault,
none per region. An account outside any organization, or with no backup policy, has none; a denied or failed read is
one skip naming the permission, `organizations:DescribeEffectivePolicy`.

Policy syntax: the AWS Organizations User Guide, "Backup policy syntax and examples" (value operators `@@assign`
and friends around each value; the effective policy keeps them).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from ...clouds.aws import Account, describe_error, error_code
from ...model import Copy, CopyRole, Provider, Skip
from ..common import UNKNOWN_LOCATION, Memo, region_of_arn

PERMISSION = "organizations:DescribeEffectivePolicy"
# an account with no policy of this type, or outside any organization: nothing is imposed
_NONE = {"EffectivePolicyNotFoundException", "AWSOrganizationsNotInUseException"}
_LOCK = threading.Lock()


def policy_copies(account: Account, region: str) -> tuple[list[tuple[str, Copy, str | None]], Skip | None]:
    """Each copy action the account's effective backup policy runs in `region`: (vault name, copy, destination ARN).

    A skip (once per account) where the policy cannot be read or understood.
    """
    memo = _memo(account)
    try:
        content: str | None = memo.get(account.id)
    except Exception as exc:
        if not memo.first_failure(account.id):
            return [], None
        reason = (
            f"the organization's backup policy for this account is unreadable (needs {PERMISSION}), so the copies "
            f"its copy actions make are unknown: {describe_error(exc)}"
        )
        return [], Skip(Provider.AWS, account.scope("backup-policy"), reason)
    if content is None:
        return [], None
    try:
        return _copies(json.loads(content), account.id, region), None
    except (ValueError, TypeError, AttributeError) as exc:
        if not memo.first_failure(account.id):
            return [], None
        reason = f"the organization's backup policy for this account could not be understood ({exc}): copies unknown"
        return [], Skip(Provider.AWS, account.scope("backup-policy"), reason)


def _memo(account: Account) -> Memo:
    with _LOCK:
        memo: Memo | None = account.__dict__.get("_backup_policy")
        if memo is None:
            memo = account.__dict__["_backup_policy"] = Memo(lambda _: _effective(account))
        return memo


def _effective(account: Account) -> str | None:
    org = account.client("organizations", account.home_region)
    try:
        out = org.describe_effective_policy(PolicyType="BACKUP_POLICY")
    except Exception as exc:
        if error_code(exc) in _NONE:
            return None
        raise
    content = out.get("EffectivePolicy", {}).get("PolicyContent")
    return content if isinstance(content, str) else None


def _value(node: Any) -> Any:
    """A policy value without its operator: {"@@assign": X} → X (the effective policy keeps the operators)."""
    if isinstance(node, Mapping):
        for op in ("@@assign", "@@append", "@@remove"):
            if op in node:
                return node[op]
    return node


def _copies(doc: Mapping[str, Any], account_id: str, region: str) -> list[tuple[str, Copy, str | None]]:
    found: list[tuple[str, Copy, str | None]] = []
    for plan_name, plan in (_value(doc.get("plans")) or {}).items():
        regions = _value(plan.get("regions"))
        understood = isinstance(regions, list)
        if understood and region not in regions:
            continue
        for rule_name, rule in (_value(plan.get("rules")) or {}).items():
            vault = _value(rule.get("target_backup_vault_name"))
            for key, action in (_value(rule.get("copy_actions")) or {}).items():
                dest = _value(action.get("target_backup_vault_arn")) if isinstance(action, Mapping) else None
                dest = str(dest or key).replace("$account", account_id)
                note = f"organization backup policy plan {plan_name} rule {rule_name} copies recovery points to {dest}"
                if not understood:
                    note += " (the plan's regions were not understood: counted in every region)"
                where = region_of_arn(dest) or UNKNOWN_LOCATION
                found.append((str(vault or ""), Copy(where, CopyRole.REPLICA, note=note), dest))
    return found
