"""Payments and the annual fund-use report."""
