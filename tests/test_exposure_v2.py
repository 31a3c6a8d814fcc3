"""Exposure model v2 (issue #15), through `explain`, `check` and `kb-check` as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from residency_audit import report
from residency_audit.classify import viewpoint
from residency_audit.cli import app
from residency_audit.knowledge import KnowledgeBase
from residency_audit.model import Copy, CopyRole, KeyControl, Provider, Resource
from residency_audit.pipeline import ScanResult, assess_all, locate


def explain(*argv: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(app, ["explain", *argv, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def level(*argv: str) -> str:
    return str(explain(*argv)[0]["assessment"]["level"])


def reasons(*argv: str) -> str:
    return "\n".join(explain(*argv)[0]["assessment"]["reasons"])


def profile(tmp_path: Path, text: str, name: str = "p.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def saved(kb: KnowledgeBase, tmp_path: Path, *resources: Resource) -> Path:
    view = viewpoint(kb, ["EEA"])
    assessed = tuple(assess_all(kb, locate(kb, resources), view))
    now = datetime.now(UTC)
    path = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(report.build(ScanResult(assessed, ()), view, report.Meta("scan", None, now, now))))
    return path


def bucket(name: str, *copies: Copy, key: KeyControl = KeyControl.PROVIDER_MANAGED) -> Resource:
    return Resource(Provider.AWS, "111122223333", "s3", "AWS::S3::Bucket", f"arn:aws:s3:::{name}", name, copies, key)


def check(path: Path, *argv: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(app, ["check", str(path), *argv, "--format", "json"])
    data = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result.exit_code, data, result.stderr


# --- 1. transfer is not reach ------------------------------------------------------------------------------------


def test_adequacy_never_trusts_reach_the_us_stays_high_with_its_laws() -> None:
    data, _ = explain("aws:eu-central-1", "--profile", "eu-gdpr")
    a = data["assessment"]
    assert a["level"] == "high" and "US" in a["foreign_reach"]
    text = "\n".join(a["reasons"])
    assert "CLOUD Act" in text and "FISA § 702" in text
    assert "art. 48" in text and "T-553/23" in text and "C-703/25 P" in text


@pytest.mark.parametrize(
    ("trusted", "message"),
    [
        ('["CH"]', "must be a table with a state and a reason"),
        ('[{state = "EU-ADEQUACY", reason = "adequate"}]', "never whose compulsion is tolerable"),
        ('[{state = "CH"}]', "every tolerated state needs a reason"),
        ('[{state = "XX", reason = "r"}]', "not an ISO 3166-1 alpha-2"),
    ],
)
def test_trusting_reach_is_a_choice_per_state_with_a_reason(tmp_path: Path, trusted: str, message: str) -> None:
    path = profile(tmp_path, f'name = "t"\n[viewpoint]\nhome = ["EEA"]\ntrusted = {trusted}\n')
    result = CliRunner().invoke(app, ["profiles", "validate", path])
    assert result.exit_code == 2 and message in result.stderr and "viewpoint.trusted[0]" in result.stderr


def test_a_trusted_state_and_its_reason_are_recorded_in_the_report(kb: KnowledgeBase, tmp_path: Path) -> None:
    prof = profile(tmp_path, 'name = "t"\n[viewpoint]\nhome = ["EEA"]\ntrusted = [{state = "CH", reason = "LEG-9"}]\n')
    _, data, _ = check(saved(kb, tmp_path, bucket("b", Copy("eu-central-2", CopyRole.PRIMARY))), "--profile", prof)
    assert data["profile"]["tolerated"] == [{"state": "CH", "reason": "LEG-9", "as": "trusted"}]
    assert "CH" not in data["resources"][0]["assessment"]["foreign_reach"]


def test_cli_trust_refuses_a_bloc() -> None:
    result = CliRunner().invoke(app, ["explain", "aws:eu-central-1", "--trust", "EU-ADEQUACY"])
    assert result.exit_code == 2 and "trust states one by one" in result.stderr


def test_adequacy_expiry_the_uk_after_27_december_2031(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved(kb, tmp_path, bucket("london", Copy("eu-west-2", CopyRole.PRIMARY)))
    code, data, _ = check(path, "--profile", "eu-gdpr", "--as-of", "2031-12-26")
    assert code == 0 and not [f for f in data["findings"] if f["rule"] == "RA001"]
    code, data, _ = check(path, "--profile", "eu-gdpr", "--as-of", "2031-12-27")
    assert code == 1 and [f["severity"] for f in data["findings"] if f["rule"] == "RA001"] == ["error"]


def test_partial_scope_adequacy_warns_to_confirm_the_recipient(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved(kb, tmp_path, bucket("virginia", Copy("us-east-1", CopyRole.PRIMARY)))
    code, data, _ = check(path, "--profile", "eu-gdpr")
    ra001 = [f for f in data["findings"] if f["rule"] == "RA001"]
    assert [f["severity"] for f in ra001] == ["warning"] and code == 0  # a warning: --fail-on warning fails it
    assert "Data Privacy Framework" in "\n".join(ra001[0]["reasons"])


# --- 2. keys as EDPB Recommendations 01/2020 read them ----------------------------------------------------------


def test_customer_managed_key_changes_no_level_but_says_why() -> None:
    assert level("aws:eu-central-1", "--key-control", "customer-managed") == level("aws:eu-central-1") == "high"
    assert "decrypts on every read" in reasons("aws:eu-central-1", "--key-control", "customer-managed")


def test_external_keys_lower_one_step_never_below_low() -> None:
    assert level("aws:eu-central-1", "--key-control", "external") == "medium"
    assert level("aws:us-east-1", "--home", "US", "--key-control", "external") == "low"


def test_client_side_is_capped_at_low_only_with_custody_at_home(tmp_path: Path) -> None:
    assert level("aws:eu-central-1", "--key-control", "client-side") == "medium"
    home = profile(tmp_path, 'name = "k"\n[viewpoint]\nhome = ["EEA"]\n[keys]\ncustody = ["DE"]\n', "home.toml")
    abroad = profile(tmp_path, 'name = "k"\n[viewpoint]\nhome = ["EEA"]\n[keys]\ncustody = ["US"]\n', "away.toml")
    assert level("aws:eu-central-1", "--key-control", "client-side", "--profile", home) == "low"
    assert level("aws:eu-central-1", "--key-control", "client-side", "--profile", abroad) == "medium"


def test_a_lenient_key_reading_is_a_recorded_choice(kb: KnowledgeBase, tmp_path: Path) -> None:
    bare = profile(tmp_path, 'name = "l"\n[keys]\nreading = "lenient"\n', "bare.toml")
    result = CliRunner().invoke(app, ["profiles", "validate", bare])
    assert result.exit_code == 2 and "keys.reason" in result.stderr
    lenient = profile(tmp_path, 'name = "l"\n[keys]\nreading = "lenient"\nreason = "Counsel LEG-3"\n', "len.toml")
    assert level("aws:eu-central-1", "--key-control", "customer-managed", "--profile", lenient) == "medium"
    assert "lenient key reading chosen by profile l" in reasons(
        "aws:eu-central-1", "--key-control", "external", "--profile", lenient
    )
    path = saved(kb, tmp_path, bucket("b", Copy("eu-central-1", CopyRole.PRIMARY)))
    _, data, _ = check(path, "--profile", lenient)
    assert data["profile"]["reading"]["keys"] == "lenient" and data["profile"]["reading"]["keys_reason"]


def test_the_worst_copys_keys_decide(kb: KnowledgeBase, tmp_path: Path) -> None:
    good = bucket(
        "same-keys",
        Copy("eu-central-1", CopyRole.PRIMARY),
        Copy("eu-west-1", CopyRole.REPLICA),
        key=KeyControl.CLIENT_SIDE,
    )
    weak = bucket(
        "weak-replica",
        Copy("eu-central-1", CopyRole.PRIMARY),
        Copy("eu-west-1", CopyRole.REPLICA, key_control=KeyControl.PROVIDER_MANAGED),
        key=KeyControl.CLIENT_SIDE,
    )
    code, data, _ = check(saved(kb, tmp_path, good, weak), "--profile", "eu-sovereign")
    got = {r["name"]: r for r in data["resources"]}
    assert got["same-keys"]["assessment"]["level"] == "medium"
    assert got["weak-replica"]["assessment"]["level"] == "high"
    assert got["weak-replica"]["footprint"][1]["key_control"] == "provider-managed"  # kept through the report
    ra002 = {f["name"] for f in data["findings"] if f["rule"] == "RA002"}
    assert ra002 == {"weak-replica"} and code == 1


def test_ra002_remediation_matches_the_key_reading() -> None:
    from residency_audit.rules import RULES

    text = RULES["RA002"].remediation
    assert "does not help" in text and "custody" in text and "Every copy counts" in text


# --- 3. law has dates -------------------------------------------------------------------------------------------


def test_e_evidence_applies_from_18_august_2026_cross_border_without_denmark() -> None:
    before, _ = explain("aws:us-east-1", "--home", "US", "--as-of", "2026-08-17")
    after, _ = explain("aws:us-east-1", "--home", "US", "--as-of", "2026-08-18")
    assert "EU-EEVIDENCE" not in before["assessment"]["foreign_reach"]
    assert "EU-EEVIDENCE" in after["assessment"]["foreign_reach"]
    assert "Denmark does not take part" in "\n".join(after["assessment"]["reasons"])
    assert after["as_of"] == "2026-08-18"


def test_denmark_is_not_an_issuing_state() -> None:
    data, _ = explain("aws:eu-north-1", "--home", "SE")
    bloc = data["assessment"]["foreign_reach"]
    assert "EU-EEVIDENCE" in bloc  # the other member states can issue orders to a Swedish company's provider
    result = CliRunner().invoke(app, ["regions", "--country", "DK", "--format", "json"])
    assert result.exit_code == 0


def test_a_fact_past_its_review_date_is_a_warning_in_every_report(kb: KnowledgeBase, tmp_path: Path) -> None:
    data, err = explain("aws:eu-central-1", "--as-of", "2027-03-02")
    assert "re-verify instrument us-fisa-702" in err and data["reverify"]
    path = saved(kb, tmp_path, bucket("b", Copy("eu-central-1", CopyRole.PRIMARY)))
    for fmt in ("json", "table", "markdown", "html", "sarif", "csv", "junit"):
        result = CliRunner().invoke(app, ["check", str(path), "--as-of", "2027-12-01", "--format", fmt])
        assert "re-verify" in result.stdout and "us-fisa-702" in result.stdout, fmt
        assert "re-verify" in result.stderr
    today = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    assert json.loads(today.stdout)["summary"]["reverify"] == []


def test_as_of_never_revives_an_expired_waiver(kb: KnowledgeBase, tmp_path: Path) -> None:
    prof = profile(
        tmp_path,
        'name = "w"\n[copies]\nallowed = ["EEA"]\n[[waiver]]\nresource = "*"\nreason = "r"\nexpires = 2026-01-01\n',
    )
    path = saved(kb, tmp_path, bucket("far", Copy("us-east-1", CopyRole.PRIMARY)))
    code, data, _ = check(path, "--profile", prof, "--as-of", "2025-06-01")
    assert code == 1 and "RA005" in {f["rule"] for f in data["findings"]}


def test_as_of_report_judges_under_the_law_of_the_scan_day(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved(kb, tmp_path, bucket("b", Copy("us-east-1", CopyRole.PRIMARY)))
    data = json.loads(path.read_text())
    data["started_at"] = "2026-01-05T10:00:00+00:00"
    path.write_text(json.dumps(data))
    _, out, _ = check(path, "--home", "US", "--as-of", "report")
    assert out["viewpoint"]["as_of"] == "2026-01-05"
    assert "EU-EEVIDENCE" not in out["resources"][0]["assessment"]["foreign_reach"]


def test_bad_as_of_is_exit_2() -> None:
    result = CliRunner().invoke(app, ["explain", "aws:eu-central-1", "--as-of", "next week"])
    assert result.exit_code == 2 and "--as-of 'next week' is not a date" in result.stderr


def test_kb_check_lists_facts_due_without_failing() -> None:
    result = CliRunner().invoke(app, ["kb-check", "--as-of", "2027-12-01"])
    assert result.exit_code == 0 and "knowledge base OK" in result.stdout
    assert "re-verify instrument us-fisa-702" in result.stderr and "CLOUD Act agreement with GB" in result.stderr


# --- 4. grade by state and instrument ---------------------------------------------------------------------------


def test_a_copy_in_a_partner_state_is_not_a_copy_in_a_state_with_neither() -> None:
    ch, _ = explain("gcp:europe-west6")  # Zurich: adequacy (full scope) → partner
    assert "foreign reach CH: territorial" in "\n".join(ch["assessment"]["reasons"])
    assert "[partner state, standard → high]" in "\n".join(ch["assessment"]["reasons"])
    assert level("aws:ap-south-1") == "critical"  # Mumbai: no adequacy, and IT Act s. 69 weighs heavy


def test_the_ipa_weighs_more_than_e_evidence() -> None:
    text = reasons("aws:us-east-1", "--home", "US")
    assert "Investigatory Powers Act 2016 s. 43 [uk-ipa-2016] [partner state, heavy → medium]" in text
    assert "e-Evidence Regulation (EU) 2023/1543 [eu-e-evidence] [other state, light → low]" in text


def test_a_profile_overrides_a_cell_of_the_grid(tmp_path: Path) -> None:
    strict = profile(
        tmp_path, 'name = "g"\n[viewpoint]\nhome = ["EEA"]\n[grade.territorial.partner]\nstandard = "critical"\n'
    )
    assert level("gcp:EUR8") == "high"
    assert level("gcp:EUR8", "--profile", strict) == "critical"
    bad = profile(tmp_path, 'name = "g"\n[grade.territorial.friendly]\nstandard = "low"\n', "bad.toml")
    result = CliRunner().invoke(app, ["profiles", "validate", bad])
    assert result.exit_code == 2 and "grade.territorial.friendly" in result.stderr


def test_explain_takes_the_profile_check_takes() -> None:
    data, _ = explain("aws:us-east-1", "--profile", "us-only")
    assert data["viewpoint"] == "US"
    result = CliRunner().invoke(app, ["explain", "aws:us-east-1", "--profile", "us-only", "--home", "DE"])
    assert result.exit_code == 2 and "sets the viewpoint" in result.stderr


# --- 5. missing facts -------------------------------------------------------------------------------------------


def test_new_regimes_reach_where_they_should() -> None:
    india = reasons("aws:ap-south-1")
    assert "IT Act 2000 s. 69" in india
    assert "Assistance and Access Act 2018 (TOLA)" in reasons("aws:eu-central-1")
    china = reasons("aws:cn-north-1")
    assert "PRC Cybersecurity Law art. 28" in china and "PRC PIPL art. 41" in china
    assert "Swiss SPTA (BÜPF) [ch-spta]" in reasons("gcp:europe-west6")
    # Canada's Bill C-22 is watched, not in force: it gives no reach
    assert "C-22" not in reasons("aws:ca-central-1", "--home", "US")


def test_cloud_act_reach_through_a_us_presence(tmp_path: Path) -> None:
    assert "US" not in explain("azure:bleufrancecentral", "--home", "FR")[0]["assessment"]["foreign_reach"]
    prof = profile(
        tmp_path,
        'name = "p"\n[viewpoint]\nhome = ["FR"]\n[[override]]\noperator = "bleu"\nfield = "presence_in"\n'
        'value = ["US"]\nreason = "Counsel: the group has a US subsidiary"\n',
    )
    data, _ = explain("azure:bleufrancecentral", "--profile", prof)
    assert data["assessment"]["foreign_reach"] == ["EU-EEVIDENCE", "US"] and data["assessment"]["level"] == "low"
    assert "CLOUD Act through a US presence" in "\n".join(data["assessment"]["reasons"])


def test_eu_data_boundary_changes_no_operator() -> None:
    data, _ = explain("azure:westeurope")
    assert data["assessment"]["level"] == "high"
    assert "EU Data Boundary" in "\n".join(data["assessment"]["reasons"])


@pytest.mark.parametrize(("where", "country", "status"), [("aws:us-east-1-lim-1", "PE", "available"),
                                                         ("aws:eu-central-1-waw-1", "PL", "available"),
                                                         ("aws:sa-west-1", "CL", "announced"),
                                                         ("aws:me-west-1", "SA", "announced")])  # fmt: skip
def test_zones_and_announced_regions(where: str, country: str, status: str) -> None:
    data, _ = explain(where)
    assert data["countries"] == [country] and data["status"] == status


def test_a_local_zone_sits_in_its_own_country_not_its_parents() -> None:
    assert level("aws:us-east-1-lim-1", "--home", "US") == "critical"  # Lima, Peru: a copy abroad
    assert level("aws:eu-central-1-waw-1") == "high"  # Warsaw: home for the EU, still a US operator


def test_gcs_eu_multi_region_may_use_any_member_state() -> None:
    data, _ = explain("gcp:EU")
    assert {"IE", "DK", "DE"} <= set(data["countries"]) and len(data["countries"]) == 27


def test_plan_is_judged_at_a_date_too() -> None:
    plan = str(Path(__file__).parent / "fixtures" / "plans" / "aws.json")
    bad = CliRunner().invoke(app, ["plan", plan, "--as-of", "2026-13-01"])
    assert bad.exit_code == 2 and "is not a date" in bad.stderr
    result = CliRunner().invoke(app, ["plan", plan, "--as-of", "2026-01-01", "--format", "json"])
    assert json.loads(result.stdout)["viewpoint"]["as_of"] == "2026-01-01"


def test_an_operator_offers_services_wherever_it_runs_a_location(kb: KnowledgeBase) -> None:
    assert "CH" in kb.operators["aws"].offers_services_in  # Zurich, eu-central-2
    # so Switzerland-facing regimes and the e-Evidence bloc see AWS as offering services there
    assert "EU-EEVIDENCE" in explain("aws:eu-central-2", "--home", "CH")[0]["assessment"]["foreign_reach"]


def test_delos_is_its_own_operator_when_counsel_places_a_location_with_it(tmp_path: Path) -> None:
    prof = profile(
        tmp_path,
        'name = "d"\n[viewpoint]\nhome = ["DE"]\n[[override]]\nlocation = "azure:germanywestcentral"\n'
        'field = "operator"\nvalue = "delos"\nreason = "our tenant is on Delos Cloud (contract D-1)"\n',
    )
    microsoft, _ = explain("azure:germanywestcentral", "--home", "DE")
    delos, _ = explain("azure:germanywestcentral", "--profile", prof)
    assert "US" in microsoft["assessment"]["foreign_reach"]
    assert "US" not in delos["assessment"]["foreign_reach"] and delos["assessment"]["level"] == "low"
    assert "Delos Cloud GmbH" in "\n".join(delos["assessment"]["reasons"])


def test_e_evidence_reaches_a_provider_offering_services_only_in_denmark(tmp_path: Path) -> None:
    prof = profile(
        tmp_path,
        'name = "dk"\n[viewpoint]\nhome = ["US"]\n[[override]]\noperator = "s3ns"\nfield = "offers_services_in"\n'
        'value = ["DK"]\nreason = "test: a provider whose only market is Denmark"\n',
    )
    data, _ = explain("gcp:u-france-east1", "--profile", prof)
    assert "EU-EEVIDENCE" in data["assessment"]["foreign_reach"]  # offering services in the Union, DK included


def test_a_bad_copy_key_control_in_a_report_is_exit_2(kb: KnowledgeBase, tmp_path: Path) -> None:
    path = saved(kb, tmp_path, bucket("b", Copy("eu-central-1", CopyRole.PRIMARY)))
    data = json.loads(path.read_text())
    data["resources"][0]["footprint"][0]["key_control"] = "vault-of-gold"
    path.write_text(json.dumps(data))
    code, _, err = check(path)
    assert code == 2 and "footprint[0].key_control" in err and "vault-of-gold" in err
