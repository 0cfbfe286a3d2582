"""--help examples: the epilog every command carries."""

from __future__ import annotations

from collections.abc import Sequence


def epilog(examples: Sequence[str]) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in examples)
