"""Benchmarks (`make bench`), separate from the tests."""
