"""AMIs and CloudWatch Logs subscriptions (issue 12), scanned by the real CLI over real HTTP against moto, completed
by tests/servers/aws_copies.py where moto lacks a field or a call; and their Terraform plan readers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import invoke_json, places
from .servers.aws import DEFAULT_ACCOUNT, AwsEndpoint, seed_kms_key
from .servers.aws_copies import copy_image, seed_account_subscription_policy, seed_image, seed_log_group
from .test_aws_copies import _block, _plan, by_id

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]


def scan(*services: str, regions: list[str] = REGIONS) -> tuple[int, dict[str, Any], str]:
    args = ["scan", "--format", "json", "--profile", "eu-gdpr"]
    for region in regions:
        args += ["--region", region]
    for service in services or ("ami", "log-group"):
        args += ["--service", service]
    return invoke_json(args)


def copies(resource: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(c["location"], c["role"], c.get("key_control")) for c in resource["footprint"]]


def test_a_copied_image_is_a_copy_of_its_source_region_and_keys_come_from_its_snapshots(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    cmk = seed_kms_key(s, "eu-west-1")
    base = seed_image(aws.copies, s, "base", "eu-west-1", kms_key_id=cmk)
    copied = copy_image(aws.copies, s, base, "eu-west-1", "us-east-1")
    plain = seed_image(aws.copies, s, "plain", "eu-central-1")
    outpost = seed_image(aws.copies, s, "edge", "eu-central-1", encrypted=True, kms_key_id=cmk,
                         outpost_arn=f"arn:aws:outposts:eu-central-1:{DEFAULT_ACCOUNT}:outpost/op-0123456789abcdef0")  # fmt: skip

    aws.clear_log()
    code, report, err = scan("ami")
    assert code == 0, err  # the copy sits in the US: under eu-gdpr a warning (adequacy), not an error
    r = {x["id"].rsplit("/", 1)[-1]: x for x in report["resources"]}
    assert set(r) == {base, copied, plain, outpost}
    assert r[base]["type"] == "AWS::EC2::Image" and r[base]["service"] == "ami"
    assert r[base]["id"] == f"arn:aws:ec2:eu-west-1::image/{base}"
    assert places(r[base]) == [("eu-west-1", "primary")]
    assert r[base]["key_control"] == "customer-managed"
    assert places(r[copied]) == [("us-east-1", "primary"), ("eu-west-1", "replica")]
    assert base in " ".join(c.get("note") or "" for c in r[copied]["footprint"])
    assert r[plain]["key_control"] == "provider-managed" and "not encrypted" in r[plain]["key_note"]
    # a snapshot on an Outpost: where it sits is not given, so the image has an unknown copy, never its region's
    assert places(r[outpost]) == [("eu-central-1", "primary"), ("unknown", "replica")]
    rules = {(f["rule"], f["resource"]) for f in report["findings"]}
    assert ("RA004", r[outpost]["id"]) in rules and ("RA001", r[copied]["id"]) in rules  # unknown location; a copy
    # one DescribeImages per region answers everything
    calls = [(rec.service, rec.action, rec.region) for rec in aws.requests if rec.service == "ec2"]
    assert sorted(c for c in calls if c[1] == "DescribeImages") == sorted(("ec2", "DescribeImages", r) for r in REGIONS)


def test_subscription_filters_and_account_policies_send_log_events_to_other_regions(aws: AwsEndpoint) -> None:
    s = aws.session(direct=True)
    stream = f"arn:aws:kinesis:us-east-1:{DEFAULT_ACCOUNT}:stream/siem"
    firehose = f"arn:aws:firehose:eu-central-1:{DEFAULT_ACCOUNT}:deliverystream/archive"
    cmk = seed_kms_key(s, "eu-west-1")
    app = seed_log_group(aws.copies, s, "/app/api", "eu-west-1", kms_key_id=cmk, send_to=[stream, firehose])
    quiet = seed_log_group(aws.copies, s, "/app/quiet", "eu-west-1")
    frankfurt = seed_log_group(aws.copies, s, "/de/app", "eu-central-1")
    excluded = seed_log_group(aws.copies, s, "/de/excluded", "eu-central-1")
    other = "arn:aws:logs:ap-southeast-2:210987654321:destination:central"
    seed_account_subscription_policy(aws.copies, "eu-central-1", other, except_groups=["/de/excluded"])
    seed_account_subscription_policy(aws.copies, "eu-central-1", firehose)

    aws.clear_log()
    code, report, err = scan("log-group")
    assert code == 1, err
    assert report["skipped"] == []
    r = by_id(report)
    assert set(r) == {app, quiet, frankfurt, excluded}
    assert r[app]["type"] == "AWS::Logs::LogGroup"
    assert places(r[app]) == [("eu-west-1", "primary"), ("us-east-1", "replica"), ("eu-central-1", "replica")]
    # a destination's keys are not read: that copy is under unknown keys, and the worst copy decides
    assert copies(r[app])[1][2] == "unknown" and r[app]["key_control"] == "customer-managed"
    assert places(r[quiet]) == [("eu-west-1", "primary")]
    assert places(r[frankfurt]) == [("eu-central-1", "primary"), ("ap-southeast-2", "replica"),
                                    ("eu-central-1", "replica")]  # fmt: skip
    assert places(r[excluded]) == [("eu-central-1", "primary"), ("eu-central-1", "replica")]
    calls = [(rec.action, rec.region) for rec in aws.requests if rec.service == "logs"]
    # per region with groups: the groups, the account policies once (paged: two policies, one a page), a call per group
    assert sorted(calls) == sorted(
        [("DescribeLogGroups", x) for x in REGIONS]
        + [("DescribeAccountPolicies", "eu-west-1")] + [("DescribeAccountPolicies", "eu-central-1")] * 2
        + [("DescribeSubscriptionFilters", "eu-west-1")] * 2 + [("DescribeSubscriptionFilters", "eu-central-1")] * 2
    )  # fmt: skip


def test_an_empty_region_costs_one_request_per_new_service(aws: AwsEndpoint) -> None:
    code, report, err = scan(regions=["eu-north-1"])
    assert report["resources"] == []
    assert code == 0, err
    calls = sorted((rec.service, rec.action) for rec in aws.requests if rec.region == "eu-north-1")
    assert calls == [("ec2", "DescribeImages"), ("logs", "DescribeLogGroups")]


@pytest.mark.parametrize(
    ("action", "scope", "hidden"),
    [
        ("DescribeSubscriptionFilters", "region/eu-west-1/service/log-group/log-group//app/api", False),
        ("DescribeAccountPolicies", "region/eu-west-1/service/log-group/account-policies", False),
        ("DescribeLogGroups", "region/eu-west-1/service/log-group", True),
    ],
)
def test_unreadable_subscriptions_are_a_skip_and_the_group_is_still_reported(
    aws: AwsEndpoint, action: str, scope: str, hidden: bool
) -> None:
    s = aws.session(direct=True)
    group = seed_log_group(aws.copies, s, "/app/api", "eu-west-1", send_to=["arn:aws:lambda:us-east-1:1:function:f"])
    aws.add_fault("logs", "eu-west-1", action, status=400, code="AccessDeniedException", message="denied")
    code, report, err = scan("log-group")
    assert code == 3, err
    skips = {x["scope"]: x["reason"] for x in report["skipped"]}
    assert f"AccessDeniedException on {action} (HTTP 400)" in skips[f"account/{DEFAULT_ACCOUNT}/{scope}"]
    assert (group in by_id(report)) is not hidden


# --- the plan readers ------------------------------------------------------------------------------------------


def _read(plan: dict[str, Any]) -> dict[str, Any]:
    from residency_audit.plan.reader import read_plan

    resources, _ = read_plan(plan, "plan.json")
    return {r.id: r for r in resources}


def test_plan_ami_copy_and_its_keys() -> None:
    plan = _plan(
        _block("aws_ebs_snapshot", "root", {"volume_id": "vol-1", "encrypted": True, "kms_key_id": "arn:aws:kms:eu-west-1:1:key/k"}),
        _block("aws_ami", "base", {"name": "base", "ebs_block_device": [{"device_name": "/dev/xvda"}]},
               refs={}, unknown={"ebs_block_device": [{"snapshot_id": True}]}),
        _block("aws_ami_copy", "us", {"name": "us", "source_ami_region": "eu-west-1", "encrypted": False},
               provider="aws.us", unknown={"source_ami_id": True}),
        _block("aws_ami_copy", "us_cmk", {"name": "us-cmk", "source_ami_region": "eu-west-1", "encrypted": True,
                                          "kms_key_id": "arn:aws:kms:us-east-1:1:key/k2"}, provider="aws.us"),
    )  # fmt: skip
    plan["configuration"]["root_module"]["resources"][1]["expressions"] = {
        "ebs_block_device": [{"snapshot_id": {"references": ["aws_ebs_snapshot.root.id", "aws_ebs_snapshot.root"]}}]
    }
    r = _read(plan)
    assert [(c.code, c.role) for c in r["aws_ami.base"].footprint] == [("eu-west-1", "primary")]
    assert r["aws_ami.base"].key_control == "customer-managed"
    assert [(c.code, c.role) for c in r["aws_ami_copy.us"].footprint] == [
        ("us-east-1", "primary"),
        ("eu-west-1", "replica"),
    ]
    assert r["aws_ami_copy.us"].key_control == "unknown"
    assert r["aws_ami_copy.us_cmk"].key_control == "customer-managed"


def test_plan_log_group_subscription_filter_and_account_policy() -> None:
    doc = json.dumps({"DestinationArn": "arn:aws:firehose:us-east-1:1:deliverystream/all"})
    plan = _plan(
        _block("aws_cloudwatch_log_group", "api", {"name": "/app/api"}),
        _block("aws_cloudwatch_log_group", "skip", {"name": "/app/skip"}),
        _block("aws_kinesis_stream", "siem", {"name": "siem"}, provider="aws.us", unknown={"arn": True}),
        _block("aws_cloudwatch_log_subscription_filter", "siem", {"name": "siem", "log_group_name": "/app/api"},
               unknown={"destination_arn": True}),
        _block("aws_cloudwatch_log_subscription_filter", "existing", {"name": "x", "log_group_name": "/made/elsewhere",
               "destination_arn": "arn:aws:lambda:ap-southeast-2:1:function:f"}),
        _block("aws_cloudwatch_log_account_policy", "all", {"policy_name": "all", "policy_type":
               "SUBSCRIPTION_FILTER_POLICY", "policy_document": doc, "selection_criteria": 'LogGroupName NOT IN ["/app/skip"]'}),
    )  # fmt: skip
    plan["configuration"]["root_module"]["resources"][3]["expressions"] = {
        "destination_arn": {"references": ["aws_kinesis_stream.siem.arn", "aws_kinesis_stream.siem"]},
        "log_group_name": {"references": ["aws_cloudwatch_log_group.api.name", "aws_cloudwatch_log_group.api"]},
    }
    r = _read(plan)
    api = r["aws_cloudwatch_log_group.api"]
    assert [(c.code, c.role) for c in api.footprint] == [
        ("eu-west-1", "primary"), ("us-east-1", "replica")]  # fmt: skip
    assert [c.key_control for c in api.footprint] == [None, "unknown"]
    assert [(c.code, c.role) for c in r["aws_cloudwatch_log_group.skip"].footprint] == [("eu-west-1", "primary")]
    existing = r["aws_cloudwatch_log_subscription_filter.existing"]
    assert existing.type == "AWS::Logs::SubscriptionFilter"
    assert [(c.code, c.role) for c in existing.footprint] == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]


@pytest.mark.parametrize("case", ["org", "denied", "single-account", "transient", "get-fails"])
def test_organization_centralization_rules_copy_log_groups(aws: AwsEndpoint, case: str) -> None:
    from .servers.aws import seed_organization
    from .servers.aws_copies import seed_centralization_rule

    s = aws.session(direct=True)
    seed_organization(s, ["member"])
    ireland = seed_log_group(aws.copies, s, "/app/api", "eu-west-1")
    frankfurt = seed_log_group(aws.copies, s, "/de/app", "eu-central-1")
    key = "arn:aws:kms:us-east-1:210987654321:key/central"
    seed_centralization_rule(aws.copies, "to-us", "eu-west-1", ["eu-west-1"], "us-east-1", backup_region="ap-southeast-2",
                             kms_key_arn=key)  # fmt: skip
    seed_centralization_rule(aws.copies, "someone-else", "eu-west-1", ["eu-west-1", "eu-central-1"], "us-west-2",
                             scope="AccountId IN ('999999999999', '888888888888')")  # fmt: skip
    seed_centralization_rule(aws.copies, "by-ou", "us-east-1", ["eu-central-1"], "us-east-1",
                             scope="OrganizationUnitId = 'ou-ab12-cdef3456'")  # fmt: skip
    if case == "denied":
        aws.add_fault("observabilityadmin", "us-east-1", "ListCentralizationRulesForOrganization", status=403,
                      code="AccessDeniedException", message="not the management account")  # fmt: skip
    for action, region in (("ListCentralizationRulesForOrganization", "us-east-1"),
                           ("GetCentralizationRuleForOrganization", "eu-west-1")):  # fmt: skip
        if case == "transient":  # each retryable kind once on each call: retried, and the scan is complete
            aws.add_fault("observabilityadmin", region, action, times=1, status=400, code="ThrottlingException",
                          message="Rate exceeded")  # fmt: skip
            aws.add_fault("observabilityadmin", region, action, times=1, status=500, code="InternalServerError",
                          message="internal")  # fmt: skip
            aws.add_fault("observabilityadmin", region, action, times=1, mode="malformed")
    if case == "get-fails":
        aws.add_fault("observabilityadmin", "eu-west-1", "GetCentralizationRuleForOrganization", status=500,
                      code="InternalServerError", message="internal")  # fmt: skip
    aws.clear_log()
    args = ["scan", "--format", "json", "--service", "log-group", *(["--org"] if case != "single-account" else [])]
    for region in REGIONS:
        args += ["--region", region]
    code, report, err = invoke_json(args)
    r = by_id(report)
    calls = [(rec.action, rec.region) for rec in aws.requests if rec.service == "observabilityadmin"]
    if case == "single-account":  # a member account cannot read them: not asked
        assert calls == [] and code == 0, err
        assert places(r[ireland]) == [("eu-west-1", "primary")]
        return
    if case in ("denied", "get-fails"):
        assert code == 3, err
        (skip,) = report["skipped"]
        assert skip["scope"] == f"account/{DEFAULT_ACCOUNT}/log-centralization"
        assert "observabilityadmin:ListCentralizationRulesForOrganization" in skip["reason"]
        assert ("AccessDeniedException" if case == "denied" else "InternalServerError") in skip["reason"]
        assert set(r) == {ireland, frankfurt}  # still reported, copies unknown
        return
    assert code == 0 and report["skipped"] == [], err
    # listed for the organization (all Regions; the server pages one rule at a time), each rule read where it was made
    expected = [("GetCentralizationRuleForOrganization", "eu-west-1")] * 2
    expected += [("GetCentralizationRuleForOrganization", "us-east-1")]
    expected += [("ListCentralizationRulesForOrganization", "us-east-1")] * 3
    retried = 3 * 2 if case == "transient" else 0  # three faults on each call, each one retried
    assert sorted(set(calls)) == sorted(set(expected)) and len(calls) == len(expected) + retried
    assert copies(r[ireland]) == [("eu-west-1", "primary", None), ("us-east-1", "replica", "customer-managed"),
                                  ("ap-southeast-2", "replica", "unknown")]  # fmt: skip
    assert copies(r[frankfurt]) == [("eu-central-1", "primary", None), ("us-east-1", "replica", "provider-managed")]
    assert "not evaluated" in r[frankfurt]["footprint"][1]["note"]
