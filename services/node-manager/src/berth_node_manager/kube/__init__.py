"""Kubernetes adapters (kubernetes_asyncio): nodes, drain through the Eviction API, node watch."""
