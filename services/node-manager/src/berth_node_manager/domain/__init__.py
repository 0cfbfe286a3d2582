"""node-manager's pure domain: pools, node rows, drain/upgrade/repair plans, autoscaler decisions.

Nothing here talks to Kubernetes, NATS or a store; adapters feed it plain dicts and clocks."""
