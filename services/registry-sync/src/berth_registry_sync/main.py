"""Entry point: `berth-registry-sync` (settings from BERTH_* variables)."""

from __future__ import annotations

from . import handlers, scheduler  # noqa: F401  (they declare handlers, queries and loops on the app)
from .app import app


def main() -> None:
    app.main()


if __name__ == "__main__":
    main()
