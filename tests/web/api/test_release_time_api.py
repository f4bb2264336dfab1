"""``release_time`` over HTTP (issue 21, SPEC §6 "Fair opening"): the admin settings document
takes, checks and returns it; availability and bookings of the window's newest day follow it
in the branch's own zone. Moments come from the injected clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN
from queue_service.web.messages import FIELDS

SETTINGS = "/api/v1/admin/branches/{}/settings"
MONDAY = dt.date(2026, 11, 23)
NEWEST = "2026-12-07"  # Monday plus the demo's 14-day window
ZONES = {"jakarta-salemba": "Asia/Jakarta", "makassar": "Asia/Makassar", "jayapura": "Asia/Jayapura"}


def at(branch_id: str, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(MONDAY, dt.time(hour, minute), tzinfo=ZoneInfo(ZONES[branch_id]))


def test_the_settings_document_carries_release_time_and_round_trips_it(client, token, redis):
    admin = token(BRANCH_ADMIN, "jakarta-salemba")
    url = SETTINGS.format("jakarta-salemba")
    before = client.get(url, headers=admin).get_json()
    assert before["release_time"] == "00:00"

    response = client.put(url, headers=admin, json={"release_time": "07:00"})
    assert response.status_code == 200
    assert response.get_json() == {**before, "release_time": "07:00"}
    assert client.get(url, headers=admin).get_json()["release_time"] == "07:00"
    [entry] = audit.read(redis, "jakarta-salemba")
    assert entry.action == "settings" and '"release_time": "07:00"' in entry.after


@pytest.mark.parametrize("bad", ["7:00", "24:00", "07:60", "", "07.00", "07:00:00", "٠٧:٠٠"])
def test_a_release_time_that_is_no_time_of_day_is_named(client, token, bad):
    response = client.put(SETTINGS.format("jakarta-salemba"), headers=token(), json={"release_time": bad})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"release_time": [FIELDS["invalid_time"]]}


@pytest.mark.parametrize(("bad", "status"), [(700, 400), (["07:00"], 400), (None, 422)])
def test_a_release_time_of_another_type_is_refused_as_any_settings_field(client, token, bad, status):
    response = client.put(SETTINGS.format("jakarta-salemba"), headers=token(), json={"release_time": bad})
    assert response.status_code == status
    assert set(response.get_json()["error"]["fields"]) == {"release_time"}


def test_the_document_spells_the_release_time(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    declared = schemas["BranchSettings"]["properties"]["release_time"]
    assert declared["type"] == "string" and "pattern" in declared


@pytest.mark.parametrize("branch_id", sorted(ZONES))
def test_availability_and_booking_open_at_the_release_in_the_branchs_zone(
    client, token, clock, booking_body, branch_id
):
    client.put(SETTINGS.format(branch_id), headers=token(), json={"release_time": "07:00"})
    url = f"/api/v1/branches/{branch_id}/availability?date={NEWEST}&service=jht"
    body = booking_body(branch_id=branch_id, date=NEWEST, slot="09:00")

    clock.set(at(branch_id, 6, 59))
    day = client.get(url).get_json()
    assert (day["open"], day["reason"], day["note"], day["slots"]) == (False, "not_yet_open", "07:00", [])
    refused = client.post("/api/v1/bookings", json=body)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_bookable"

    clock.set(at(branch_id, 7, 0))
    day = client.get(url).get_json()
    assert day["open"] and day["reason"] is None and day["slots"]
    booked = client.post(
        "/api/v1/bookings", json=booking_body(branch_id=branch_id, date=NEWEST, slot="09:00")
    )
    assert booked.status_code == 201, booked.get_json()


def test_by_default_the_newest_day_is_bookable_from_midnight(client, clock, book):
    clock.set(at("jakarta-salemba", 0, 0))
    day = client.get(f"/api/v1/branches/jakarta-salemba/availability?date={NEWEST}&service=jht").get_json()
    assert day["open"]
    assert book(date=NEWEST)["date"] == NEWEST
