"""Gather's website and management UI on Tornado (docs/web.md)."""
