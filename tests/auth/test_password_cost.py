"""The password hash's cost: recommended except in the test suite, never cheap in production."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError

from coordination.auth.passwords import hash_password, verify_password
from coordination.config import DEFAULTS, load_settings

RECOMMENDED = PasswordHasher()


def _parameters(password_hash: str) -> tuple[int, int, int]:
    from argon2 import extract_parameters

    found = extract_parameters(password_hash)
    return found.time_cost, found.memory_cost, found.parallelism


def test_an_app_hashes_at_the_recommended_cost_unless_told_otherwise(app, monkeypatch):
    assert DEFAULTS["PASSWORD_HASH_COST"] == "standard"
    monkeypatch.setitem(app.config["COORD"], "PASSWORD_HASH_COST", "standard")
    password_hash = hash_password("correct horse battery")
    assert password_hash.startswith("$argon2id$")
    recommended = (RECOMMENDED.time_cost, RECOMMENDED.memory_cost, RECOMMENDED.parallelism)
    assert _parameters(password_hash) == recommended


def test_the_test_suite_hashes_cheaply_and_either_cost_verifies_under_either(app, monkeypatch):
    assert app.config["COORD"]["PASSWORD_HASH_COST"] == "fast"
    cheap = hash_password("correct horse battery")
    assert cheap.startswith("$argon2id$")
    assert _parameters(cheap)[1] < RECOMMENDED.memory_cost
    recommended = RECOMMENDED.hash("correct horse battery")
    for cost in ("fast", "standard"):
        monkeypatch.setitem(app.config["COORD"], "PASSWORD_HASH_COST", cost)
        for stored in (cheap, recommended):
            assert verify_password(stored, "correct horse battery")
            assert not verify_password(stored, "wrong horse battery")
        assert not verify_password(None, "correct horse battery")


def test_production_refuses_cheap_hashing():
    production = {"ENV": "production", "SECRET_KEY": "s", "DATABASE_URL": "postgresql://x/y"}
    assert load_settings(production, environ={})["PASSWORD_HASH_COST"] == "standard"
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_COST"):
        load_settings({**production, "PASSWORD_HASH_COST": "fast"}, environ={})
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_COST"):
        load_settings(production, environ={"COORD_PASSWORD_HASH_COST": "fast"})
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_COST"):
        load_settings({"PASSWORD_HASH_COST": "cheapest"}, environ={})


def test_a_malformed_hash_never_verifies():
    with pytest.raises(InvalidHashError):
        RECOMMENDED.verify("not-a-hash", "x")
    assert not verify_password("not-a-hash", "x")
