"""Fixtures of the page tests: a participant who goes through the forms."""

from __future__ import annotations

import pytest

from tests.conftest import make_nik
from tests.pages.forms import form

DETAILS = "/pesan?branch_id=jakarta-salemba&service_id=jht&date=2026-11-24&slot=09:00"


@pytest.fixture
def person():
    """What a participant types in the details form."""
    return {"name": "Budi Santoso", "nik": make_nik(), "kpj": "12345678901",
            "phone": "081234567890", "email": "", "captcha_answer": "12345"}


@pytest.fixture
def details_form(client):
    """The details form's fields (hidden ones included) for a place: ``details_form()``."""

    def fetch(path: str = DETAILS) -> dict:
        response = client.get(path)
        assert response.status_code == 200
        return form(response.get_data(as_text=True), "/pesan")

    return fetch


@pytest.fixture
def book_page(client, details_form, person):
    """Send the details form filled in: ``book_page(nik=...)`` returns the response."""

    def send(path: str = DETAILS, **typed):
        fields = {**details_form(path), **person, **typed}
        return client.post("/pesan", data={**fields, "action": "book"})

    return send
