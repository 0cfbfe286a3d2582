"""Authentication (API tokens, OIDC JWTs, the bootstrap admin token) and role checks."""
