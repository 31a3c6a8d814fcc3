"""The layout rule the brief sets: small modules with one job each, none over ~400 lines.

A module past the limit is where a store family, a reader or a connector has started to grow into
another's job; the test names every such module so the split happens while it is cheap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 400


def _over_limit(tree: str) -> tuple[int, dict[str, int]]:
    """How many modules `tree` holds, and each one over the limit with its line count."""
    modules = sorted((ROOT / tree).rglob("*.py"))
    counts = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in modules}
    return len(modules), {path: n for path, n in counts.items() if n > LIMIT}


@pytest.mark.parametrize(("tree", "at_least"), [("residency_audit", 50), ("tests/servers", 10)])
def test_no_module_over_the_limit(tree: str, at_least: int) -> None:
    found, over = _over_limit(tree)
    # a moved tree must fail here, not pass with nothing to check
    assert found >= at_least, f"only {found} modules found under {tree}/"
    listing = ", ".join(f"{path} ({n} lines)" for path, n in sorted(over.items()))
    assert not over, f"modules over {LIMIT} lines under {tree}/, split each by a clean seam: {listing}"
