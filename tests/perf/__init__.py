"""Performance tests: query counts per page, generator validity (docs/performance.md)."""
