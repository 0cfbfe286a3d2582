"""The CLI tests run the commands against tests/launcher/fake_gateway.py (a module, not a package)
and check each body with the gateway's own body rules (gateway_check.py beside them)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "launcher"))
