"""residency-audit: where every copy of your cloud data lives, and who can compel it."""

__version__ = "0.1.0"
