"""Kubernetes resource quantities ("1430m", "1587Mi", "4Gi", "2") as Decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
GIB = Decimal(2**30)


def parse_quantity(value: str | int | float) -> Decimal:
    """Parse a quantity into base units (cores, bytes); ValueError names the bad text."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = value.strip()
    try:
        for suffix, factor in _BINARY.items():
            if text.endswith(suffix):
                return Decimal(text[: -len(suffix)]) * factor
        if text and text[-1] in _DECIMAL and not text[-2:-1].isalpha():
            return Decimal(text[:-1]) * _DECIMAL[text[-1]]
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"invalid resource quantity {value!r}") from None


def cores(value: str | int | float | None) -> Decimal:
    return parse_quantity(value) if value not in (None, "") else Decimal(0)


def gib(value: str | int | float | None) -> Decimal:
    return (parse_quantity(value) / GIB) if value not in (None, "") else Decimal(0)
