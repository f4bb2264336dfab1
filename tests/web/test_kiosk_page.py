"""The kiosk page: signed in once with its token, then scans; JSON for its script, pages
without it; a revoked kiosk is signed out."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import JAKARTA


@pytest.fixture
def door(app, client, clock):
    kiosk, token = app.extensions["antrian"].kiosks.create("jakarta-salemba", "Pintu", clock())
    page = client.get("/kiosk/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/kiosk/masuk", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 302
    return kiosk


def scan(client, code, json=True):
    page = client.get("/kiosk/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/kiosk/", data={"csrf_token": csrf, "code": code}, headers=headers)


def test_a_wrong_token_does_not_sign_in(client):
    page = client.get("/kiosk/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/kiosk/masuk", data={"csrf_token": csrf, "token": "nope"})
    assert response.status_code == 401 and "Token kios tidak dikenal" in response.text


def test_a_scan_answers_the_number_then_the_repeat(client, door, book, clock):
    made = book()
    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA))
    first = scan(client, made["code"].lower())
    assert first.get_json() == {"outcome": "checked_in", "queue_number": made["queue_number"],
                                "again": False}
    again = scan(client, made["code"], json=False)
    assert made["queue_number"] in again.text and "Sudah check-in sebelumnya." in again.text
    assert "session" not in again.text and door.id not in again.text


def test_refusals_say_what_to_do(client, door, book, clock):
    made = book()
    clock.set(dt.datetime(2026, 11, 24, 7, 0, tzinfo=JAKARTA))
    early = scan(client, made["code"]).get_json()
    assert (early["outcome"], early["code"]) == ("refused", "too_early")
    assert "08:00 WIB" in early["message"]
    unknown = scan(client, "ZZZZZZZZZZ", json=False)
    assert unknown.status_code == 409 and "Kode tidak dikenal" in unknown.text


def test_the_token_never_reaches_the_page_or_cookie(app, client, clock):
    _kiosk, token = app.extensions["antrian"].kiosks.create("jakarta-salemba", "Pintu", clock())
    page = client.get("/kiosk/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed = client.post("/kiosk/masuk", data={"csrf_token": csrf, "token": token})
    assert token not in signed.headers["Set-Cookie"]
    assert token not in client.get("/kiosk/").text


def test_a_revoked_kiosk_is_signed_out_at_its_next_scan(app, client, door, clock):
    app.extensions["antrian"].kiosks.revoke(door.id, clock())
    assert scan(client, "ZZZZZZZZZZ").status_code == 401
    assert "Token kios" in client.get("/kiosk/").text  # the sign-in form again
