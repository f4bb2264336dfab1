"""A branch's staff and admins cancel one booking by its code, with a reason (SPEC §6):
who may, each refusal, the audit entry, the place freed and the participant's SMS."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from queue_service.web.messages import FIELDS
from tests.factories import JAKARTA

BRANCH = "jakarta-salemba"
AVAILABILITY = f"/api/v1/branches/{BRANCH}/availability?date=2026-11-24&service=jht"


def cancel(client, code: str, headers: dict, reason: object = "Peserta datang ke loket, KTP diperiksa"):
    return client.post(f"/api/v1/admin/bookings/{code}/cancel", headers=headers, json={"reason": reason})


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def remaining(client) -> tuple[int, int]:
    day = client.get(AVAILABILITY).get_json()
    return day["remaining"], next(s["remaining"] for s in day["slots"] if s["start"] == "09:00")


@pytest.mark.parametrize(
    ("role", "branches"),
    [
        (NATIONAL_ADMIN, ()),
        (BRANCH_ADMIN, (BRANCH,)),
        (BRANCH_ADMIN, ("bekasi", BRANCH)),
        (COUNTER_STAFF, (BRANCH,)),
    ],
)
def test_the_branchs_staff_and_admins_cancel_and_the_place_is_freed(client, token, book, role, branches):
    before = remaining(client)
    booking = book()
    assert remaining(client) == (before[0] - 1, before[1] - 1)

    response = cancel(client, booking["code"], token(role, *branches))

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"code": booking["code"], "status": "cancelled"}
    assert remaining(client) == before


def test_the_code_is_read_as_typed(client, token, book):
    code = book()["code"]
    typed = f"{code[:5].lower()}-{code[5:]}"
    response = cancel(client, typed, token(COUNTER_STAFF, BRANCH))
    assert response.get_json() == {"code": code, "status": "cancelled"}


@pytest.mark.parametrize(("role", "branches"), [(BRANCH_ADMIN, ("bekasi",)), (COUNTER_STAFF, ("bekasi",))])
def test_another_branchs_admin_or_staff_is_refused(client, token, book, role, branches):
    booking = book()
    taken = remaining(client)
    response = cancel(client, booking["code"], token(role, *branches))
    assert response.status_code == 403 and error_code(response) == "forbidden"
    assert remaining(client) == taken
    assert cancel(client, booking["code"], token()).status_code == 200


def test_a_kiosk_token_is_refused_and_no_token_is_unauthorised(app, client, book, clock):
    booking = book()
    _kiosk, kiosk_token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu", clock())
    refused = cancel(client, booking["code"], {"Authorization": f"Bearer {kiosk_token}"})
    assert refused.status_code == 403 and error_code(refused) == "forbidden"
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = cancel(client, booking["code"], headers)
        assert response.status_code == 401 and error_code(response) == "unauthorized"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (None, "required"),
        ("", "required"),
        ("   \n ", "required"),
        ("x" * 201, "too_long"),
    ],
)
def test_a_reason_is_required_and_short(client, token, book, reason, message):
    booking = book()
    body = {} if reason is None else {"reason": reason}
    response = client.post(f"/api/v1/admin/bookings/{booking['code']}/cancel", headers=token(), json=body)
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert response.get_json()["error"]["fields"] == {"reason": [FIELDS[message]]}
    assert cancel(client, booking["code"], token(), reason="x" * 200).status_code == 200


def test_a_reason_of_another_type_is_a_bad_request(client, token, book):
    response = cancel(client, book()["code"], token(), reason=7)
    assert response.status_code == 400 and error_code(response) == "bad_request"


@pytest.mark.parametrize("code", ["ABCDEFGHJK", "not-a-code!", "0" * 40])
def test_an_unknown_or_malformed_code_is_not_found(client, token, code):
    response = cancel(client, code, token())
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_cancelled_already_is_a_conflict(client, token, book):
    code = book()["code"]
    assert cancel(client, code, token()).status_code == 200
    again = cancel(client, code, token())
    assert again.status_code == 409 and error_code(again) == "cancelled"


def test_a_started_slot_or_a_check_in_is_too_late(app, client, token, book, clock):
    started, arrived = book(), book(slot="10:00")
    clock.set(dt.datetime(2026, 11, 24, 9, 30, tzinfo=JAKARTA))
    _kiosk, kiosk_token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu", clock())
    checked_in = client.post(
        "/api/v1/kiosk/checkins",
        headers={"Authorization": f"Bearer {kiosk_token}"},
        json={"code": arrived["code"]},
    )
    assert checked_in.status_code == 200, checked_in.get_json()
    for booking in (started, arrived):
        response = cancel(client, booking["code"], token(COUNTER_STAFF, BRANCH))
        assert response.status_code == 409 and error_code(response) == "too_late"


def test_the_cancellation_is_audited_with_its_reason_and_no_nik(client, token, book, redis, booking_body):
    body = booking_body()
    booking = book(nik=body["nik"])
    staff = token(COUNTER_STAFF, BRANCH)  # user0
    assert cancel(client, "ABCDEFGHJK", staff).status_code == 404  # no entry

    assert cancel(client, booking["code"], staff, reason="  Dipesan calo  ").status_code == 200

    entries = audit.read(redis, BRANCH, action="booking_cancelled")
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.role, entry.target) == ("user0", COUNTER_STAFF, f"{BRANCH}/{booking['code']}")
    assert json.loads(entry.before) == {
        "status": "booked",
        "queue_number": booking["queue_number"],
        "date": "2026-11-24",
        "slot": "09:00",
        "service_id": "jht",
    }
    assert json.loads(entry.after) == {
        **json.loads(entry.before),
        "status": "cancelled",
        "reason": "Dipesan calo",
    }
    assert body["nik"] not in " ".join(str(v) for v in vars(entry).values())
    # A refusal leaves no entry.
    assert cancel(client, booking["code"], token()).status_code == 409
    assert len(audit.read(redis, BRANCH, action="booking_cancelled")) == 1


def test_the_participant_gets_the_cancellation_sms_through_the_outbox(client, token, book, work, sent_sms):
    booking = book()
    work()
    assert cancel(client, booking["code"], token(BRANCH_ADMIN, BRANCH)).status_code == 200
    assert [line["event"] for line in sent_sms()] == ["booked"]  # nothing is sent in the request
    work()

    lines = sent_sms()
    assert [line["event"] for line in lines] == ["booked", "cancelled"]
    assert "DIBATALKAN" in lines[1]["body"] and booking["code"] in lines[1]["body"]


def test_the_nik_may_book_the_date_again(client, token, book, booking_body):
    body = booking_body()
    booking = book(nik=body["nik"])
    assert (
        client.post("/api/v1/bookings", json=booking_body(nik=body["nik"], slot="10:00")).status_code == 409
    )
    assert cancel(client, booking["code"], token()).status_code == 200
    assert (
        client.post("/api/v1/bookings", json=booking_body(nik=body["nik"], slot="10:00")).status_code == 201
    )


def test_the_document_describes_the_operation(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/admin/bookings/{code}/cancel"]["post"]
    assert operation["security"] == [{"staffToken": []}]
    assert {"200", "400", "401", "403", "404", "409", "415", "422", "503"} <= set(operation["responses"])
    reason = document["components"]["schemas"]["StaffCancelRequest"]["properties"]["reason"]
    assert reason["maxLength"] == 200
