"""registry-sync's domain: registries, replication policies and their filters, executions, registry DR.
Pure logic; no I/O."""
