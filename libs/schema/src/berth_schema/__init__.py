"""Berth's shared schema: every message that crosses a process boundary.

One package per domain (``cluster``, ``node``, ``registry``, ``release``, ``alert``, ``dr``),
each holding the commands its service accepts, the facts it publishes, the request and reply
models of the queries it answers, and the value objects those carry. Importing this package
registers all of them with ``berth_common.events.registry``; ``wiring`` says who publishes and
who consumes each subject, and ``contract`` renders proto/ from these alone.
"""

from . import alert, cluster, dr, node, registry, release

DOMAINS = ("cluster", "node", "registry", "release", "alert", "dr")

__all__ = ["DOMAINS", "alert", "cluster", "dr", "node", "registry", "release"]
