"""ECR repositories: the repository's region and every region the registry's replication rules copy its images to.

Replication is a registry setting (one per account and region), so it is read once per region and matched to each
repository by the rules' prefix filters. Field names are those of botocore's `ecr` model (2015-09-21):
DescribeRepositories `repositories[]` (`repositoryArn`, `repositoryName`, `encryptionConfiguration.encryptionType`,
`encryptionConfiguration.kmsKey`), DescribeRegistry `replicationConfiguration.rules[]` (`destinations[].region`,
`destinations[].registryId`, `repositoryFilters[].filter`, `repositoryFilters[].filterType`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ...clouds.aws import Account, describe_error, resource
from ...model import Copy, CopyRole, KeyControl, Provider, Resource, Skip
from ...plan.context import AFTER_APPLY, Context, Item, plan_tags, unknown_copy
from ..common import UNKNOWN_LOCATION, dedupe_places

TAG_TYPE = "ecr:repository"  # the Resource Groups Tagging API's resource type filter
DEFAULT_KEY = "encrypted with the AWS managed key aws/ecr"
# Replication copies images, not repository settings: the destination repository's encryption is whatever the
# destination registry gives it (an existing repository's own setting, a repository creation template applied for
# REPLICATION, else AES256), in another region or account. Not read here, so a replica's key control is unknown.
REPLICA_KEYS = "the replica repository's keys are set by the destination registry and not read (unknown)"

# --- live -----------------------------------------------------------------------------------------------------


def ecr_list(account: Account, region: str) -> Iterator[Resource | Skip]:
    """The region's repositories, each with the regions the registry replicates it to."""
    ecr = account.client("ecr", region)
    repos: list[dict[str, Any]] = []
    for page in ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 1000}):
        repos.extend(page.get("repositories", []))
    if not repos:
        return  # replication copies repositories: with none here, the registry's rules copy nothing
    try:
        rules = ecr.describe_registry().get("replicationConfiguration", {}).get("rules", [])
    except Exception as exc:
        reason = f"replication rules unknown, so the regions images are copied to are unknown: {describe_error(exc)}"
        yield Skip(Provider.AWS, account.scope("region", region, "service", "ecr-repository", "registry"), reason)
        rules = []
    for repo in repos:
        name, arn = repo["repositoryName"], repo["repositoryArn"]
        footprint = [Copy(region, CopyRole.PRIMARY), *_replicas(account.id, name, rules)]
        enc = repo.get("encryptionConfiguration") or {}
        kind = enc.get("encryptionType", "AES256")
        if kind == "AES256":
            key = (KeyControl.PROVIDER_MANAGED, "AES256 (ECR managed keys)")
        else:
            key = account.key_control(region, enc.get("kmsKey"), f"{kind} with the AWS managed key aws/ecr")
            yield from account.key_skips(region, enc.get("kmsKey"))
        tags, skip = account.tags_for(region, TAG_TYPE, arn)
        if skip:
            yield skip
        footprint = dedupe_places(footprint)
        yield resource(account, "ecr-repository", "AWS::ECR::Repository", arn, name, footprint, tags, key)


def _replicas(account_id: str, name: str, rules: Sequence[Mapping[str, Any]]) -> list[Copy]:
    copies = []
    for i, rule in enumerate(rules):
        match = _matches(name, rule.get("repositoryFilters") or [])
        if match is None:
            continue
        for dest in rule.get("destinations", []):
            registry = dest.get("registryId")
            whose = "this account's registry" if registry in (None, account_id) else f"registry {registry}"
            note = f"replication rule {i} copies images to {whose} in {dest.get('region', '?')}{match}; {REPLICA_KEYS}"
            where = dest.get("region") or UNKNOWN_LOCATION
            copies.append(Copy(where, CopyRole.REPLICA, note=note, key_control=KeyControl.UNKNOWN))
    return copies


def _matches(name: str, filters: Sequence[Mapping[str, Any]]) -> str | None:
    """None if the rule's filters exclude the repository; else a note ("" or why it is counted)."""
    if not filters:
        return ""  # a rule without filters replicates every repository
    for f in filters:
        kind, prefix = f.get("filterType"), f.get("filter", "")
        if kind == "PREFIX_MATCH" and name.startswith(prefix):
            return f" (prefix {prefix!r})"
        if kind != "PREFIX_MATCH":  # a filter type this reader does not know may match: counted, never dropped
            return f" (filter type {kind!r} not understood: counted as matching)"
    return None


# --- the Terraform plan reader --------------------------------------------------------------------------------


def _plan_repository(ctx: Context, item: Item) -> Resource:
    region, note = ctx.aws_region(item)
    footprint = [Copy(region, CopyRole.PRIMARY, note=note)]
    name = item.text("name")
    for config in ctx.by_type.get("aws_ecr_replication_configuration", []):
        config_region, _ = ctx.aws_region(config)
        if config_region not in (region, UNKNOWN_LOCATION):
            continue  # another region's registry
        where = config.address + ("" if config_region == region else f" (region {AFTER_APPLY})")
        if config.is_unknown("replication_configuration"):
            footprint.append(unknown_copy(CopyRole.REPLICA, f"{where}: rules {AFTER_APPLY}"))
        for rule in [r for c in config.blocks("replication_configuration") for r in _blocks(c, "rule")]:
            filters = [
                {"filter": f.get("filter"), "filterType": f.get("filter_type")}
                for f in _blocks(rule, "repository_filter")
            ]
            match = _matches(name, filters) if name is not None else " (repository name " + AFTER_APPLY + ")"
            if match is None:
                continue
            for dest in _blocks(rule, "destination"):
                dest_region = dest.get("region")
                if isinstance(dest_region, str) and dest_region:
                    note = f"{where} replicates images{match}; {REPLICA_KEYS}"
                    footprint.append(Copy(dest_region, CopyRole.REPLICA, note=note, key_control=KeyControl.UNKNOWN))
                else:
                    footprint.append(unknown_copy(CopyRole.REPLICA, f"{where}: destination region {AFTER_APPLY}"))
    enc = item.blocks("encryption_configuration")
    kind = enc[0].get("encryption_type") if enc else "AES256"
    if kind in ("KMS", "KMS_DSSE"):
        key = ctx.aws_key(item, ("encryption_configuration", 0, "kms_key"), f"{kind} with the AWS managed key aws/ecr")
    elif kind == "AES256" or kind is None:
        key = (KeyControl.PROVIDER_MANAGED, "AES256 (ECR managed keys)")
    else:
        key = (KeyControl.UNKNOWN, f"unrecognised encryption type {kind!r}")
    return ctx.resource(
        item,
        Provider.AWS,
        ("ecr-repository", "AWS::ECR::Repository", "name"),
        dedupe_places(footprint),
        key,
        plan_tags(item, "tags_all", "tags"),
    )


def _blocks(node: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = node.get(key)
    if isinstance(value, dict):
        return [value]
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


# Terraform resource types this module's plan reader evaluates
PLAN: dict[str, Callable[[Context, Item], Resource]] = {"aws_ecr_repository": _plan_repository}
