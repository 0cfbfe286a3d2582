#!/usr/bin/env bash
# Puts uv on PATH (from PyPI when missing) and syncs the workspace from uv.lock.
set -euo pipefail
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5" >&2
  export PATH="$HOME/.local/bin:$PATH"
fi
cd "$(dirname "$0")/.."
uv sync --frozen --all-packages --quiet >&2
