"""`make bench`: every benchmark the issues name, printed next to its target."""

from __future__ import annotations

import importlib
import sys

from .common import help_time, line


def main() -> None:
    """Run the benchmarks; `python -m bench aws` runs one."""
    wanted = sys.argv[1:] or ["help", "check", "aws", "azure", "gcp", "inventory"]
    if "help" in wanted:
        print("CLI start-up")
        line("residency-audit --help (median of 7)", f"{help_time():.3f} s (target <= 0.2 s)")
    for name in ("check", "aws", "azure", "gcp", "inventory"):
        if name not in wanted:
            continue
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError:
            print(f"\n{name}: no benchmark yet")
            continue
        module.main()


if __name__ == "__main__":
    main()
