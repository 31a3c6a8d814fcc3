"""The classifier's documented rules, on a small hand-checkable knowledge base."""

from __future__ import annotations

import pytest

from residency_audit.classify import assess, viewpoint
from residency_audit.knowledge import KnowledgeBase
from residency_audit.model import Copy, CopyRole, KeyControl, Level


def fp(kb: KnowledgeBase, *codes: str) -> list[Copy]:
    """A footprint: the first code primary, the rest replicas."""
    return [
        Copy(code, CopyRole.PRIMARY if i == 0 else CopyRole.REPLICA, kb.resolve("aws", code))
        for i, code in enumerate(codes)
    ]


@pytest.mark.parametrize(
    ("codes", "home", "key", "level", "foreign"),
    [
        # EU viewpoint, US operator in Frankfurt: US reaches through the operator (CLOUD Act) and the UK
        # through the CLOUD Act agreement; e-Evidence is home reach.
        (["eu-central-1"], ["EU"], KeyControl.PROVIDER_MANAGED, Level.HIGH, ["GB", "US"]),
        # keys as EDPB Recommendations 01/2020 read them: a customer-managed key in the provider's KMS changes
        # nothing; an external key store lowers one step; client-side keys without declared custody, one step
        (["eu-central-1"], ["EU"], KeyControl.CUSTOMER_MANAGED, Level.HIGH, ["GB", "US"]),
        (["eu-central-1"], ["EU"], KeyControl.EXTERNAL, Level.MEDIUM, ["GB", "US"]),
        (["eu-central-1"], ["EU"], KeyControl.CLIENT_SIDE, Level.MEDIUM, ["GB", "US"]),
        (["eu-central-1"], ["EU"], KeyControl.UNKNOWN, Level.HIGH, ["GB", "US"]),
        # a replica in the US: a copy sits abroad
        (["eu-central-1", "us-east-1"], ["EU"], KeyControl.PROVIDER_MANAGED, Level.CRITICAL, ["GB", "US"]),
        (["eu-central-1", "us-east-1"], ["EU"], KeyControl.CUSTOMER_MANAGED, Level.CRITICAL, ["GB", "US"]),
        # German operator, US parent: reach through the parent only
        (["eusc-de-east-1"], ["EU"], KeyControl.PROVIDER_MANAGED, Level.MEDIUM, ["GB", "US"]),
        (["eusc-de-east-1"], ["DE"], KeyControl.PROVIDER_MANAGED, Level.MEDIUM, ["EU", "GB", "US"]),
        # US viewpoint, US operator at home: only the EU's e-Evidence and the UK agreement reach from abroad
        (["us-east-1"], ["US"], KeyControl.PROVIDER_MANAGED, Level.LOW, ["EU", "GB"]),
        (["us-east-1"], ["US"], KeyControl.EXTERNAL, Level.LOW, ["EU", "GB"]),
        # trusting the EU and GB leaves nothing foreign for a US company
        (["us-east-1"], ["US", "EU", "GB"], KeyControl.PROVIDER_MANAGED, Level.NONE, []),
        # China partition from the EU: territorial and operator reach by CN
        (["cn-north-1"], ["EU"], KeyControl.PROVIDER_MANAGED, Level.CRITICAL, ["CN"]),
        (["cn-north-1"], ["CN"], KeyControl.PROVIDER_MANAGED, Level.NONE, []),
    ],
)
def test_levels(
    mini_kb: KnowledgeBase,
    codes: list[str],
    home: list[str],
    key: KeyControl,
    level: Level,
    foreign: list[str],
) -> None:
    result = assess(mini_kb, fp(mini_kb, *codes), key, viewpoint(mini_kb, home))
    assert result.level is level, result.reasons
    assert list(result.foreign_reach) == foreign


def test_unknown_location_is_worst_and_never_guessed(mini_kb: KnowledgeBase) -> None:
    view = viewpoint(mini_kb, ["EU"])
    missing = assess(mini_kb, fp(mini_kb, "eu-central-1", "mars-north-1"), KeyControl.EXTERNAL, view)
    assert missing.level is Level.UNKNOWN
    assert missing.countries == ("DE",)
    assert any("'mars-north-1' is not in the knowledge base" in r for r in missing.reasons)
    unpublished = assess(mini_kb, fp(mini_kb, "iso-secret-1"), KeyControl.PROVIDER_MANAGED, view)
    assert unpublished.level is Level.UNKNOWN
    assert any("no published country" in r for r in unpublished.reasons)
    assert assess(mini_kb, [], KeyControl.PROVIDER_MANAGED, view).level is Level.UNKNOWN
    assert Level.UNKNOWN > Level.CRITICAL > Level.HIGH > Level.MEDIUM > Level.LOW > Level.NONE


def test_reasons_cite_sources_and_laws(mini_kb: KnowledgeBase) -> None:
    result = assess(mini_kb, fp(mini_kb, "eu-central-1"), KeyControl.PROVIDER_MANAGED, viewpoint(mini_kb, ["EU"]))
    text = "\n".join(result.reasons)
    assert "sits in DE [aws]" in text
    assert "operated by US Cloud Inc., controlled from US [aws]" in text
    assert "CLOUD Act [us-cloud-act]" in text  # laws are cited by their knowledge-base id
    assert "UK agreement" in text


def test_alias_resolves(mini_kb: KnowledgeBase) -> None:
    loc = mini_kb.resolve("aws", "eu")
    assert loc is not None and loc.code == "eu-central-1"
    assert mini_kb.resolve("aws", "EU-CENTRAL-1") is loc


def test_viewpoint_rejects_unknown_tokens(mini_kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="'XX' is neither a bloc"):
        viewpoint(mini_kb, ["EU", "XX"])
    with pytest.raises(ValueError, match="at least one home"):
        viewpoint(mini_kb, [])
    assert viewpoint(mini_kb, ["eu"]).home == {"DE", "FR"}


def test_streamed_resources_never_share_a_stale_cache_entry(mini_kb: KnowledgeBase) -> None:
    """Caches keyed by object identity must stay right when the caller drops each resource as it goes."""
    from residency_audit.model import Provider, Resource
    from residency_audit.pipeline import assess_all, locate

    def stream() -> object:
        for i in range(2000):
            code = ("eu-central-1", "us-east-1", "cn-north-1")[i % 3]
            yield Resource(Provider.AWS, "1", "s3", "t", f"r{i}", f"r{i}", (Copy(code, CopyRole.PRIMARY),))

    view = viewpoint(mini_kb, ["EU"])
    for r in assess_all(mini_kb, locate(mini_kb, stream()), view):  # type: ignore[arg-type]
        expected = {"eu-central-1": ("DE",), "us-east-1": ("US",), "cn-north-1": ("CN",)}[r.footprint[0].code]
        assert r.countries == expected and r.assessment is not None and r.assessment.countries == expected
