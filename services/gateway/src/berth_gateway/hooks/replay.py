"""Chat signatures are single-use: each (platform, timestamp, signature) is remembered in the
gateway's store (shared by its replicas) for the replay window, and a second use is refused."""

from __future__ import annotations

import hashlib
import logging
import time

from berth_common.store import AlreadyExists, NotFound, Store

from ..problems import ApiError

COLLECTION = "chat_replay"
PURGE_EVERY = 50  # remembered signatures older than the window are purged every this many uses
log = logging.getLogger(__name__)


class ReplayBook:
    def __init__(self, store: Store) -> None:
        self.col = store.collection(COLLECTION)
        self._uses = 0

    async def use_once(self, *, platform: str, timestamp_s: int, signature: str, window_s: int) -> None:
        """Remember this signature; 401 if it was used before (within the window it stays valid)."""
        digest = hashlib.sha256(f"{timestamp_s}\n{signature}".encode()).hexdigest()
        # keys sort by platform, then time: the oldest come first when purging
        key = f"{platform}|{max(timestamp_s, 0):012d}|{digest}"
        try:
            await self.col.create(key, {"platform": platform, "at": timestamp_s, "used_at": time.time()})
        except AlreadyExists:
            raise ApiError(401, f"this {platform} request signature was already used (a replay)") from None
        self._uses += 1
        if self._uses % PURGE_EVERY == 0:
            await self.purge(platform=platform, window_s=window_s)

    async def purge(self, *, platform: str, window_s: int, now_s: float | None = None) -> int:
        """Forget signatures whose timestamp left the window (they are refused by time anyway)."""
        cutoff = (time.time() if now_s is None else now_s) - 2 * window_s
        gone = 0
        for rec in await self.col.list(where={"platform": platform}, limit=500):
            if rec.data["at"] >= cutoff:
                break
            try:
                await self.col.delete(rec.key)
                gone += 1
            except NotFound:
                continue  # another replica purged it
        return gone
