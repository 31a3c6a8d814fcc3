"""The rule registry: every finding's rule id, name, severity, help text and remediation, in one place.

Every reporter (table, JSON, SARIF, Markdown, JUnit, HTML, CSV) reads rule metadata from here, so a rule is
described once. Ids are stable: never reuse or renumber one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How serious a finding is; `--fail-on` picks the lowest severity that fails the gate."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        """2 for error, 1 for warning, 0 for note."""
        return {"error": 2, "warning": 1, "note": 0}[self.value]


@dataclass(frozen=True)
class Rule:
    """One policy rule."""

    id: str
    name: str  # kebab-case, SARIF rule name
    title: str  # one line, shown next to the id
    help: str  # what it checks and why it matters
    remediation: str  # what to do about a finding


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "RA001",
            "copy-outside-allowed-jurisdictions",
            "copy outside allowed jurisdictions",
            "A copy of the data (the primary or a replica: a replication target, a geo-redundant pair, a member of a "
            "dual- or multi-region) sits in a country the profile does not allow for that kind of copy.",
            "Move the resource, or change its replication, redundancy SKU or dual-/multi-region to locations inside "
            "the allowed jurisdictions; or waive the finding in the profile with a reason and an expiry date.",
        ),
        Rule(
            "RA002",
            "foreign-reach-without-key-control",
            "foreign reach without key control",
            "A state outside the profile's home and trusted states can compel disclosure (where a copy sits, or "
            "through the operator or its parent under laws such as the US CLOUD Act), and the keys are not held in a "
            "way the profile accepts for that state.",
            "Choose an operator the foreign state does not control, or encrypt client-side with keys held at home "
            "or in a trusted state (tag the resource residency:encryption=client-side and declare the custody in "
            "the profile's [keys]). Keys in an external key store (AWS KMS XKS, Google Cloud EKM, HYOK) help only "
            "if the profile accepts them: the provider still fetches the key and holds plaintext while serving "
            "reads; a customer-managed key in the provider's own KMS does not help. Every copy counts: re-encrypt "
            "replicas with the same keys. Or waive the finding with a reason and an expiry date.",
        ),
        Rule(
            "RA003",
            "exposure-above-tolerated-level",
            "exposure above tolerated level",
            "The resource's exposure level (none < low < medium < high < critical < unknown) is above the highest "
            "level the profile tolerates for its data classification.",
            "Lower the exposure: keep every copy at home, prefer operators under home control, or hold the keys "
            "outside the provider.",
        ),
        Rule(
            "RA004",
            "unknown-location",
            "copy in an unknown location",
            "A copy's location is not in the knowledge base, or its country is not published. residency-audit never "
            "guesses a location from its name.",
            "Check where the location is and add it to the knowledge base with a source (or to the profile's "
            "overrides); until then the copy counts as the profile's `unknown` setting says.",
        ),
        Rule(
            "RA005",
            "expired-waiver",
            "expired waiver",
            "A waiver in the profile has passed its expiry date, so the findings it waived count again.",
            "Fix the waived findings, or renew the waiver with a new reason and expiry date.",
        ),
    )
}


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError for an unknown id."""
    return RULES[rule_id]
