"""Entry point: `berth-monitor-alert` (settings from BERTH_* variables)."""

from __future__ import annotations

from . import handlers  # noqa: F401  (declares handlers, queries and loops on the app)
from .app import app


def main() -> None:
    app.main()


if __name__ == "__main__":
    main()
