"""Kiosk check-in (SPEC §3 "Kiosk"): tokens, the window around the slot in WIB, WITA and WIT,
every refusal, repeats, and two kiosks scanning at once."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import segno  # noqa: F401  (the QR library the endpoint uses)

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, NATIONAL_ADMIN
from queue_service.store import keys
from tests.factories import JAKARTA

WITA, WIT = ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture
def kiosk(app, clock):
    """``kiosk(branch)``: a new kiosk's bearer header."""
    kiosks = app.extensions["antrian"].kiosks

    def make(branch_id: str = "jakarta-salemba") -> dict:
        _kiosk, token = kiosks.create(branch_id, "Pintu depan", clock())
        return {"Authorization": f"Bearer {token}"}

    return make


def check_in(client, headers, code):
    return client.post("/api/v1/kiosk/checkins", json={"code": code}, headers=headers)


def at(clock, zone, hour, minute=0, day=TUESDAY):
    clock.set(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone))


def error_code(response):
    return response.get_json()["error"]["code"]


@pytest.mark.parametrize(
    ("branch", "zone"), [("jakarta-salemba", JAKARTA), ("makassar", WITA), ("jayapura", WIT)]
)
def test_the_window_is_early_to_grace_in_the_branchs_own_time(client, kiosk, book, clock, branch, zone):
    made = book(branch_id=branch, slot="09:00")
    door = kiosk(branch)

    at(clock, zone, 7, 59)
    early = check_in(client, door, made["code"])
    assert early.status_code == 409 and error_code(early) == "too_early"
    label = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}[zone.key]
    assert early.get_json()["error"]["message"].endswith(f"pukul 08:00 {label}.")

    at(clock, zone, 8, 0)
    done = check_in(client, door, made["code"])
    assert done.status_code == 200
    assert done.get_json() == {
        "code": made["code"],
        "queue_number": made["queue_number"],
        "status": "checked_in",
        "already_checked_in": False,
    }


def test_the_grace_period_ends_thirty_minutes_after_the_start(client, kiosk, book, clock):
    on_time, late = book(slot="09:00"), book(slot="09:00")
    door = kiosk()
    at(clock, JAKARTA, 9, 30)
    assert check_in(client, door, on_time["code"]).status_code == 200
    at(clock, JAKARTA, 9, 31)
    refused = check_in(client, door, late["code"])
    assert refused.status_code == 409 and error_code(refused) == "too_late"


def test_a_day_boundary_at_midnight_branch_local(client, kiosk, book, clock, tune_branch):
    tune_branch("jayapura", checkin_early_minutes=600)  # open from 23:00 the day before
    made = book(branch_id="jayapura", slot="09:00")
    door = kiosk("jayapura")
    # 23:59 Monday in Jayapura (it is Monday 21:59 in Jakarta): not the visit day there.
    at(clock, WIT, 23, 59, day=TUESDAY - dt.timedelta(days=1))
    assert error_code(check_in(client, door, made["code"])) == "wrong_date"
    at(clock, WIT, 0, 0)  # midnight in Jayapura: Tuesday has begun, though not in Jakarta
    assert check_in(client, door, made["code"]).status_code == 200


def test_a_repeat_answers_the_same_number(client, kiosk, book, clock):
    made = book()
    door = kiosk()
    at(clock, JAKARTA, 8, 45)
    check_in(client, door, made["code"])
    again = check_in(client, kiosk(), f" {made['code'][:5].lower()}-{made['code'][5:]} ")
    assert again.status_code == 200
    assert again.get_json()["already_checked_in"] is True
    assert again.get_json()["queue_number"] == made["queue_number"]


def test_two_kiosks_scanning_at_once_check_in_once(app, kiosk, book, clock, redis):
    made = book()
    doors = [kiosk() for _ in range(8)]
    at(clock, JAKARTA, 8, 45)
    answers = []

    def scan(door):
        answers.append(check_in(app.test_client(), door, made["code"]).get_json())

    threads = [threading.Thread(target=scan, args=(door,)) for door in doors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a["already_checked_in"] for a in answers) == [False] + [True] * 7
    assert {a["queue_number"] for a in answers} == {made["queue_number"]}
    assert redis.zrange(keys.day_checkins("jakarta-salemba", "2026-11-24"), 0, -1) == [made["code"]]


def test_refusals(client, kiosk, book, clock, booking_body):
    body = booking_body()
    cancelled = book(nik=body["nik"], slot="10:00")
    client.post(f"/api/v1/bookings/{cancelled['code']}/cancel", json={"nik": body["nik"]})
    elsewhere = book(branch_id="bekasi")
    tomorrow = book(date="2026-11-25")
    door = kiosk()
    at(clock, JAKARTA, 9, 0)

    for code, status, expected in (
        ("ZZZZZZZZZZ", 404, "not_found"),
        ("not a code", 404, "not_found"),
        (cancelled["code"], 409, "cancelled"),
        (elsewhere["code"], 409, "wrong_branch"),
        (tomorrow["code"], 409, "wrong_date"),
    ):
        response = check_in(client, door, code)
        assert (response.status_code, error_code(response)) == (status, expected), code


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_no_or_bad_token_is_401(client, headers):
    response = check_in(client, headers, "ZZZZZZZZZZ")
    assert response.status_code == 401 and error_code(response) == "unauthorized"


def test_kiosks_are_registered_and_revoked_by_admins_and_audited(app, client, book, clock, redis):
    accounts = app.extensions["antrian"].accounts
    _siti, siti = accounts.create("siti", BRANCH_ADMIN, ("jakarta-salemba",))
    _nasional, nasional = accounts.create("nasional", NATIONAL_ADMIN)
    bearer = {"Authorization": f"Bearer {siti}"}
    made = client.post(
        "/api/v1/admin/kiosks", headers=bearer, json={"branch_id": "jakarta-salemba", "name": "Pintu depan"}
    )
    assert made.status_code == 201 and set(made.get_json()) == {"kiosk_id", "token"}
    assert (
        client.post(
            "/api/v1/admin/kiosks", headers=bearer, json={"branch_id": "bekasi", "name": "x"}
        ).status_code
        == 403
    )
    refused = client.post(
        "/api/v1/admin/kiosks",
        headers={"Authorization": f"Bearer {nasional}"},
        json={"branch_id": "atlantis", "name": "x"},
    )
    assert refused.status_code == 422
    door = {"Authorization": f"Bearer {made.get_json()['token']}"}
    booking = book()
    at(clock, JAKARTA, 8, 30)
    assert check_in(client, door, booking["code"]).status_code == 200

    kiosk_id = made.get_json()["kiosk_id"]
    listed = client.get("/api/v1/admin/branches/jakarta-salemba/kiosks", headers=bearer)
    assert [k["id"] for k in listed.get_json()["kiosks"]] == [kiosk_id]
    assert client.delete(f"/api/v1/admin/kiosks/{kiosk_id}", headers=bearer).status_code == 204
    assert check_in(client, door, booking["code"]).status_code == 401
    assert [e.action for e in audit.read(redis, "jakarta-salemba")] == ["kiosk_revoked", "kiosk_created"]


@pytest.mark.parametrize(
    ("kind", "mimetype", "magic"), [("svg", "image/svg+xml", b"<?xml"), ("png", "image/png", b"\x89PNG")]
)
def test_the_booking_code_as_a_qr(client, book, kind, mimetype, magic):
    code = book()["code"]
    response = client.get(f"/api/v1/bookings/{code.lower()}/qr.{kind}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.data.startswith(magic)
    assert client.get(f"/api/v1/bookings/not-a-code/qr.{kind}").status_code == 404


def test_create_kiosk_prints_a_working_token_on_its_last_line(app, runner, client, book, clock):
    result = runner("create-kiosk", "jakarta-salemba", "Pintu depan")
    assert result.returncode == 0, result.stderr
    door = {"Authorization": f"Bearer {result.stdout.strip().splitlines()[-1]}"}
    made = book()
    at(clock, JAKARTA, 8, 30)
    assert check_in(client, door, made["code"]).status_code == 200
    unknown = runner("create-kiosk", "atlantis", "x")
    assert unknown.returncode == 2 and "branch_id" in unknown.stderr


def test_walk_in_tickets_through_the_api(client, kiosk, clock, tune_branch):
    tune_branch("jakarta-salemba", daily_quota=8, walk_in_share=20)  # two places
    at(clock, JAKARTA, 9)
    door = {**kiosk(), "Idempotency-Key": "ticket-1"}
    made = client.post("/api/v1/kiosk/walk-ins", json={"service_id": "jkk"}, headers=door)
    assert made.status_code == 201
    assert made.get_json() == {"queue_number": "WB-001", "service_id": "jkk", "places_left": 1}
    again = client.post("/api/v1/kiosk/walk-ins", json={"service_id": "jkk"}, headers=door)
    assert again.get_json()["queue_number"] == "WB-001"
    other = {"Authorization": door["Authorization"]}
    assert (
        client.post(
            "/api/v1/kiosk/walk-ins", json={"service_id": "jht", "priority": True}, headers=other
        ).get_json()["queue_number"]
        == "WA-001"
    )
    full = client.post("/api/v1/kiosk/walk-ins", json={"service_id": "jht"}, headers=other)
    assert full.status_code == 409 and full.get_json()["error"]["code"] == "walk_ins_full"
    assert (
        client.post("/api/v1/kiosk/walk-ins", json={"service_id": "nope"}, headers=other).status_code == 422
    )
    assert client.post("/api/v1/kiosk/walk-ins", json={"service_id": "jht"}).status_code == 401
