"""The participant registry on the booking API (SPEC §6): asked after the captcha,
the fields and the person's allowance, before the place is held; a rejected pair is a 422
naming ``kpj``; a registry without a verdict books flagged (``open``) or answers 503
(``closed``). Against a local fake registry (``tests/fake_registry.py``)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from queue_service.domain.accounts import NATIONAL_ADMIN
from queue_service.domain.participant_registry import NoRegistry
from queue_service.store import keys
from tests.fake_registry import LATE_SECONDS

DAY = "2026-11-24"
AVAILABILITY = f"/api/v1/branches/jakarta-salemba/availability?date={DAY}&service=jht"


@pytest.fixture
def settings(settings, registry_settings):
    return {**settings, **registry_settings}


def day_state(client, redis) -> tuple:
    """What a booking changes on the day: its availability and its list of bookings."""
    availability = client.get(AVAILABILITY).get_json()
    return availability, redis.lrange(keys.day_bookings("jakarta-salemba", DAY), 0, -1)


def record(redis, code: str) -> dict:
    return redis.hgetall(keys.booking("jakarta-salemba", code))


def unchecked_count(client) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(r"^antrian_bookings_registry_unchecked_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_an_accepted_participant_is_booked_after_one_question_with_nik_kpj_and_name(
    client, booking_body, registry, redis
):
    body = booking_body()

    response = client.post("/api/v1/bookings", json=body)

    assert response.status_code == 201, response.get_json()
    assert registry.asked == [{"nik": body["nik"], "kpj": body["kpj"], "name": body["name"]}]
    assert "registry" not in record(redis, response.get_json()["code"])


def test_a_rejected_pair_is_a_422_naming_kpj_and_books_nothing(client, booking_body, registry, redis):
    registry.valid = False
    before = day_state(client, redis)

    response = client.post("/api/v1/bookings", json=booking_body())

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"] == {"kpj": ["Nomor KPJ tidak cocok dengan data peserta untuk NIK dan nama ini."]}
    assert len(registry.asked) == 1
    assert day_state(client, redis) == before
    assert before[1] == []


def test_the_rejection_is_said_in_english_too(client, booking_body, registry):
    registry.valid = False

    response = client.post("/api/v1/bookings", json=booking_body(), headers={"Accept-Language": "en"})

    assert response.get_json()["error"]["fields"] == {
        "kpj": ["The KPJ number does not match the participant records for this NIK and name."]
    }


def test_a_rejected_nik_can_book_once_its_pair_is_accepted(client, booking_body, registry):
    """A refusal holds nothing: no claim on the NIK's date is left behind."""
    registry.valid = False
    body = booking_body()
    assert client.post("/api/v1/bookings", json=body).status_code == 422

    registry.valid = True
    again = client.post("/api/v1/bookings", json=booking_body(nik=body["nik"]))

    assert again.status_code == 201, again.get_json()


def test_a_registry_too_slow_failing_open_books_and_flags_the_booking(client, booking_body, registry, redis):
    counted = unchecked_count(client)
    registry.slow(LATE_SECONDS)

    response = client.post("/api/v1/bookings", json=booking_body())
    registry.settle()

    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]
    assert record(redis, code)["registry"] == "unchecked"
    assert unchecked_count(client) == counted + 1
    assert day_state(client, redis)[1] == [code]


def test_a_flagged_booking_shows_in_the_admin_export(app, client, booking_body, registry):
    registry.slow(LATE_SECONDS)
    flagged = client.post("/api/v1/bookings", json=booking_body()).get_json()["code"]
    registry.settle()
    registry.slow(0)
    checked = client.post("/api/v1/bookings", json=booking_body(slot="10:00")).get_json()["code"]
    _account, secret = app.extensions["antrian"].accounts.create("nasional", NATIONAL_ADMIN, ())

    exported = client.get(
        f"/api/v1/admin/branches/jakarta-salemba/bookings?date={DAY}&format=csv",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert exported.status_code == 200
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(exported.text))}
    assert rows[flagged]["registry"] == "unchecked" and rows[checked]["registry"] == ""
    listed = client.get(
        f"/api/v1/admin/branches/jakarta-salemba/bookings?date={DAY}",
        headers={"Authorization": f"Bearer {secret}"},
    ).get_json()["bookings"]
    flags = {booking["code"]: booking["registry"] for booking in listed}
    assert flags == {flagged: "unchecked", checked: None}


@pytest.mark.parametrize("registry_failure", ["closed"])
def test_a_registry_too_slow_failing_closed_is_a_503_that_books_nothing(
    client, booking_body, registry, redis
):
    before = day_state(client, redis)
    registry.slow(LATE_SECONDS)
    body = booking_body()

    response = client.post("/api/v1/bookings", json=body)
    registry.settle()

    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert day_state(client, redis) == before
    # The attempt consumed its captcha, as every attempt does.
    registry.slow(0)
    retried = client.post(
        "/api/v1/bookings", json=booking_body(nik=body["nik"], captcha_id=body["captcha_id"])
    )
    assert retried.status_code == 403 and retried.get_json()["error"]["code"] == "captcha_failed"
    # A fresh captcha books, the NIK's date not held by the refused attempt.
    assert client.post("/api/v1/bookings", json=booking_body(nik=body["nik"])).status_code == 201


@pytest.mark.parametrize("registry_failure", ["closed"])
def test_a_registry_answering_something_else_failing_closed_is_a_503(client, booking_body, httpserver, redis):
    httpserver.clear()  # the fake's own answer gone: this registry answers 500
    httpserver.expect_request("/peserta/cek", method="POST").respond_with_json({"valid": True}, status=500)

    response = client.post("/api/v1/bookings", json=booking_body())

    assert response.status_code == 503 and "Retry-After" in response.headers
    assert day_state(client, redis)[1] == []


def test_a_wrong_captcha_costs_the_registry_nothing(client, booking_body, registry):
    response = client.post("/api/v1/bookings", json=booking_body(captcha_answer="99999"))

    assert response.status_code == 403
    assert registry.asked == []


def test_invalid_fields_cost_the_registry_nothing(client, booking_body, registry):
    response = client.post("/api/v1/bookings", json=booking_body(kpj="123"))

    assert response.status_code == 422 and "kpj" in response.get_json()["error"]["fields"]
    assert registry.asked == []


def test_a_day_that_takes_no_bookings_costs_the_registry_nothing(client, booking_body, registry):
    response = client.post("/api/v1/bookings", json=booking_body(date="2026-11-29"))  # a Sunday

    assert response.status_code == 409
    assert registry.asked == []


@pytest.mark.parametrize("registry_failure", ["open"])
def test_past_their_allowance_a_person_costs_the_registry_nothing(make_app, booking_body, registry):
    client = make_app(RATELIMIT_PER_PERSON="1 per hour").test_client()
    body = booking_body()
    assert client.post("/api/v1/bookings", json=body).status_code == 201

    refused = client.post("/api/v1/bookings", json=booking_body(nik=body["nik"], date="2026-11-25"))

    assert refused.status_code == 429
    assert len(registry.asked) == 1


def test_without_a_registry_url_nothing_is_asked(make_app, booking_body, registry, settings):
    app = make_app(PARTICIPANT_REGISTRY_URL=None)
    assert isinstance(app.extensions["antrian"].registry.registry, NoRegistry)

    response = app.test_client().post("/api/v1/bookings", json=booking_body())

    assert response.status_code == 201
    assert registry.asked == []
