"""Entry point: `berth-node-manager` (settings from BERTH_* variables)."""

from __future__ import annotations

from . import handlers, joins, loops  # noqa: F401  (declare themselves on the app)
from .app import app


def main() -> None:
    app.main()


if __name__ == "__main__":
    main()
