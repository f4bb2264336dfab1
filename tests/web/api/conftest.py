"""Fixtures of the JSON API tests."""

import pytest

from queue_service.domain.accounts import NATIONAL_ADMIN


@pytest.fixture
def token(app):
    """``token(role, *branches)``: a new account of that role, its bearer header."""
    accounts = app.extensions["antrian"].accounts
    counter = iter(range(1000))

    def make(role: str = NATIONAL_ADMIN, *branches: str) -> dict:
        _account, secret = accounts.create(f"user{next(counter)}", role, branches)
        return {"Authorization": f"Bearer {secret}"}

    return make
