"""The participant registry on the booking form and the console: the form goes
through the same one booking call as the API, so a rejected pair is said beside the KPJ
field, and a booking made without the registry's verdict is flagged in the day's list."""

from __future__ import annotations

import re

import pytest

from queue_service.domain.accounts import BRANCH_ADMIN
from queue_service.store import keys
from tests.fake_registry import LATE_SECONDS

PASSWORD = "kata sandi panjang"


@pytest.fixture
def settings(settings, registry_settings):
    return {**settings, **registry_settings}


def text(response) -> str:
    return response.get_data(as_text=True)


def day_bookings(redis):
    return redis.lrange(keys.day_bookings("jakarta-salemba", "2026-11-24"), 0, -1)


def test_a_rejected_pair_is_said_beside_the_kpj_field_and_books_nothing(book_page, registry, person, redis):
    registry.valid = False

    response = book_page()

    html = text(response)
    assert response.status_code == 422
    assert "Ada isian yang tidak valid." in html
    assert (
        '<p class="error" id="e-kpj">Nomor KPJ tidak cocok dengan data peserta untuk NIK dan nama ini.</p>'
        in html
    )
    assert 'id="e-nik"' not in html and f'value="{person["kpj"]}"' in html
    assert registry.asked == [{"nik": person["nik"], "kpj": person["kpj"], "name": person["name"]}]
    assert day_bookings(redis) == []


def test_the_rejection_is_said_in_english_too(client, book_page, registry):
    registry.valid = False
    client.get("/?lang=en")

    html = text(book_page())

    assert "The KPJ number does not match the participant records for this NIK and name." in html


@pytest.mark.parametrize("registry_failure", ["closed"])
def test_a_registry_without_a_verdict_failing_closed_shows_the_form_again_with_a_503(
    book_page, registry, redis
):
    registry.slow(LATE_SECONDS)

    response = book_page()
    registry.settle()

    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert "Layanan sedang tidak tersedia. Coba lagi sebentar lagi." in text(response)
    assert day_bookings(redis) == []


def test_the_console_flags_a_booking_made_without_the_registrys_verdict(app, client, book_page, registry):
    registry.slow(LATE_SECONDS)
    assert book_page().status_code == 303
    registry.settle()
    app.extensions["antrian"].accounts.create("siti", BRANCH_ADMIN, ("jakarta-salemba",), password=PASSWORD)
    page = client.get("/admin/masuk").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/admin/masuk", data={"csrf_token": token, "username": "siti", "password": PASSWORD})

    listed = text(client.get("/admin/cabang/jakarta-salemba/antrian?tanggal=2026-11-24"))

    assert "tanpa cek registri peserta" in listed
