"""Organization backup policies: the copy actions an AWS Organizations backup policy imposes on accounts' vaults.

A backup policy attached to the organization's root, an OU or an account makes AWS Backup run its plans in the
account, in the policy's `regions`, backing up into the vault its rules name (`target_backup_vault_name`) and copying
each recovery point to its `copy_actions` (keyed by, and naming in `target_backup_vault_arn`, the destination vault;
`$account` stands for the account, `$region` for the region the plan runs in). Those copies are copies of that
vault's recovery points, so they join the footprint of the vault of that name in each of the plan's regions, as a
local backup plan's copy actions do (backup.py).

Live: DescribeEffectivePolicy (PolicyType BACKUP_POLICY, no TargetId), the account's own effective policy, the
inheritance of root, OUs and account already resolved by Organizations. It can be called from any account in the
organization, so each account scanned (the caller, or a member entered with --role-name) reads its own: no
management or delegated-admin account is needed, and there is no inheritance for this tool to get wrong. One request
per account that has a backup vault, none per region. An account outside any organization, or with no backup policy,
has none; a denied or failed read is one skip naming the permission, `organizations:DescribeEffectivePolicy`.

Plan: `aws_organizations_policy` with `type = "BACKUP_POLICY"`; its `content` is the policy as written. Its copy
actions join the plan's `aws_backup_vault`s of the named vault in the policy's regions. What no planned vault covers
(a vault outside this plan, in any account the policy is attached to) is the policy's own resource: the regions it
backs up in, and its destinations. The policy is counted wherever it may be attached: a plan cannot tell which
accounts an attachment (or one made outside this configuration) reaches, and reporting a copy that may not be made
is safer than missing one that is. Content known only after apply is an unknown copy, never a guess.

Syntax: the AWS Organizations User Guide, "Backup policy syntax and examples": value operators (`@@assign`,
`@@append`) around each value, and child control operators (`@@operators_allowed_for_child_policies`) as keys beside
plan, rule and copy-action names.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...clouds.aws import Account, describe_error, error_code
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, Memo, dedupe_places, region_of_arn

PERMISSION = "organizations:DescribeEffectivePolicy"
# an account with no policy of this type, or outside any organization: nothing is imposed
_NONE = {"EffectivePolicyNotFoundException", "AWSOrganizationsNotInUseException"}
_LOCK = threading.Lock()
PolicyCopy = tuple[str, Copy, str | None]  # (the vault the rule backs up into, the copy, the destination vault's ARN)


@dataclass(frozen=True)
class PolicyRule:
    """One rule of a backup policy's plan: the vault it backs up into, where it runs, where it copies to."""

    plan: str
    rule: str
    vault: str  # target_backup_vault_name
    regions: tuple[str, ...] | None  # None: not understood (a removal, or not a list of names): every region
    destinations: tuple[str, ...]  # each copy action's target_backup_vault_arn


def _value(node: Any) -> Any:
    """A policy value without its operator: {"@@assign": X} → X (a written policy, and an effective one, keep them)."""
    if isinstance(node, Mapping):
        for op in ("@@assign", "@@append"):
            if op in node:
                return node[op]
    return node


def _named(node: Any, what: str) -> list[tuple[str, Any]]:
    """The named children of a map of plans, rules or copy actions, without the child control operators."""
    node = _value(node)
    if node is None:
        return []
    if not isinstance(node, Mapping):
        raise ValueError(f"{what} is not an object")
    return [(str(k), v) for k, v in node.items() if not str(k).startswith("@@")]


def policy_rules(doc: Any) -> list[PolicyRule]:
    """The rules of a backup policy document that have copy actions; ValueError where its shape is not one."""
    if not isinstance(doc, Mapping):
        raise ValueError("the policy is not a JSON object")
    found: list[PolicyRule] = []
    for plan_name, plan in _named(doc.get("plans"), "plans"):
        if not isinstance(plan, Mapping):
            raise ValueError(f"plan {plan_name} is not an object")
        regions = _value(plan.get("regions"))
        understood = isinstance(regions, list) and all(isinstance(r, str) for r in regions)
        for rule_name, rule in _named(plan.get("rules"), f"plan {plan_name} rules"):
            if not isinstance(rule, Mapping):
                raise ValueError(f"rule {rule_name} is not an object")
            dests = []
            for key, action in _named(rule.get("copy_actions"), f"rule {rule_name} copy_actions"):
                dest = _value(action.get("target_backup_vault_arn")) if isinstance(action, Mapping) else None
                dests.append(dest if isinstance(dest, str) and dest else key)
            vault = _value(rule.get("target_backup_vault_name"))
            if dests and not isinstance(vault, str):
                raise ValueError(f"rule {rule_name} names no target_backup_vault_name")
            if dests:
                where = tuple(regions) if understood else None
                found.append(PolicyRule(plan_name, rule_name, str(vault), where, tuple(dests)))
    return found


def _destination(dest: str, account_id: str | None, region: str) -> tuple[str, str]:
    """A copy action's destination ARN with its placeholders filled where known, and the region it names."""
    if account_id is not None:
        dest = dest.replace("$account", account_id)
    where = region_of_arn(dest)
    if where == "$region":  # the region the plan runs in
        where = region
        dest = dest.replace("$region", region) if region != UNKNOWN_LOCATION else dest
    return dest, where or UNKNOWN_LOCATION


# --- live -----------------------------------------------------------------------------------------------------


def policy_copies(account: Account, region: str) -> tuple[list[PolicyCopy], Skip | None]:
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
        return _copies(policy_rules(json.loads(content)), account.id, region), None
    except (ValueError, RecursionError) as exc:
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


def _copies(rules: list[PolicyRule], account_id: str, region: str) -> list[PolicyCopy]:
    found: list[PolicyCopy] = []
    for rule in rules:
        if rule.regions is not None and region not in rule.regions:
            continue
        for raw in rule.destinations:
            dest, where = _destination(raw, account_id, region)
            note = f"organization backup policy plan {rule.plan} rule {rule.rule} copies recovery points to {dest}"
            if rule.regions is None:
                note += " (the plan's regions were not understood: counted in every region)"
            found.append((rule.vault, Copy(where, CopyRole.REPLICA, note=note), dest))
    return found


# --- the Terraform plan reader --------------------------------------------------------------------------------

_VAULT_KEY = "encrypted with the AWS managed key aws/backup"


@functools.lru_cache(maxsize=64)
def _parsed(content: str) -> tuple[PolicyRule, ...] | str:
    """A policy's rules with copy actions, or why they are unreadable (one parse per content, however many vaults)."""
    try:
        return tuple(policy_rules(json.loads(content)))
    except (ValueError, RecursionError) as exc:
        return f"its content could not be understood as a backup policy ({exc})"


def _rules(policy: Item) -> tuple[PolicyRule, ...] | str | None:
    """A planned policy's rules; why they are unknown (a string); None for a policy of another type."""
    kind = policy.get("type")
    if kind is None and policy.is_unknown("type"):
        return f"its type is {AFTER_APPLY} (it may be a backup policy)"
    if kind is not None and not isinstance(kind, str):
        return "its type is not a string (it may be a backup policy)"
    if kind != "BACKUP_POLICY":
        return None  # a service control, tag, AI opt-out … policy (unset: SERVICE_CONTROL_POLICY) copies nothing
    content = policy.text("content")
    if content is None:
        return f"its content is {AFTER_APPLY}" if policy.is_unknown("content") else "it has no content"
    return _parsed(content)


def vault_copies(ctx: Context, vault: Item, region: str) -> list[Copy]:
    """The copies the plan's organization backup policies make of a planned vault's recovery points."""
    name = vault.text("name")
    out: list[Copy] = []
    for policy in ctx.by_type.get("aws_organizations_policy", []):
        rules = _rules(policy)
        if isinstance(rules, str):
            why = f"organization backup policy {policy.address}: {rules}, so whether it copies this vault's"
            out.append(unknown_copy(CopyRole.REPLICA, f"{why} recovery points, and where, is unknown"))
            continue
        for rule in rules or ():
            if rule.vault != name or not (rule.regions is None or region in (*rule.regions, UNKNOWN_LOCATION)):
                continue
            for raw in rule.destinations:
                out.append(_copy(ctx, policy, rule, raw, region))
    return out


def _copy(ctx: Context, policy: Item, rule: PolicyRule, raw: str, region: str) -> Copy:
    dest, where = _destination(raw, None, region)
    note = f"organization backup policy {policy.address} plan {rule.plan} rule {rule.rule}"
    note += f" copies recovery points to {dest}"
    if rule.regions is None:
        note += " (the plan's regions were not understood: counted in every region)"
    level, key_note = _destination_key(ctx, dest, where)
    return Copy(where, CopyRole.REPLICA, note=f"{note}; its keys: {key_note}", key_control=level)


def _destination_key(ctx: Context, dest: str, where: str) -> tuple[KeyControl, str]:
    """The destination vault's keys where the plan holds it, else unknown: never assumed.

    A planned vault is the destination only when the ARN says "the same account" (`$account`) and the name and region
    match: a plan does not say which account it deploys to, so an account number cannot be matched to it.
    """
    parts = dest.split(":")
    same_account = len(parts) > 6 and parts[0] == "arn" and parts[4] == "$account"
    name = parts[6] if same_account else ""
    vaults = [v for v in ctx.with_value("aws_backup_vault", "name", name) if ctx.aws_region(v)[0] == where]
    if where == UNKNOWN_LOCATION or len(vaults) != 1:
        return KeyControl.UNKNOWN, "the destination vault is not one of this plan's (unknown)"
    return ctx.aws_key(vaults[0], ("kms_key_arn",), _VAULT_KEY)


OTHER_TYPE = "an Organizations policy of another type than BACKUP_POLICY: it copies no data"
COVERED = "an organization backup policy whose every copy action is counted with the planned vaults it backs up into"


def _plan_policy(ctx: Context, item: Item) -> Resource | str:
    """A backup policy's copies that no planned vault carries: the regions it backs up in, and its destinations.

    Why it is no resource of its own (a string) for a policy of another type, and for one whose every rule and region
    backs up into a vault of this plan (its copies are those vaults').
    """
    rules = _rules(item)
    if rules is None:
        return OTHER_TYPE
    footprint: list[Copy] = []
    if isinstance(rules, str):
        why = f"organization backup policy {item.address}: {rules}"
        footprint = [unknown_copy(CopyRole.PRIMARY, f"{why}: where it backs up is unknown")]
        footprint.append(unknown_copy(CopyRole.REPLICA, f"{why}: where it copies to is unknown"))
    for rule in rules if not isinstance(rules, str) else ():
        planned = {ctx.aws_region(v)[0] for v in ctx.with_value("aws_backup_vault", "name", rule.vault)}
        what = f"plan {rule.plan} rule {rule.rule} backs up into vault {rule.vault}"
        if rule.regions is None:
            if planned:
                continue  # its copies are on those vaults, counted in every region
            where_from = [unknown_copy(CopyRole.PRIMARY, f"{what}: the plan's regions were not understood")]
        else:
            where_from = [
                Copy(r, CopyRole.PRIMARY, note=f"{what} in {r} of every account the policy is attached to")
                for r in rule.regions
                if r not in planned
            ]
        for source in where_from:
            footprint.append(source)
            for raw in rule.destinations:
                dest, where = _destination(raw, None, source.code)
                # in every other account the policy reaches: whose vault, and so whose keys, a plan cannot say
                note = f"{what}: its copy action copies recovery points to {dest}; its keys: unknown"
                footprint.append(Copy(where, CopyRole.REPLICA, note=note, key_control=KeyControl.UNKNOWN))
    if not footprint:
        return COVERED
    key = (KeyControl.UNKNOWN, "the vaults this policy backs up into are not in this plan: their keys are unknown")
    return ctx.resource(
        item,
        Provider.AWS,
        ("backup-vault", "aws_organizations_policy", "name"),
        _primaries_first(dedupe_places(footprint)),
        key,
        plan_tags(item, "tags_all", "tags"),
    )


def _primaries_first(footprint: list[Copy]) -> list[Copy]:
    return sorted(footprint, key=lambda c: c.role is not CopyRole.PRIMARY)  # stable: each group keeps its order


PLAN: dict[str, Callable[[Context, Item], Resource]] = {}
# Terraform resource types this module's plan reader evaluates; an instance that is no store of its own gets a reason
PLAN_OR_REASON: dict[str, Callable[[Context, Item], Resource | str]] = {"aws_organizations_policy": _plan_policy}
