"""The shipped-image harness: each service's environment built as its image builds it, the
chart's settings, and an HTTP client for the gateway (see tests/e2e/test_shipped_images.py)."""
