"""OIDC bearer JWTs verified against the issuer's JWKS (PyJWT's PyJWKClient)."""

from __future__ import annotations

import asyncio

import jwt
from jwt import PyJWKClient


class OidcError(Exception):
    pass


class OidcVerifier:
    def __init__(self, *, issuer: str, audience: str, jwks_url: str, user_claim: str = "sub") -> None:
        self.issuer = issuer
        self.audience = audience
        self.user_claim = user_claim
        self.jwks = PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)

    @staticmethod
    def looks_like_jwt(token: str) -> bool:
        return token.count(".") == 2 and token.startswith("ey")

    def _verify(self, token: str) -> str:
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
        return user

    async def verify(self, token: str) -> str:
        """The user named by the token (JWKS fetch happens off the event loop)."""
        return await asyncio.to_thread(self._verify, token)
