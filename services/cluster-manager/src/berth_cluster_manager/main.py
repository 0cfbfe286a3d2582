"""Entry point: `berth-cluster-manager` (settings from BERTH_* and BERTH_CM_* variables)."""

from __future__ import annotations

from . import handlers  # noqa: F401  (declares the commands and queries on app)
from .app import app


def main() -> None:
    app.main()


if __name__ == "__main__":
    main()
