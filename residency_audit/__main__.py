"""`python -m residency_audit`."""

from residency_audit.cli import main

main()
