"""Entry point: `berth-release-orchestrator` (settings from BERTH_* and BERTH_RO_* variables)."""

from __future__ import annotations

from . import handlers, queries  # noqa: F401  (declare handlers, queries and the runner on the app)
from .app import app


def main() -> None:
    app.main()


if __name__ == "__main__":
    main()
