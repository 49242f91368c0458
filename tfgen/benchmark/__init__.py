"""Benchmarks: speed measured against a baseline in the same run."""
