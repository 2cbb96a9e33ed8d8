"""Bearer-token security: RS256 JWTs from the federation's issuer, `aud = bigschool:<node>`."""

from shared.auth.principal import Principal, Role

__all__ = ["Principal", "Role"]
