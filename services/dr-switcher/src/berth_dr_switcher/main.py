"""Entry point: `berth-dr-switcher` (settings from BERTH_* variables)."""

from __future__ import annotations

from . import handlers  # noqa: F401  (declares handlers, queries and the prober on the app)
from .app import app


def main() -> None:
    app.main()


if __name__ == "__main__":
    main()
