"""Tender tables (filled in by the tender issue)."""
