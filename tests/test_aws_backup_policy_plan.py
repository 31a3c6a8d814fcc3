"""Organization backup policies in Terraform plans (`aws_organizations_policy`, type BACKUP_POLICY): their copy
actions are copies of the planned vaults they back up into, and what no planned vault carries is the policy's own.

The fixture (tests/fixtures/plans/aws-backup-policy.json) plans an EU vault `central` in eu-central-1, a backup policy
running in eu-central-1 and eu-west-1 that backs up into `central` and copies every recovery point to a vault in
Sydney (not in the plan), a service control policy, and the attachment of the backup policy to the root.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from residency_audit.model import KeyControl
from residency_audit.plan.reader import plan_found, read_plan
from residency_audit.stores.aws.backup_policy import COVERED, OTHER_TYPE, policy_rules

from .conftest import invoke_json, places
from .test_plan_properties import SETTINGS, _reordered, json_values, layouts

FIXTURE = Path(__file__).parent / "fixtures" / "plans" / "aws-backup-policy.json"
SYDNEY = "arn:aws:backup:ap-southeast-2:$account:backup-vault:dr-sydney"


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def _policy(plan: dict[str, Any]) -> dict[str, Any]:
    """The backup policy's content, parsed (the same object in planned_values and resource_changes)."""
    values = next(
        r
        for r in plan["planned_values"]["root_module"]["resources"]
        if r["address"] == "aws_organizations_policy.backup"
    )["values"]
    content: dict[str, Any] = json.loads(values["content"])
    return content


def _set(plan: dict[str, Any], address: str, values: dict[str, Any], unknown: dict[str, Any] | None = None) -> None:
    """Change a planned resource's values (both where the plan holds them), and what is unknown until apply."""
    for res in plan["planned_values"]["root_module"]["resources"]:
        if res["address"] == address:
            res["values"].update(values)
    for change in plan["resource_changes"]:
        if change["address"] == address:
            change["change"]["after"].update(values)
            for key in values:
                change["change"]["after_unknown"].pop(key, None)
            change["change"]["after_unknown"].update(unknown or {})


def _with_content(plan: dict[str, Any], content: Any, text: str | None = None) -> dict[str, Any]:
    plan = copy.deepcopy(plan)
    _set(plan, "aws_organizations_policy.backup", {"content": text if text is not None else json.dumps(content)})
    return plan


def _read(plan: dict[str, Any]) -> tuple[dict[str, list[tuple[str, str, str | None]]], dict[str, str]]:
    resources, skipped = read_plan(plan, "plan.json")
    found = {r.id: [(c.code, str(c.role), c.key_control) for c in r.footprint] for r in resources}
    return found, {n.address: n.reason for n in skipped}


def _unknown(footprint: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    return [c for c in footprint if c[0] == "unknown"]


def test_a_plan_creating_a_policy_that_copies_to_sydney_fails_eu_gdpr() -> None:
    code, report, err = invoke_json(["plan", str(FIXTURE), "--profile", "eu-gdpr", "--format", "json"])
    assert code == 1, err  # before: exit 0, the policy an unknown type and its copies nowhere
    r = {x["id"]: x for x in report["resources"]}
    central, policy = r["aws_backup_vault.central"], r["aws_organizations_policy.backup"]
    assert places(central) == [("eu-central-1", "primary"), ("ap-southeast-2", "replica")]
    assert "aws_organizations_policy.backup plan org-daily rule daily" in central["footprint"][1]["note"]
    assert central["footprint"][1]["key_control"] == "unknown"  # the Sydney vault is not in the plan
    # the policy also runs in eu-west-1, where no vault of this plan is: that vault's copies are the policy's own
    assert places(policy) == [("eu-west-1", "primary"), ("ap-southeast-2", "replica")]
    assert policy["type"] == "aws_organizations_policy" and policy["name"] == "org-daily-backup"
    errors = {f["resource"] for f in report["findings"] if f["severity"] == "error"}
    assert errors == {"aws_backup_vault.central", "aws_organizations_policy.backup"}
    skipped = {n["address"]: n["reason"] for n in report["not_evaluated"]}
    assert skipped["aws_organizations_policy.region_guard"] == OTHER_TYPE
    assert "every data-bearing resource found was assessed" in err


def test_without_the_policy_the_same_plan_passes() -> None:
    plan = _fixture()
    drop = {"aws_organizations_policy.backup", "aws_organizations_policy_attachment.backup_root"}
    plan["planned_values"]["root_module"]["resources"] = [
        r for r in plan["planned_values"]["root_module"]["resources"] if r["address"] not in drop
    ]
    plan["resource_changes"] = [r for r in plan["resource_changes"] if r["address"] not in drop]
    found, _ = _read(plan)
    assert found["aws_backup_vault.central"] == [("eu-central-1", "primary", None)]


def test_a_rule_whose_every_region_has_its_vault_in_the_plan_is_the_vaults_alone() -> None:
    content = _policy(_fixture())
    content["plans"]["org-daily"]["regions"] = {"@@assign": ["eu-central-1"]}
    plan = _with_content(_fixture(), content)
    found, skipped = _read(plan)
    assert "aws_organizations_policy.backup" not in found and skipped["aws_organizations_policy.backup"] == COVERED
    assert found["aws_backup_vault.central"][1][:2] == ("ap-southeast-2", "replica")
    # counted nowhere as a data store left unassessed: the plan is complete
    resources, not_evaluated = read_plan(plan, "plan.json")
    assert not any(f.type == "aws_organizations_policy" for f in plan_found("plan.json", resources, not_evaluated))


def test_a_vault_outside_the_policys_regions_gets_no_copy() -> None:
    content = _policy(_fixture())
    content["plans"]["org-daily"]["regions"] = {"@@assign": ["eu-west-1"]}
    found, _ = _read(_with_content(_fixture(), content))
    assert found["aws_backup_vault.central"] == [("eu-central-1", "primary", None)]
    assert found["aws_organizations_policy.backup"][0][:2] == ("eu-west-1", "primary")


def test_regions_it_cannot_read_count_everywhere_and_region_placeholders_are_the_vaults_region() -> None:
    content = _policy(_fixture())
    content["plans"]["org-daily"]["regions"] = {"@@remove": ["eu-west-1"]}  # depends on a parent policy
    local = "arn:aws:backup:$region:$account:backup-vault:local-copy"
    content["plans"]["org-daily"]["rules"]["daily"]["copy_actions"][local] = {"target_backup_vault_arn": local}
    found, skipped = _read(_with_content(_fixture(), content))
    # the $region copy is in the vault's own region, under the keys of a vault not in the plan: unknown
    assert found["aws_backup_vault.central"] == [
        ("eu-central-1", "primary", None),
        ("ap-southeast-2", "replica", KeyControl.UNKNOWN),
        ("eu-central-1", "replica", KeyControl.UNKNOWN),
    ]
    # its copies are on the planned vault `central`; where else it runs is not known, but they are counted there
    assert skipped["aws_organizations_policy.backup"] == COVERED


def test_a_destination_vault_in_the_plan_lends_its_keys_only_for_the_same_account() -> None:
    plan = _fixture()
    dr = copy.deepcopy(next(r for r in plan["planned_values"]["root_module"]["resources"] if r["name"] == "central"))
    dr.update(address="aws_backup_vault.dr", name="dr")
    dr["values"] = {**dr["values"], "name": "dr-sydney", "region": "ap-southeast-2"}
    plan["planned_values"]["root_module"]["resources"].append(dr)
    found, _ = _read(plan)
    assert found["aws_backup_vault.central"][1] == ("ap-southeast-2", "replica", KeyControl.PROVIDER_MANAGED)
    # in another account, named by its number: the plan cannot say it is this vault
    content = _policy(plan)
    actions = content["plans"]["org-daily"]["rules"]["daily"]["copy_actions"]
    other = SYDNEY.replace("$account", "999988887777")
    actions[SYDNEY]["target_backup_vault_arn"] = {"@@assign": other}
    found, _ = _read(_with_content(plan, content))
    assert found["aws_backup_vault.central"][1] == ("ap-southeast-2", "replica", KeyControl.UNKNOWN)


@pytest.mark.parametrize(
    ("values", "unknown", "why"),
    [
        ({"content": None}, {"content": True}, "its content is known after apply"),
        ({"type": None}, {"type": True}, "its type is known after apply"),
        ({"type": ["BACKUP_POLICY"]}, {}, "its type is not a string"),
        ({"content": "{not json"}, {}, "could not be understood"),
        ({"content": '{"plans": []}'}, {}, "could not be understood"),
        ({"content": '{"plans": {"p": {"rules": {"r": {"copy_actions": {"x": {}}}}}}}'}, {}, "target_backup_vault"),
        ({"content": "[" * 5000 + "]" * 5000}, {}, "could not be understood"),
    ],
)
def test_content_it_cannot_read_is_an_unknown_copy_never_a_guess(
    values: dict[str, Any], unknown: dict[str, Any], why: str
) -> None:
    plan = _fixture()
    _set(plan, "aws_organizations_policy.backup", values, unknown)
    found, _ = _read(plan)
    (vault_copy,) = _unknown(found["aws_backup_vault.central"])
    assert vault_copy[1] == "replica"
    assert [c[1] for c in found["aws_organizations_policy.backup"]] == ["primary", "replica"]
    assert all(c[0] == "unknown" for c in found["aws_organizations_policy.backup"])
    resources, _ = read_plan(plan, "plan.json")
    note = next(r for r in resources if r.id == "aws_backup_vault.central").footprint[-1].note or ""
    assert why in note and "aws_organizations_policy.backup" in note


def test_a_policy_of_another_type_copies_nothing() -> None:
    plan = _fixture()
    _set(plan, "aws_organizations_policy.backup", {"type": "TAG_POLICY"})
    found, skipped = _read(plan)
    assert found["aws_backup_vault.central"] == [("eu-central-1", "primary", None)]
    assert skipped["aws_organizations_policy.backup"] == OTHER_TYPE


def test_child_control_operators_are_not_plans_rules_or_copy_actions() -> None:
    (rule,) = policy_rules(_policy(_fixture()))
    assert (rule.plan, rule.rule, rule.vault) == ("org-daily", "daily", "central")
    assert rule.regions == ("eu-central-1", "eu-west-1") and rule.destinations == (SYDNEY,)
    # an effective policy (DescribeEffectivePolicy) has its operators resolved: the same rule
    effective = {"plans": {"org-daily": {"regions": ["eu-central-1", "eu-west-1"], "rules": {"daily": {
        "target_backup_vault_name": "central", "copy_actions": {SYDNEY: {"target_backup_vault_arn": SYDNEY}}}}}}}  # fmt: skip
    assert policy_rules(effective) == [rule]


# --- properties: the policy's content in any layout reads the same; any mutation of it is read or unknown ----------


@SETTINGS
@given(layout=layouts, rnd=st.randoms(use_true_random=False))
def test_the_policy_content_in_any_layout_gives_the_same_copies(layout: dict[str, Any], rnd: random.Random) -> None:
    plan = _fixture()
    baseline = _read(plan)
    assert _read(_with_content(plan, None, json.dumps(_reordered(_policy(plan), rnd), **layout))) == baseline


def _paths(value: Any, at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [at]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*at, key))
    return out


@SETTINGS
@given(data=st.data())
def test_any_mutation_of_the_content_is_read_or_an_unknown_copy_never_a_traceback(data: st.DataObject) -> None:
    plan = _fixture()
    content = _policy(plan)
    at = data.draw(st.sampled_from([p for p in _paths(content) if p]))
    node = content
    for step in at[:-1]:
        node = node[step]
    if data.draw(st.booleans()):
        node[at[-1]] = data.draw(json_values)
    else:
        del node[at[-1]]
    found, skipped = _read(_with_content(plan, content))
    assert found["aws_backup_vault.central"][0] == ("eu-central-1", "primary", None)
    # the policy is its own resource (its copies, or unknown ones), or every copy it makes is on the planned vault
    assert "aws_organizations_policy.backup" in found or skipped["aws_organizations_policy.backup"] == COVERED


def test_the_live_reader_reads_a_policy_with_child_control_operators_in_its_regions_only() -> None:
    from residency_audit.stores.aws.backup_policy import _copies

    rules = policy_rules(_policy(_fixture()))  # once a 'could not be understood' skip: its @@ keys read as plans
    copies = _copies(rules, "111122223333", "eu-west-1")
    dest = SYDNEY.replace("$account", "111122223333")
    assert [(vault, c.code, d) for vault, c, d in copies] == [("central", "ap-southeast-2", dest)]
    assert _copies(rules, "111122223333", "us-east-1") == []
