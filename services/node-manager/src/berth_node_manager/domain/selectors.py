"""Label selectors (matchLabels + matchExpressions) and toleration matching, as Kubernetes evaluates them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from berth_schema.node.labels import Taint


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector dict; an empty selector matches everything (a PDB's ``{}`` selects all pods)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Taint) -> bool:
    for tol in tolerations:
        effect = tol.get("effect") or ""
        if effect and effect != taint.effect:
            continue
        op = tol.get("operator") or "Equal"
        key = tol.get("key") or ""
        if not key and op == "Exists":
            return True
        if key != taint.key:
            continue
        if op == "Exists" or (tol.get("value") or "") == taint.value:
            return True
    return False


def tolerates_all(tolerations: Iterable[Mapping[str, Any]], taints: Iterable[Taint]) -> bool:
    """True when no NoSchedule/NoExecute taint is left untolerated (PreferNoSchedule never blocks)."""
    tols = list(tolerations)
    return all(t.effect == "PreferNoSchedule" or tolerates(tols, t) for t in taints)
