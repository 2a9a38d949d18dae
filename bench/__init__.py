"""Benchmarks and synthetic data at national scale (see docs/performance.md)."""
