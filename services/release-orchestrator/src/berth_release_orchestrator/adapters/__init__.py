"""Adapters to the outside: Kubernetes, Prometheus, Helm."""
