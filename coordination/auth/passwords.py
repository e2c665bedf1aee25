"""Password hashing with argon2id.

The cost is the library's recommended one unless the app's PASSWORD_HASH_COST is "fast" (the test
suite's setting; production refuses it, see coordination/config.py). Verification reads the
parameters from the stored hash, so hashes of either cost verify under either setting.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

_HASHERS = {
    "standard": PasswordHasher(),  # argon2id with the library's recommended parameters
    # Still argon2id, at the lowest cost the library accepts: for tests that create many users.
    "fast": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}
HASH_COSTS = tuple(_HASHERS)
_DUMMIES = {cost: hasher.hash("timing-equaliser") for cost, hasher in _HASHERS.items()}


def _cost() -> str:
    if has_app_context():
        cost = current_app.config["COORD"].get("PASSWORD_HASH_COST", "standard")
        if cost in _HASHERS:
            return cost
    return "standard"


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password."""
    return _HASHERS[_cost()].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in constant time, also when there is no such user."""
    cost = _cost()
    try:
        return (
            _HASHERS[cost].verify(password_hash or _DUMMIES[cost], password)
            and password_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problems(password: str) -> list[str]:
    """Return the reasons a new password is too weak (as message ids)."""
    problems = []
    if len(password) < 12:
        problems.append("short")
    return problems
