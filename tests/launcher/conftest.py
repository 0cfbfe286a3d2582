"""The CLI tests share fake_gateway.py (a module beside them, not a package)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
