"""Entry point: `berth-registry-sync` (settings from BERTH_* variables)."""

from __future__ import annotations

from .app import app as app
from .bootstrap import bootstrap


def main() -> None:
    bootstrap().main()


if __name__ == "__main__":
    main()
