"""The bundled knowledge base: integrity, coverage of the installed botocore, and the traps users hit."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest

from residency_audit.kbcheck import botocore_regions, check
from residency_audit.knowledge import KnowledgeBase, KnowledgeError, load_from
from residency_audit.model import LocationKind, Provider

from .conftest import mini_docs


def test_bundled_knowledge_base_is_sound(kb: KnowledgeBase) -> None:
    assert check(kb, botocore_regions()) == []


def test_every_botocore_region_is_known(kb: KnowledgeBase) -> None:
    regions = botocore_regions()
    partitions = {p for p, _ in regions}
    assert {"aws", "aws-cn", "aws-us-gov", "aws-eusc"} <= partitions
    for _, region in regions:
        loc = kb.resolve(Provider.AWS, region)
        assert loc is not None and loc.code == region


def test_a_new_botocore_region_is_named(kb: KnowledgeBase) -> None:
    problems = check(kb, [*botocore_regions(), ("aws", "xx-future-1")])
    assert len(problems) == 1
    assert "'xx-future-1' (partition aws)" in problems[0] and "aws.toml" in problems[0]


@pytest.mark.parametrize(
    ("provider", "code", "expected", "countries"),
    [
        ("aws", "", "us-east-1", ["US"]),  # S3 LocationConstraint null
        ("aws", "EU", "eu-west-1", ["IE"]),  # S3 legacy constraint
        ("aws", "eu-west-2", "eu-west-2", ["GB"]),  # an eu- prefix is not the EU
        ("aws", "eu-central-2", "eu-central-2", ["CH"]),
        ("aws", "me-central-1", "me-central-1", ["AE"]),
        ("aws", "me-south-1", "me-south-1", ["BH"]),
        ("aws", "cn-northwest-1", "cn-northwest-1", ["CN"]),
        ("azure", "West Europe", "westeurope", ["NL"]),  # display names resolve
        ("azure", "brazilsouth", "brazilsouth", ["BR"]),
    ],
)
def test_traps(kb: KnowledgeBase, provider: str, code: str, expected: str, countries: list[str]) -> None:
    loc = kb.resolve(provider, code)
    assert loc is not None
    assert loc.code == expected
    assert list(loc.countries) == countries


def test_azure_pairs_are_one_way_as_published(kb: KnowledgeBase) -> None:
    brazil = kb.resolve("azure", "brazilsouth")
    texas = kb.resolve("azure", "southcentralus")
    assert brazil is not None and texas is not None
    assert brazil.paired_region == "southcentralus" and texas.countries == ("US",)
    assert texas.paired_region == "northcentralus"
    newer = kb.resolve("azure", "italynorth")
    assert newer is not None and newer.paired_region is None


def test_operators_outside_the_us(kb: KnowledgeBase) -> None:
    china = kb.resolve("aws", "cn-north-1")
    sovereign = kb.resolve("aws", "eusc-de-east-1")
    assert china is not None and china.controlled_from == ("CN",)
    assert sovereign is not None and sovereign.controlled_from == ("DE",)
    assert sovereign.operator.parent_controlled_from == ("US",)
    vianet = kb.resolve("azure", "chinanorth3")
    assert vianet is not None and vianet.controlled_from == ("CN",)


def test_blocs_and_adequacy(kb: KnowledgeBase) -> None:
    assert len(kb.blocs["EU"].members) == 27
    assert kb.blocs["EU"].members < kb.blocs["EEA"].members
    assert {"IS", "LI", "NO"} == kb.blocs["EEA"].members - kb.blocs["EU"].members
    assert kb.adequacy_for("CH") is not None and kb.adequacy_for("CN") is None
    assert {g.partner for g in kb.agreements} >= {"GB", "AU"}


def test_every_fact_has_source_and_date(kb: KnowledgeBase) -> None:
    for loc in kb.locations:
        assert loc.sources and isinstance(loc.as_of, dt.date), loc.key
    for op in kb.operators.values():
        assert op.sources and isinstance(op.as_of, dt.date), op.id
    for ins in kb.instruments.values():
        assert ins.sources and ins.citation, ins.id


def test_unknown_is_unknown(kb: KnowledgeBase) -> None:
    assert kb.resolve("aws", "mars-north-1") is None
    assert kb.resolve("gcp", "eu-west-1") is None  # another cloud's code is not guessed across providers
    assert "aws:eu-central-1" in kb.suggest("aws", "eu-centrl-1")


def test_multi_regions_list_member_countries(kb: KnowledgeBase) -> None:
    for loc in kb.locations:
        if loc.kind is not LocationKind.REGION and loc.members:
            members = [kb.resolve(loc.provider, m) for m in loc.members]
            assert all(members), loc.key
            assert set(loc.countries) == {c for m in members if m for c in m.countries}


# --- the loader and the checks refuse bad data, naming where ---------------------------------------------------


def _broken(edit: str) -> dict:
    docs = copy.deepcopy(mini_docs())
    locs = docs["aws.toml"]["locations"]
    if edit == "unknown-field":
        locs[0]["colour"] = "blue"
    elif edit == "missing-field":
        del locs[0]["countries"]
    elif edit == "bad-type":
        locs[0]["countries"] = "DE"
    elif edit == "bad-kind":
        locs[0]["kind"] = "area"
    elif edit == "bad-operator":
        locs[0]["operator"] = "nobody"
    elif edit == "no-sources":
        locs[0]["sources"] = []
    elif edit == "bad-date":
        locs[0]["as_of"] = "yesterday"
    return docs


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("unknown-field", "aws.toml: locations[eu-central-1]: unknown field(s) colour"),
        ("missing-field", "aws.toml: locations[eu-central-1]: missing field 'countries'"),
        ("bad-type", "field 'countries' must be list"),
        ("bad-kind", "field 'kind' must be one of region, dual-region, multi-region, zone, got 'area'"),
        ("bad-operator", "operator 'nobody' is not defined"),
        ("no-sources", "must cite at least one source"),
        ("bad-date", "field 'as_of' must be date"),
    ],
)
def test_loader_names_the_problem(edit: str, message: str) -> None:
    with pytest.raises(KnowledgeError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_from(_broken(edit))


def test_checks_find_integrity_problems(mini_kb: KnowledgeBase) -> None:
    loc = mini_kb.locations[0]
    bad = dataclasses.replace(
        mini_kb,
        locations=(
            dataclasses.replace(loc, countries=("XX",), sources=("nowhere",)),
            dataclasses.replace(loc, name="other"),
            *mini_kb.locations[1:],
        ),
        citations=(*mini_kb.citations, ("aws.toml", "locations[eu-central-1]", "nowhere")),
    )
    problems = "\n".join(check(bad))
    assert "cites undefined source 'nowhere'" in problems
    assert "country 'XX' is not a known ISO code" in problems
    assert "location code 'eu-central-1' is defined 2 times" in problems
    assert check(mini_kb) == []
