"""A Terraform plan, read and assessed before anything is deployed (file.py reads, reader.py interprets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from ..knowledge import KnowledgeBase
    from ..model import Viewpoint
    from ..pipeline import ScanResult
    from ..report import Meta


def assess_plan(plan_file: Path, kb: KnowledgeBase, view: Viewpoint) -> tuple[ScanResult, Meta]:
    """The plan's resources located and assessed, and the report's origin listing what was not evaluated.

    Raises PlanError (naming the file and field) for a plan that cannot be read.
    """
    from dataclasses import asdict
    from datetime import UTC, datetime

    from ..pipeline import ScanResult, assess_all, locate
    from ..report import Meta
    from .file import load
    from .gaps import plan_skips
    from .reader import plan_found, read_plan

    data = load(plan_file)
    resources, not_evaluated = read_plan(data, str(plan_file))
    now = datetime.now(UTC)
    found = plan_found(str(plan_file), resources, not_evaluated)
    skipped = plan_skips(data, str(plan_file))  # Terraform's own word that the plan is not the whole configuration
    result = ScanResult(tuple(assess_all(kb, locate(kb, resources), view)), skipped, found)
    return result, Meta("plan", str(plan_file), now, now, tuple(asdict(n) for n in not_evaluated))
