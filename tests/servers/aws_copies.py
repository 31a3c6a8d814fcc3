"""What moto 5.2 lacks for AMIs and CloudWatch Logs, added to its answers at the HTTP level (hooked into aws_edits.py).

* DescribeImages (EC2 query protocol, XML): moto keeps neither a copied image's source (`SourceImageId`,
  `SourceImageRegion`) nor its snapshots' encryption (`Ebs.Encrypted`, `Ebs.KmsKeyId`, `Ebs.OutpostArn`); the
  declared fields are added to moto's own answer, each under the element name botocore's ec2 model gives it.
* DescribeSubscriptionFilters (JSON): moto only accepts a destination that exists in the log group's own region, so a
  filter sending to another region (the case that matters) cannot be created there; declared filters are appended
  to moto's answer.
* DescribeAccountPolicies (JSON): not in moto; answered from the declared policies, paged by `nextToken`.
* CloudWatch Observability Admin List/GetCentralizationRuleForOrganization (REST-JSON): not in moto; the declared
  rules (the Get answer's shape), each in the Region it was created in.
* Organizations DescribeEffectivePolicy (JSON): not in moto; the declared effective BACKUP_POLICY of the calling
  account (its access key, as moto maps it), else `EffectivePolicyNotFoundException` as real Organizations answers.

Seeding helpers write through boto3 straight to moto and declare what moto cannot hold.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from .aws_wire import error, ok

if TYPE_CHECKING:
    import boto3

_Response = tuple[int, str, list[tuple[str, str]], bytes]


@dataclass
class CopiesState:
    """Declared state: (region, image id) → extra Image fields; per log group, filters; per region, account policies."""

    images: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    filters: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    account_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: account → the content (a policy document) of its effective backup policy
    backup_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: GetCentralizationRuleForOrganization answers, each with its CreatedRegion
    centralization_rules: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.centralization_rules.clear()
        self.backup_policies.clear()
        self.images.clear()
        self.filters.clear()
        self.account_policies.clear()


def forward(
    state: CopiesState, service: str | None, region: str, action: str | None, body: bytes,
    upstream: Callable[[], _Response], authorization: str = "",
) -> _Response | None:  # fmt: skip
    """The answer for a call this module completes, or None for any other call."""
    if service == "observabilityadmin" and action in ("ListCentralizationRulesForOrganization",
                                                       "GetCentralizationRuleForOrganization"):  # fmt: skip
        return _centralization(state, region, action, json.loads(body or b"{}"))
    if service == "organizations" and action == "DescribeEffectivePolicy":
        return _effective_policy(state, json.loads(body or b"{}"), authorization)
    if service == "logs" and action == "DescribeAccountPolicies":
        return _account_policies(state, region, json.loads(body or b"{}"))
    if service == "logs" and action == "DescribeSubscriptionFilters":
        resp = upstream()
        if resp[0] != 200:
            return resp
        group = json.loads(body or b"{}").get("logGroupName", "")
        doc = json.loads(resp[3])
        doc.setdefault("subscriptionFilters", []).extend(state.filters.get((region, group), []))
        return ok("logs", doc)
    if service == "ec2" and action == "DescribeImages":
        resp = upstream()
        return _add_image_fields(state, region, resp) if resp[0] == 200 else resp
    return None


def _account_policies(state: CopiesState, region: str, params: dict[str, Any]) -> _Response:
    kind = params.get("policyType")
    if not kind:
        return error("logs", 400, "InvalidParameterException", "policyType is required")
    rows = [p for p in state.account_policies.get(region, []) if p["policyType"] == kind]
    start = int(params.get("nextToken") or 0)
    out: dict[str, Any] = {"accountPolicies": rows[start : start + 1]}  # one per page: the client must follow tokens
    if start + 1 < len(rows):
        out["nextToken"] = str(start + 1)
    return ok("logs", out)


_SUMMARY = ("RuleName", "RuleArn", "CreatorAccountId", "CreatedTimeStamp", "CreatedRegion", "LastUpdateTimeStamp",
            "RuleHealth")  # fmt: skip


def _centralization(state: CopiesState, region: str, action: str, params: dict[str, Any]) -> _Response:
    rules = state.centralization_rules
    if action == "GetCentralizationRuleForOrganization":
        wanted = params.get("RuleIdentifier")
        for rule in rules:
            if wanted in (rule["RuleName"], rule["RuleArn"]) and rule["CreatedRegion"] == region:
                return ok("observabilityadmin", rule)
        return error("observabilityadmin", 404, "ResourceNotFoundException", f"no rule {wanted} in {region}")
    here = [r for r in rules if params.get("AllRegions") or r["CreatedRegion"] == region]
    summaries = [{k: r[k] for k in _SUMMARY if k in r} | {"DestinationAccountId": r["CentralizationRule"][
        "Destination"].get("Account"), "DestinationRegion": r["CentralizationRule"]["Destination"].get("Region")}
        for r in here]  # fmt: skip
    start = int(params.get("NextToken") or 0)
    out: dict[str, Any] = {"CentralizationRuleSummaries": summaries[start : start + 1]}  # one a page: follow tokens
    if start + 1 < len(summaries):
        out["NextToken"] = str(start + 1)
    return ok("observabilityadmin", out)


def _effective_policy(state: CopiesState, params: dict[str, Any], authorization: str) -> _Response:
    from moto.iam.models import get_account_id_from

    if params.get("PolicyType") != "BACKUP_POLICY":
        return error("organizations", 400, "InvalidInputException", "only BACKUP_POLICY is declared here")
    key = authorization.split("Credential=", 1)[-1].split("/", 1)[0]
    account = params.get("TargetId") or get_account_id_from(key)
    doc = state.backup_policies.get(account)
    if doc is None:
        return error("organizations", 400, "EffectivePolicyNotFoundException", "no effective policy of this type")
    policy = {"PolicyContent": json.dumps(doc), "LastUpdatedTimestamp": 1764374400, "TargetId": account,
              "PolicyType": "BACKUP_POLICY"}  # fmt: skip
    return ok("organizations", {"EffectivePolicy": policy})


@functools.cache
def _ec2_names() -> tuple[dict[str, str], dict[str, str]]:
    """botocore's ec2 model: the XML element name (locationName) of each Image and EbsBlockDevice member."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ec2")

    def names(shape: str) -> dict[str, str]:
        members = model.shape_for(shape).members
        return {k: v.serialization.get("name", k[0].lower() + k[1:]) for k, v in members.items()}

    return names("Image"), names("EbsBlockDevice")


def _add_image_fields(state: CopiesState, region: str, resp: _Response) -> _Response:
    status, reason, headers, data = resp
    root = ET.fromstring(data)
    uri = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    ET.register_namespace("", uri)
    image_names, ebs_names = _ec2_names()
    ns = {"e": uri}
    for item in root.iterfind("e:imagesSet/e:item", ns):
        image_id = item.findtext("e:imageId", default="", namespaces=ns)
        extra = state.images.get((region, image_id), {})
        for key, value in extra.items():
            if key == "Ebs":
                for ebs in item.iterfind("e:blockDeviceMapping/e:item/e:ebs", ns):
                    for k, v in value.items():
                        ET.SubElement(ebs, f"{{{uri}}}{ebs_names[k]}").text = _xml_value(v)
            else:
                ET.SubElement(item, f"{{{uri}}}{image_names[key]}").text = _xml_value(value)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    out = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
    return status, reason, out, body


def _xml_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


# --- seeding --------------------------------------------------------------------------------------------------


def seed_image(
    state: CopiesState, session: boto3.Session, name: str, region: str, *, kms_key_id: str | None = None,
    encrypted: bool | None = None, outpost_arn: str | None = None,
) -> str:  # fmt: skip
    """An AMI registered from a snapshot (its encryption declared: moto keeps none); returns its image id."""
    ec2 = session.client("ec2", region_name=region)
    volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    image = str(
        ec2.register_image(
            Name=name,
            RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot}}],
        )["ImageId"]
    )
    ebs: dict[str, Any] = {}
    if encrypted or kms_key_id:
        ebs = {"Encrypted": True, **({"KmsKeyId": kms_key_id} if kms_key_id else {})}
    if outpost_arn:
        ebs["OutpostArn"] = outpost_arn
    if ebs:
        state.images[(region, image)] = {"Ebs": ebs}
    return image


def copy_image(
    state: CopiesState, session: boto3.Session, source: str, source_region: str, region: str,
    *, kms_key_id: str | None = None,
) -> str:  # fmt: skip
    """CopyImage into `region`, declaring the source fields real EC2 reports (and the copy's key, if any)."""
    ec2 = session.client("ec2", region_name=region)
    image = str(ec2.copy_image(SourceImageId=source, SourceRegion=source_region, Name=f"copy-of-{source}")["ImageId"])
    extra: dict[str, Any] = {"SourceImageId": source, "SourceImageRegion": source_region}
    if kms_key_id:
        extra["Ebs"] = {"Encrypted": True, "KmsKeyId": kms_key_id}
    state.images[(region, image)] = extra
    return image


def seed_log_group(
    state: CopiesState, session: boto3.Session, name: str, region: str, *, kms_key_id: str | None = None,
    send_to: Sequence[str] = (),
) -> str:  # fmt: skip
    """A log group (in moto) with subscription filters to each of `send_to` (destination ARNs, declared)."""
    logs = session.client("logs", region_name=region)
    logs.create_log_group(logGroupName=name, **({"kmsKeyId": kms_key_id} if kms_key_id else {}))
    for i, dest in enumerate(send_to):
        state.filters.setdefault((region, name), []).append(
            {"filterName": f"to-{i}", "logGroupName": name, "filterPattern": "", "destinationArn": dest,
             "distribution": "ByLogStream", "creationTime": 1764374400000}
        )  # fmt: skip
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    return f"arn:aws:logs:{region}:{account}:log-group:{name}"


def seed_account_subscription_policy(
    state: CopiesState, region: str, destination: str, *, except_groups: Sequence[str] = (), account: str = ""
) -> None:
    """An account-level subscription filter policy (PutAccountPolicy SUBSCRIPTION_FILTER_POLICY) in `region`."""
    doc = {"DestinationArn": destination, "FilterPattern": "", "Distribution": "Random"}
    policy: dict[str, Any] = {
        "policyName": f"all-to-{len(state.account_policies.get(region, []))}",
        "policyDocument": json.dumps(doc),
        "policyType": "SUBSCRIPTION_FILTER_POLICY",
        "scope": "ALL",
        "accountId": account or "123456789012",
        "lastUpdatedTime": 1764374400000,
    }
    if except_groups:
        policy["selectionCriteria"] = "LogGroupName NOT IN [" + ", ".join(json.dumps(g) for g in except_groups) + "]"
    state.account_policies.setdefault(region, []).append(policy)


def seed_backup_policy(state: CopiesState, account: str, plans: dict[str, Any]) -> None:
    """An organization backup policy in effect for `account`: `plans` in the policy syntax (with its operators)."""
    state.backup_policies[account] = {"plans": plans}


def backup_policy_plan(vault: str, regions: Sequence[str], copy_to: Sequence[str]) -> dict[str, Any]:
    """One plan of a backup policy: a daily rule into `vault` in `regions`, copying to each of `copy_to` (ARNs)."""
    actions = {arn: {"target_backup_vault_arn": {"@@assign": arn}} for arn in copy_to}
    rule = {"schedule_expression": {"@@assign": "cron(0 5 ? * * *)"}, "target_backup_vault_name": {"@@assign": vault},
            "copy_actions": actions}  # fmt: skip
    return {"regions": {"@@assign": list(regions)}, "rules": {"daily": rule}}


def seed_centralization_rule(
    state: CopiesState, name: str, created_in: str, source_regions: Sequence[str], dest_region: str, *,
    dest_account: str = "210987654321", scope: str = "*", backup_region: str | None = None,
    kms_key_arn: str | None = None,
) -> None:  # fmt: skip
    """An organization centralization rule copying the log groups of `source_regions` to `dest_region`."""
    logs: dict[str, Any] = {}
    if kms_key_arn:
        logs["LogsEncryptionConfiguration"] = {"EncryptionStrategy": "CUSTOMER_MANAGED", "KmsKeyArn": kms_key_arn}
    else:
        logs["LogsEncryptionConfiguration"] = {"EncryptionStrategy": "AWS_OWNED"}
    if backup_region:
        logs["BackupConfiguration"] = {"Region": backup_region}
    state.centralization_rules.append(
        {
            "RuleName": name,
            "RuleArn": f"arn:aws:observabilityadmin:{created_in}:123456789012:organization-centralization-rule/{name}",
            "CreatorAccountId": "123456789012",
            "CreatedTimeStamp": 1764374400000,
            "CreatedRegion": created_in,
            "LastUpdateTimeStamp": 1764374400000,
            "RuleHealth": "Healthy",
            "CentralizationRule": {
                "Source": {"Regions": list(source_regions), "Scope": scope,
                           "SourceLogsConfiguration": {"LogGroupSelectionCriteria": "*",
                                                       "EncryptedLogGroupStrategy": "ALLOW"}},
                "Destination": {"Region": dest_region, "Account": dest_account,
                                "DestinationLogsConfiguration": logs},
            },
        }
    )  # fmt: skip
