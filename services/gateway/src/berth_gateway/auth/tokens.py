"""API tokens: ``berth_<id>_<secret>``; the store keeps a per-token salt and sha256(salt+secret)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from berth_common.store import Store

PREFIX = "berth_"
COLLECTION = "tokens"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: str
    name: str
    token: str
    expires_at: str


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX):
        return None
    rest = token[len(PREFIX) :]
    token_id, sep, secret = rest.partition("_")
    if not sep or not token_id or not secret:
        return None
    return token_id, secret


class TokenBook:
    def __init__(self, store: Store) -> None:
        self.col = store.collection(COLLECTION)

    async def issue(self, *, user: str, name: str, days: int) -> IssuedToken:
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        now = datetime.now(UTC)
        expires = (now + timedelta(days=days)).isoformat()
        await self.col.create(
            token_id,
            {
                "id": token_id,
                "user": user,
                "name": name,
                "salt": salt,
                "hash": _digest(salt, secret),
                "created_at": now.isoformat(),
                "expires_at": expires,
            },
        )
        return IssuedToken(id=token_id, name=name, token=f"{PREFIX}{token_id}_{secret}", expires_at=expires)

    async def verify(self, token: str) -> tuple[str, str] | None:
        """(user, token id) for a valid, unexpired token; None otherwise."""
        parts = split(token)
        if parts is None:
            return None
        token_id, secret = parts
        rec = await self.col.get(token_id)
        if rec is None:
            return None
        data = rec.data
        if not hmac.compare_digest(data["hash"], _digest(data["salt"], secret)):
            return None
        if datetime.fromisoformat(data["expires_at"]) <= datetime.now(UTC):
            return None
        return str(data["user"]), token_id

    async def revoke(self, token_id: str) -> None:
        await self.col.delete(token_id)

    async def list_for(self, user: str) -> list[dict[str, str]]:
        recs = await self.col.list(where={"user": user}, limit=1000)
        return [{k: r.data[k] for k in ("id", "name", "created_at", "expires_at")} for r in recs]
