"""The table of resources the CLI offers beyond the hand-written groups: resource -> gateway paths."""

from __future__ import annotations

from ..spec import Resource
from . import alert, cluster, dr, platform, registry, release

RESOURCES: tuple[Resource, ...] = (
    *cluster.RESOURCES,
    *registry.RESOURCES,
    *release.RESOURCES,
    *alert.RESOURCES,
    *dr.RESOURCES,
    *platform.RESOURCES,
)
