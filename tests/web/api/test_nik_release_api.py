"""Releasing a NIK at a branch, its owner's KTP seen (the way back from NIK squatting): a
stranger's bookings of the NIK, at any branch and date, are cancelled with the staff's reason,
audited each and with their SMS; the owner's own are kept; who may and each refusal."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from queue_service.store import keys
from queue_service.web.messages import FIELDS
from tests.factories import JAKARTA, make_nik

BRANCH = "jakarta-salemba"
OTHER = "bekasi"
OWNER_PHONE = "081234567890"
STRANGER_PHONES = ("081298765432", "085711112222")
REASON = "Pemilik NIK datang dengan KTP; antrian dipesan orang lain"
URL = "/api/v1/admin/nik-releases"


@pytest.fixture
def squatted(book):
    """A NIK a stranger booked on three dates at two branches (from two phones), and its
    owner's own booking on a fourth: ``(nik, stranger's bookings, owner's booking)``."""
    nik = make_nik()
    stranger = [
        book(nik=nik, branch_id=BRANCH, date="2026-11-24", phone=STRANGER_PHONES[0]),
        book(nik=nik, branch_id=BRANCH, date="2026-11-25", phone=STRANGER_PHONES[0]),
        book(nik=nik, branch_id=OTHER, date="2026-11-26", phone=STRANGER_PHONES[1]),
    ]
    owner = book(nik=nik, branch_id=OTHER, date="2026-11-27", phone=OWNER_PHONE)
    return nik, stranger, owner


def release(client, headers: dict, nik: str, phone: str = OWNER_PHONE, reason: object = REASON, **more):
    return client.post(URL, headers=headers, json={"nik": nik, "phone": phone, "reason": reason, **more})


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def listed(booking: dict, branch_id: str, date: str) -> dict:
    return {"code": booking["code"], "branch_id": branch_id, "date": date}


def status_of(redis, branch_id: str, code: str) -> str:
    return redis.hget(keys.booking(branch_id, code), "status")


@pytest.mark.parametrize(
    ("role", "branches"),
    [(COUNTER_STAFF, (BRANCH,)), (BRANCH_ADMIN, (BRANCH,)), (COUNTER_STAFF, (OTHER,))],
)
def test_the_strangers_bookings_are_released_and_the_owners_kept(
    client, token, squatted, redis, role, branches
):
    nik, stranger, owner = squatted

    # Typed as a booking takes it: spaces around the NIK, the phone in another spelling.
    response = release(client, token(role, *branches), f" {nik} ", phone="+62 812-3456-7890")

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "released": [
            listed(stranger[0], BRANCH, "2026-11-24"),
            listed(stranger[1], BRANCH, "2026-11-25"),
            listed(stranger[2], OTHER, "2026-11-26"),
        ],
        "kept": [listed(owner, OTHER, "2026-11-27")],
    }
    assert [
        status_of(redis, b, s["code"]) for b, s in zip((BRANCH, BRANCH, OTHER), stranger, strict=True)
    ] == ["cancelled"] * 3
    assert status_of(redis, OTHER, owner["code"]) == "booked"


def test_the_owner_can_then_book_those_dates(client, token, squatted, booking_body):
    nik, _stranger, _owner = squatted
    for day in ("2026-11-24", "2026-11-25"):
        refused = client.post("/api/v1/bookings", json=booking_body(nik=nik, date=day, slot="10:00"))
        assert refused.status_code == 409 and error_code(refused) == "already_booked"

    assert release(client, token(COUNTER_STAFF, BRANCH), nik).status_code == 200

    for day in ("2026-11-24", "2026-11-25", "2026-11-26"):
        booked = client.post("/api/v1/bookings", json=booking_body(nik=nik, date=day, slot="10:00"))
        assert booked.status_code == 201, booked.get_json()
    # The kept booking still holds its date.
    held = client.post("/api/v1/bookings", json=booking_body(nik=nik, date="2026-11-27", slot="10:00"))
    assert held.status_code == 409 and error_code(held) == "already_booked"


def test_each_release_is_audited_in_the_bookings_branch_without_the_nik_or_phone(
    client, token, squatted, redis
):
    nik, stranger, _owner = squatted
    staff = token(COUNTER_STAFF, BRANCH)  # user0

    assert release(client, staff, nik, reason="  Dipesan calo  ").status_code == 200

    here = audit.read(redis, BRANCH, action="nik_released")
    there = audit.read(redis, OTHER, action="nik_released")
    assert sorted(e.target for e in here) == sorted(f"{BRANCH}/{s['code']}" for s in stranger[:2])
    assert [e.target for e in there] == [f"{OTHER}/{stranger[2]['code']}"]
    entry = there[0]
    assert (entry.actor, entry.role) == ("user0", COUNTER_STAFF)
    before = {
        "status": "booked",
        "queue_number": stranger[2]["queue_number"],
        "date": "2026-11-26",
        "slot": "09:00",
        "service_id": "jht",
        "branch_id": OTHER,
        "nik": f"{nik[:4]}********{nik[-4:]}",
    }
    assert json.loads(entry.before) == before
    assert json.loads(entry.after) == {
        **before,
        "status": "cancelled",
        "reason": "Dipesan calo",
        "released_at": BRANCH,
    }
    for entry in here + there:
        text = " ".join(str(v) for v in vars(entry).values())
        assert nik not in text
        assert all(phone[1:] not in text for phone in (*STRANGER_PHONES, OWNER_PHONE))
    # The owner's booking is not touched, so not audited; nor is any single cancel.
    assert audit.read(redis, OTHER, action="booking_cancelled") == []


def test_each_released_booking_gets_its_cancellation_sms_on_its_own_phone(
    client, token, squatted, work, sent_sms
):
    nik, stranger, owner = squatted
    work()
    assert sorted(line["event"] for line in sent_sms()) == ["booked"] * 4

    assert release(client, token(BRANCH_ADMIN, BRANCH), nik).status_code == 200
    work()

    cancelled = [line for line in sent_sms() if line["event"] == "cancelled"]
    by_code = {
        code: line for line in cancelled for code in [s["code"] for s in stranger] if code in line["body"]
    }
    assert sorted(by_code) == sorted(s["code"] for s in stranger) and len(cancelled) == 3
    assert all("DIBATALKAN" in line["body"] for line in cancelled)
    phones = {line["to"] for line in cancelled}
    assert phones == {"+6281298765432", "+6285711112222"}
    assert owner["code"] not in " ".join(line["body"] for line in cancelled)


def test_a_national_admin_names_the_branch_an_admin_of_several_too(client, token, squatted, redis):
    nik, stranger, _owner = squatted
    national, several = token(NATIONAL_ADMIN), token(BRANCH_ADMIN, OTHER, BRANCH)
    for headers in (national, several):
        unnamed = release(client, headers, nik)
        assert unnamed.status_code == 422 and unnamed.get_json()["error"]["fields"] == {
            "branch_id": [FIELDS["required"]]
        }
    unknown = release(client, national, nik, branch_id="atlantis")
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["fields"] == {"branch_id": [FIELDS["unknown_branch"]]}
    assert status_of(redis, BRANCH, stranger[0]["code"]) == "booked"

    named = release(client, several, nik, branch_id=OTHER)
    assert named.status_code == 200 and len(named.get_json()["released"]) == 3
    (entry, _) = sorted(audit.read(redis, BRANCH, action="nik_released"), key=lambda e: e.target)
    assert json.loads(entry.after)["released_at"] == OTHER


@pytest.mark.parametrize("role", [COUNTER_STAFF, BRANCH_ADMIN])
def test_staff_may_release_only_where_they_work(client, token, squatted, redis, role):
    nik, stranger, _owner = squatted
    response = release(client, token(role, OTHER), nik, branch_id=BRANCH)
    assert response.status_code == 403 and error_code(response) == "forbidden"
    assert status_of(redis, BRANCH, stranger[0]["code"]) == "booked"
    assert audit.read(redis, BRANCH, action="nik_released") == []


def test_a_kiosk_token_is_refused_and_no_token_is_unauthorised(app, client, squatted, clock, redis):
    nik, stranger, _owner = squatted
    _kiosk, kiosk_token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu", clock())
    refused = release(client, {"Authorization": f"Bearer {kiosk_token}"}, nik)
    assert refused.status_code == 403 and error_code(refused) == "forbidden"
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = release(client, headers, nik)
        assert response.status_code == 401 and error_code(response) == "unauthorized"
    assert status_of(redis, BRANCH, stranger[0]["code"]) == "booked"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"reason": None}, {"reason": ["required"]}),
        ({"reason": "  \n "}, {"reason": ["required"]}),
        ({"reason": "x" * 201}, {"reason": ["too_long"]}),
        ({"nik": "317101120190"}, {"nik": ["nik_format"]}),
        ({"nik": "9971011201900001"}, {"nik": ["nik_province"]}),
        ({"nik": "3171013201900001"}, {"nik": ["nik_birth_date"]}),
        ({"phone": "0212345678"}, {"phone": ["phone_not_mobile"]}),
        ({"phone": "nomor"}, {"phone": ["phone_format"]}),
        ({"nik": None, "phone": None, "reason": None}, {f: ["required"] for f in ("nik", "phone", "reason")}),
    ],
)
def test_each_field_is_checked_as_a_booking_checks_it(client, token, squatted, redis, body, fields):
    nik, stranger, _owner = squatted
    sent = {"nik": nik, "phone": OWNER_PHONE, "reason": REASON, **body}
    sent = {name: value for name, value in sent.items() if value is not None}
    response = client.post(URL, headers=token(COUNTER_STAFF, BRANCH), json=sent)
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert response.get_json()["error"]["fields"] == {
        name: [FIELDS[key] for key in keys_] for name, keys_ in fields.items()
    }
    assert status_of(redis, BRANCH, stranger[0]["code"]) == "booked"


def test_a_field_of_another_type_is_a_bad_request(client, token, squatted):
    nik, _stranger, _owner = squatted
    response = release(client, token(COUNTER_STAFF, BRANCH), nik, reason=7)
    assert response.status_code == 400 and error_code(response) == "bad_request"


def test_started_checked_in_or_cancelled_bookings_are_left_alone(app, client, token, book, clock, redis):
    first, second = make_nik(), make_nik()
    started = book(nik=first, date="2026-11-24", slot="09:00", phone=STRANGER_PHONES[0])
    gone = book(nik=first, date="2026-11-25", phone=STRANGER_PHONES[0])
    arrived = book(nik=second, date="2026-11-24", slot="10:00", phone=STRANGER_PHONES[0])
    staff = token(COUNTER_STAFF, BRANCH)
    cancelled = client.post(
        f"/api/v1/admin/bookings/{gone['code']}/cancel", headers=staff, json={"reason": "x"}
    )
    assert cancelled.status_code == 200
    clock.set(dt.datetime(2026, 11, 24, 9, 30, tzinfo=JAKARTA))
    _kiosk, kiosk_token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu", clock())
    checked_in = client.post(
        "/api/v1/kiosk/checkins",
        headers={"Authorization": f"Bearer {kiosk_token}"},
        json={"code": arrived["code"]},
    )
    assert checked_in.status_code == 200, checked_in.get_json()

    for nik in (first, second):
        response = release(client, staff, nik)
        assert response.get_json() == {"released": [], "kept": []}

    assert status_of(redis, BRANCH, started["code"]) == "booked"
    assert status_of(redis, BRANCH, arrived["code"]) == "checked_in"
    assert audit.read(redis, BRANCH, action="nik_released") == []


def test_a_booking_at_the_far_end_of_the_longest_window_is_found(client, token, book, tune_branch, clock):
    tune_branch(OTHER, booking_window_days=366)
    nik = make_nik()
    far = (clock().date() + dt.timedelta(days=366)).isoformat()
    day = dt.date.fromisoformat(far)
    while day.weekday() >= 5:  # a weekday the branch opens
        day -= dt.timedelta(days=1)
    booking = book(nik=nik, branch_id=OTHER, date=day.isoformat(), phone=STRANGER_PHONES[1])
    # The window shrinks afterwards: the booking stays, and so must its release.
    tune_branch(OTHER, booking_window_days=14)

    response = release(client, token(COUNTER_STAFF, BRANCH), nik)

    assert response.get_json()["released"] == [listed(booking, OTHER, day.isoformat())]


def test_the_document_describes_the_operation(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"][URL]["post"]
    assert operation["security"] == [{"staffToken": []}]
    assert {"200", "400", "401", "403", "415", "422", "503"} <= set(operation["responses"])
    request = document["components"]["schemas"]["NikReleaseRequest"]
    assert set(request["required"]) == {"nik", "phone", "reason"}
    assert request["properties"]["reason"]["maxLength"] == 200
    assert request["properties"]["nik"]["pattern"] == "^[0-9]{16}$"
    released = document["components"]["schemas"]["NikRelease"]["properties"]
    assert set(released) == {"released", "kept"}
