"""Adapters to the outside: chat robots over HTTP, SMTP, Alertmanager and Prometheus APIs."""
