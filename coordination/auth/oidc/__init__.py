"""Signing in with the organisation's e-identification over OpenID Connect (DOMAIN.md §15)."""
