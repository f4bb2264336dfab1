"""The kiosk page: signed in once with its token, then scans; JSON for its script, pages
without it; a revoked kiosk is signed out."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from queue_service.domain.accounts import COUNTER_STAFF
from tests.factories import JAKARTA


@pytest.fixture
def door(app, client, clock):
    kiosk, token = app.extensions["antrian"].kiosks.create("jakarta-salemba", "Pintu", clock())
    page = client.get("/kiosk/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/kiosk/masuk", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 302
    return kiosk


@pytest.fixture
def staff_token(app):
    _account, token = app.extensions["antrian"].accounts.create(
        "petugas", COUNTER_STAFF, ("jakarta-salemba",)
    )
    return token


def scan(client, code, json=True, **fields):
    page = client.get("/kiosk/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/kiosk/", data={"csrf_token": csrf, "code": code, **fields}, headers=headers)


def test_a_wrong_token_does_not_sign_in(client):
    page = client.get("/kiosk/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/kiosk/masuk", data={"csrf_token": csrf, "token": "nope"})
    assert response.status_code == 401 and "Token kios tidak dikenal" in response.text


def test_a_scan_answers_the_number_then_the_repeat(client, door, book, clock):
    made = book()
    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA))
    first = scan(client, made["code"].lower())
    assert first.get_json() == {
        "outcome": "checked_in",
        "queue_number": made["queue_number"],
        "again": False,
        "priority": False,
    }
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


def test_a_participant_marked_priority_at_check_in_waits_in_the_priority_line(app, client, door, book, clock):
    first, made = book(slot="08:30"), book()
    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA))
    scan(client, first["code"])
    answer = scan(client, made["code"], priority="1").get_json()
    assert (answer["outcome"], answer["priority"]) == ("checked_in", True)
    view = app.extensions["antrian"].live_queue.view("jakarta-salemba", clock())
    assert [(w.queue_number, w.priority) for w in view.waiting] == [
        (made["queue_number"], True),
        (first["queue_number"], False),
    ]
    # The public feed shows the order, never the mark (SPEC §3).
    waiting = client.get("/api/v1/branches/jakarta-salemba/queue").get_json()["waiting"]
    assert [w["queue_number"] for w in waiting] == [made["queue_number"], first["queue_number"]]
    assert all("priority" not in w for w in waiting)


def test_a_rescan_marked_priority_after_being_served_still_answers_the_check_in(
    client, door, book, clock, staff_token
):
    made = book()
    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA))
    scan(client, made["code"])
    desk = {"Authorization": f"Bearer {staff_token}"}
    called = client.post("/api/v1/counter/calls", json={"counter": "Loket 1"}, headers=desk)
    assert called.get_json()["queue_number"] == made["queue_number"]
    client.post(f"/api/v1/counter/calls/{made['queue_number']}/served", headers=desk)

    answer = scan(client, made["code"], priority="1").get_json()

    assert answer == {
        "outcome": "checked_in",
        "queue_number": made["queue_number"],
        "again": True,
        "priority": False,
    }


def walk_in_form(client) -> dict:
    page = client.get("/kiosk/").get_data(as_text=True)
    form = page[page.index('action="/kiosk/langsung"') :]
    return {
        name: re.search(rf'name="{name}" value="([^"]+)"', form).group(1)
        for name in ("csrf_token", "request_token")
    }


def test_a_walk_in_ticket_from_the_page_and_a_form_sent_twice_issues_one(
    app, client, door, clock, tune_branch
):
    tune_branch("jakarta-salemba", daily_quota=4, walk_in_share=20)  # one place
    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA))
    page = client.get("/kiosk/").get_data(as_text=True)
    assert "Klaim Jaminan Hari Tua (JHT)" in page and "Sisa kuota antrian langsung hari ini: 1" in page
    form = {**walk_in_form(client), "service_id": "jht"}
    first = client.post("/kiosk/langsung", data=form)
    assert first.status_code == 200 and "WA-001" in first.text
    again = client.post("/kiosk/langsung", data=form)
    assert "WA-001" in again.text and "WA-002" not in again.text
    assert "Kuota antrian langsung hari ini sudah habis." in again.text
    # A kiosk page opened before the last place went: its form is refused.
    refused = client.post("/kiosk/langsung", data={**form, "request_token": "another"})
    assert refused.status_code == 409 and "sudah habis" in refused.text


def test_walk_ins_are_refused_when_the_branch_does_not_serve(client, door, clock):
    clock.set(dt.datetime(2026, 11, 24, 22, 0, tzinfo=JAKARTA))
    refused = client.post("/kiosk/langsung", data={**walk_in_form(client), "service_id": "jht"})
    assert refused.status_code == 409
    assert "Kantor cabang tidak melayani saat ini." in refused.text
