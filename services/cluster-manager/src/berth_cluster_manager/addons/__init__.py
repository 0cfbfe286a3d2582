"""Addons installed in tenant clusters with Helm from the charts shipped in this package."""
