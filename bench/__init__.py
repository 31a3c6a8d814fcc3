"""Benchmarks (`make bench`): figures the issues name, measured against the local test servers."""
