"""OIDC bearer JWTs verified against the issuer's JWKS (PyJWT's PyJWKClient)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import jwt
from jwt import PyJWKClient


class OidcError(Exception):
    pass


MAX_GROUPS = 100  # a token listing more groups than this is refused rather than half-read


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()


class OidcVerifier:
    def __init__(
        self, *, issuer: str, audience: str, jwks_url: str, user_claim: str = "sub", groups_claim: str = "groups"
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.user_claim = user_claim
        self.groups_claim = groups_claim
        self.jwks = PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)

    @staticmethod
    def looks_like_jwt(token: str) -> bool:
        return token.count(".") == 2 and token.startswith("ey")

    def _verify(self, token: str) -> Identity:
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise OidcError(f"invalid OIDC token: {exc}") from None
        user = claims.get(self.user_claim)
        if not isinstance(user, str) or not user:
            raise OidcError(f"OIDC token has no {self.user_claim!r} claim")
        return Identity(user=user, groups=self._groups(claims.get(self.groups_claim)))

    def _groups(self, raw: object) -> tuple[str, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(g, str) and g for g in raw):
            raise OidcError(f"OIDC token's {self.groups_claim!r} claim must be a list of group names")
        if len(raw) > MAX_GROUPS:
            raise OidcError(f"OIDC token lists more than {MAX_GROUPS} groups in {self.groups_claim!r}")
        return tuple(sorted(set(raw)))

    async def verify(self, token: str) -> Identity:
        """Who the token names and their groups (JWKS fetch happens off the event loop)."""
        return await asyncio.to_thread(self._verify, token)
