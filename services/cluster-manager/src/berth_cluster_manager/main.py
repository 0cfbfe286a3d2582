"""Entry point: `berth-cluster-manager` (settings from BERTH_* and BERTH_CM_* variables)."""

from __future__ import annotations

from .app import app
from .bootstrap import bootstrap

__all__ = ["app", "main"]


def main() -> None:
    bootstrap().main()


if __name__ == "__main__":
    main()
