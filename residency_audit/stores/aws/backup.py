"""AWS Backup vaults: the vault's region, and every region a backup plan's copy actions send its recovery points to.

Often imposed org-wide by a backup policy, a copy action is the copy most likely to leave a region unnoticed: a
plan whose rule backs up into an EU vault can copy each recovery point to a vault in us-east-1. Field names are
those of botocore's `backup` service model (2018-11-15): ListBackupVaults `BackupVaultList[]` (`BackupVaultName`,
`BackupVaultArn`, `EncryptionKeyArn`, `EncryptionKeyType`), ListBackupPlans `BackupPlansList[].BackupPlanId`,
GetBackupPlan `BackupPlan.Rules[]` (`RuleName`, `TargetBackupVaultName`, `CopyActions[].DestinationBackupVaultArn`),
DescribeBackupVault (`EncryptionKeyArn`, `EncryptionKeyType`) of each copy action's destination vault: its keys are
the copy's.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ...clouds.aws import Account, describe_error, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, Memo, dedupe_places, region_of_arn
from .backup_policy import policy_copies, vault_copies

TAG_TYPE = "backup:backup-vault"  # the Resource Groups Tagging API's resource type filter

# --- live -----------------------------------------------------------------------------------------------------


def backup_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's backup vaults, each with the regions its plans' copy actions send recovery points to."""
    client = account.client("backup", region)
    vaults: list[dict[str, Any]] = []
    for page in client.get_paginator("list_backup_vaults").paginate():
        vaults.extend(page.get("BackupVaultList", []))
    if not vaults:
        return  # a rule backs up into a vault of its own region: with none here, no plan here copies anything
    copies: dict[str, list[Copy]] = {}
    # the account's own plans, and those an organization backup policy runs in it (read once per account)
    for rule_copies, skip in [*_plan_copies(account, region), policy_copies(account, region)]:
        if skip is not None:
            yield skip
        for vault_name, copy, dest in rule_copies:
            keyed, skips = _with_destination_keys(account, copy, dest)
            yield from skips
            copies.setdefault(vault_name, []).append(keyed)
    for vault in vaults:
        name, arn = vault["BackupVaultName"], vault["BackupVaultArn"]
        footprint = [Copy(region, CopyRole.PRIMARY), *copies.get(name, [])]
        if vault.get("NumberOfRecoveryPoints", 1):  # an empty vault holds nothing copied in: no request
            try:
                footprint.extend(_copied_in(client, name, region))
            except Exception as exc:
                reason = f"recovery points unreadable, so where they were copied from is unknown: {describe_error(exc)}"
                yield Skip(
                    Provider.AWS, account.scope("region", region, "service", "backup-vault", "vault", name), reason
                )
        if vault.get("EncryptionKeyType") == "AWS_OWNED_KMS_KEY":
            key = (KeyControl.PROVIDER_MANAGED, "encrypted with an AWS owned key")
        else:
            key = account.key_control(region, vault.get("EncryptionKeyArn"), None)
            yield from account.key_skips(region, vault.get("EncryptionKeyArn"))
        tags, skip = account.tags_for(region, TAG_TYPE, arn)
        if skip:
            yield skip
        yield resource(
            account, "backup-vault", "AWS::Backup::BackupVault", arn, name, dedupe_places(footprint), tags, key
        )


def _with_destination_keys(account: Account, copy: Copy, dest: str | None) -> tuple[Copy, list[Skip]]:
    """A copy action's copy under the keys of its destination vault (DescribeBackupVault, once per vault).

    A recovery point copied into another vault is re-encrypted with that vault's key, so the copy's key control is
    the destination vault's: read where it is in this account, unknown (never assumed) in another account.
    """
    parts = (dest or "").split(":")
    if len(parts) < 7 or parts[0] != "arn":
        return Copy(copy.code, copy.role, note=copy.note, key_control=KeyControl.UNKNOWN), []
    where, owner, name = parts[3], parts[4], parts[6]
    if owner != account.id:
        note = f"{copy.note}; its keys: vault in account {owner}, not read from this one (unknown)"
        return Copy(copy.code, copy.role, note=note, key_control=KeyControl.UNKNOWN), []
    skips: list[Skip] = []
    memo = _vault_memo(account)
    try:
        found = memo.get((where, name))
    except Exception as exc:
        if memo.first_failure((where, name)):
            reason = f"the keys of this copy-action destination are unknown: {describe_error(exc)}"
            scope = account.scope("region", where, "service", "backup-vault", "destination-vault", name)
            skips.append(Skip(Provider.AWS, scope, reason))
        found = {}
    if found.get("EncryptionKeyType") == "AWS_OWNED_KMS_KEY":
        key = (KeyControl.PROVIDER_MANAGED, "an AWS owned key")
    elif found:
        key = account.key_control(where, found.get("EncryptionKeyArn"), None)
        skips.extend(account.key_skips(where, found.get("EncryptionKeyArn")))
    else:
        key = (KeyControl.UNKNOWN, "destination vault unreadable")
    return Copy(copy.code, copy.role, note=f"{copy.note}; its keys: {key[1]}", key_control=key[0]), skips


_MEMO_LOCK = threading.Lock()


def _vault_memo(account: Account) -> Memo:
    """(region, vault name) → DescribeBackupVault, shared by every region's task of the account: one request a vault."""
    with _MEMO_LOCK:
        memo: Memo | None = account.__dict__.get("_backup_vaults")
        if memo is None:
            memo = account.__dict__["_backup_vaults"] = Memo(functools.partial(_describe_vault, account))
        return memo


def _describe_vault(account: Account, arg: tuple[str, str]) -> dict[str, Any]:
    region, name = arg
    out: dict[str, Any] = account.client("backup", region).describe_backup_vault(BackupVaultName=name)
    return out


def _copied_in(client: Any, vault: str, region: str) -> list[Copy]:
    """A copy in each region the vault's recovery points were copied in from: the same data is in the source vault.

    ListRecoveryPointsByBackupVault `RecoveryPoints[].SourceBackupVaultArn` (botocore backup model).
    """
    sources: dict[str, Copy] = {}
    for page in client.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName=vault):
        for point in page.get("RecoveryPoints", []):
            source = point.get("SourceBackupVaultArn")
            if source and source not in sources and region_of_arn(source) != region:
                note = f"recovery points copied in from {source}"
                sources[source] = Copy(region_of_arn(source) or UNKNOWN_LOCATION, CopyRole.REPLICA, note=note)
    return list(sources.values())


def _plan_copies(account: Account, region: str) -> Iterator[tuple[list[tuple[str, Copy, str | None]], Skip | None]]:
    """Per backup plan: (target vault name, copy, destination ARN) per copy action, or a skip naming the plan."""
    client = account.client("backup", region)
    scope = ("region", region, "service", "backup-vault")
    try:
        plans = [p for page in client.get_paginator("list_backup_plans").paginate() for p in page["BackupPlansList"]]
    except Exception as exc:
        reason = f"backup plans unreadable, so the copies their copy actions make are unknown: {describe_error(exc)}"
        yield [], Skip(Provider.AWS, account.scope(*scope, "plans"), reason)
        return
    for plan in plans:
        plan_id = plan.get("BackupPlanId", "?")
        try:
            doc = client.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]
        except Exception as exc:
            reason = f"copy actions of this backup plan unknown: {describe_error(exc)}"
            yield [], Skip(Provider.AWS, account.scope(*scope, "plan", plan_id), reason)
            continue
        found: list[tuple[str, Copy, str | None]] = []
        for rule in doc.get("Rules", []):
            for action in rule.get("CopyActions", []):
                dest = action.get("DestinationBackupVaultArn")
                note = (
                    f"backup plan {doc.get('BackupPlanName', plan_id)} rule {rule.get('RuleName', '?')} "
                    f"copies recovery points to {dest}"
                )
                where = region_of_arn(dest) or UNKNOWN_LOCATION
                found.append((rule.get("TargetBackupVaultName", ""), Copy(where, CopyRole.REPLICA, note=note), dest))
        yield found, None


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_backup_vault(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    for plan in ctx.by_type.get("aws_backup_plan", []):
        for i, rule in enumerate(plan.blocks("rule")):
            targets = ctx.target(plan, ("rule", i, "target_vault_name"), "aws_backup_vault", ("name",))
            if item.address not in {t.address for t in targets}:
                continue
            what = f"{plan.address} rule {rule.get('rule_name') or i} copies recovery points"
            if plan.is_unknown("rule", i, "copy_action"):
                footprint.append(unknown_copy(CopyRole.REPLICA, f"{what}: copy actions {AFTER_APPLY}"))
            for j, _ in enumerate(plan.blocks("rule", i, "copy_action")):
                path = ("rule", i, "copy_action", j, "destination_vault_arn")
                footprint.append(_plan_destination(ctx, plan, path, what))
    footprint.extend(vault_copies(ctx, item, region))  # the organization backup policies this plan creates
    key = ctx.aws_key(item, ("kms_key_arn",), "encrypted with the AWS managed key aws/backup")
    return ctx.resource(
        item,
        Provider.AWS,
        ("backup-vault", "AWS::Backup::BackupVault", "name"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags_all", "tags"),
    )


def _plan_destination(ctx: Context, plan: Item, path: tuple[str | int, ...], what: str) -> Copy:
    targets = ctx.target(plan, path, "aws_backup_vault", ("arn",))
    regions = {ctx.aws_region(t)[0] for t in targets}
    if len(regions) == 1:
        return Copy(regions.pop(), CopyRole.REPLICA, note=f"{what} to {' or '.join(t.address for t in targets)}")
    arn = plan.text(*path)
    if arn is not None and region_of_arn(arn):
        return Copy(str(region_of_arn(arn)), CopyRole.REPLICA, note=f"{what} to {arn}")
    if targets:
        return unknown_copy(CopyRole.REPLICA, f"{what} to {' or '.join(t.address for t in targets)}: several regions")
    return unknown_copy(CopyRole.REPLICA, f"{what}: destination vault {AFTER_APPLY}")


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_backup_vault": _plan_backup_vault}
