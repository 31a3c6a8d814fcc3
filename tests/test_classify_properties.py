"""Invariants of the classifier that keep a weaker estate from ever scoring better (no false pass by arithmetic)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from residency_audit.classify import assess, viewpoint
from residency_audit.knowledge import load
from residency_audit.model import Copy, CopyRole, KeyControl, Level

KB = load()
CODES = sorted({loc.key for loc in KB.locations})[::7]  # a spread of every provider's locations
KEYS = [KeyControl.PROVIDER_MANAGED, KeyControl.CUSTOMER_MANAGED, KeyControl.EXTERNAL, KeyControl.CLIENT_SIDE]
HOMES = [["EEA"], ["US"], ["DE"], ["BR"], ["CN"], ["GB"]]
DAYS = [date(2026, 1, 1), date(2026, 11, 29), date(2032, 1, 1)]


def copies(keys: list[str]) -> tuple[Copy, ...]:
    out = []
    for i, key in enumerate(keys):
        provider, _, code = key.partition(":")
        loc = KB.resolve(provider, code)
        out.append(Copy(code, CopyRole.PRIMARY if i == 0 else CopyRole.REPLICA, loc))
    return tuple(out)


footprints = st.lists(st.sampled_from(CODES), min_size=1, max_size=3)


@settings(max_examples=80, deadline=None)
@given(fp=footprints, extra=st.sampled_from(CODES), home=st.sampled_from(HOMES), day=st.sampled_from(DAYS),
       key=st.sampled_from(KEYS))  # fmt: skip
def test_another_copy_never_lowers_the_level(fp: list[str], extra: str, home: list[str], day: date,
                                             key: KeyControl) -> None:  # fmt: skip
    view = viewpoint(KB, home, at=day)
    assert assess(KB, copies([*fp, extra]), key, view).level >= assess(KB, copies(fp), key, view).level


@settings(max_examples=80, deadline=None)
@given(fp=footprints, home=st.sampled_from(HOMES), day=st.sampled_from(DAYS),
       keys=st.lists(st.sampled_from(KEYS), min_size=2, max_size=2, unique=True))  # fmt: skip
def test_weaker_keys_never_score_better(fp: list[str], home: list[str], day: date, keys: list[KeyControl]) -> None:
    weak, strong = sorted(keys, key=KEYS.index)
    view = viewpoint(KB, home, at=day)
    assert assess(KB, copies(fp), weak, view).level >= assess(KB, copies(fp), strong, view).level


@settings(max_examples=80, deadline=None)
@given(fp=footprints, home=st.sampled_from(HOMES), key=st.sampled_from(KEYS), weak=st.sampled_from(KEYS))
def test_one_copy_with_weaker_keys_never_scores_better(fp: list[str], home: list[str], key: KeyControl,
                                                       weak: KeyControl) -> None:  # fmt: skip
    view = viewpoint(KB, home)
    plain = copies(fp)
    mixed = (plain[0], *(Copy(c.code, c.role, c.location, key_control=weak) for c in plain[1:]))
    if KEYS.index(weak) <= KEYS.index(key):
        assert assess(KB, mixed, key, view).level >= assess(KB, plain, key, view).level


@settings(max_examples=60, deadline=None)
@given(fp=footprints, home=st.sampled_from(HOMES), trust=st.sampled_from(["CH", "GB", "US", "JP", "IN"]))
def test_trusting_a_state_never_raises_the_level(fp: list[str], home: list[str], trust: str) -> None:
    before = assess(KB, copies(fp), KeyControl.PROVIDER_MANAGED, viewpoint(KB, home))
    after = assess(KB, copies(fp), KeyControl.PROVIDER_MANAGED, viewpoint(KB, home, [trust]))
    assert after.level <= before.level or after.level is Level.UNKNOWN
