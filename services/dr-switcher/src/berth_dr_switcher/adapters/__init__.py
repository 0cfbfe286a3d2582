"""Adapters to the outside: PowerDNS, Kubernetes Ingress objects, health probes."""
