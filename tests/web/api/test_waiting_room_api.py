"""The waiting room on the JSON API (SPEC §6 "Fair opening"): join, ask, and book with the
pass in ``X-Admission-Pass`` while the room is open; 403 ``not_admitted`` without it."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from queue_service.store import keys
from tests.factories import JAKARTA

BRANCH = "jakarta-salemba"
# The test clock's Monday: the room of the 07:00 release is open from 06:45 to 08:00.
RELEASE = dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)


@pytest.fixture
def room_open(redis, app):
    """Open the branch's room around a 07:00 release (as its admin would set it)."""
    settings = json.loads(redis.get(keys.branch_settings(BRANCH)))
    settings.update(
        release_time="07:00",
        waiting_room={
            "enabled": True,
            "opens_minutes_before": 15,
            "admit_per_minute": 60,
            "lasts_minutes": 60,
            "tickets_per_address": 3,
        },
    )
    redis.set(keys.branch_settings(BRANCH), json.dumps(settings))


def at(clock, minutes: float) -> None:
    clock.set(RELEASE + dt.timedelta(minutes=minutes))


def join(client, address="198.51.100.1", **body):
    return client.post(
        f"/api/v1/branches/{BRANCH}/waiting-room", json=body, environ_base={"REMOTE_ADDR": address}
    )


def test_without_a_room_no_pass_is_needed(client, booking_body):
    answer = client.post(f"/api/v1/branches/{BRANCH}/waiting-room")
    assert answer.status_code == 201
    assert answer.get_json() == {
        "ticket": None,
        "state": "not_needed",
        "position": None,
        "estimated_wait_seconds": None,
        "pass": None,
    }
    assert client.post("/api/v1/bookings", json=booking_body()).status_code == 201


def test_before_the_release_a_ticket_waits_unplaced_and_bookings_need_a_pass(
    client, clock, room_open, booking_body, redis
):
    at(clock, -10)
    joined = join(client)
    assert joined.status_code == 201
    standing = joined.get_json()
    assert (standing["state"], standing["position"], standing["pass"]) == ("waiting", None, None)
    assert client.get(f"/api/v1/waiting-room/{standing['ticket']}").get_json()["position"] is None

    captcha_id = booking_body()["captcha_id"]
    refused = client.post("/api/v1/bookings", json=booking_body(captcha_id=captcha_id))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "not_admitted"
    # Judged with the booking's first read: nothing is held.
    assert redis.llen(keys.day_bookings(BRANCH, "2026-11-24")) == 0


def test_admitted_at_the_release_the_pass_books_once_for_one_person(client, clock, room_open, booking_body):
    at(clock, -1)
    ticket = join(client).get_json()["ticket"]
    at(clock, 0)
    standing = client.get(f"/api/v1/waiting-room/{ticket}").get_json()
    assert (standing["state"], standing["position"], standing["estimated_wait_seconds"]) == ("admitted", 0, 0)
    header = {"X-Admission-Pass": standing["pass"]}

    body = booking_body()
    booked = client.post("/api/v1/bookings", json=body, headers=header)
    assert booked.status_code == 201, booked.get_json()
    other_person = client.post("/api/v1/bookings", json=booking_body(), headers=header)
    assert other_person.status_code == 403
    assert other_person.get_json()["error"]["code"] == "not_admitted"
    forged = client.post("/api/v1/bookings", json=booking_body(), headers={"X-Admission-Pass": "x.y.z"})
    assert forged.get_json()["error"]["code"] == "not_admitted"


def test_later_arrivals_wait_their_turn_one_at_a_time_with_an_estimate(client, clock, room_open):
    at(clock, -1)
    join(client, "198.51.100.1")
    at(clock, 0.5)
    # 60 a minute from 07:00: by 07:00:30 admission has reached 31 places, but the line holds
    # one. The first to come now is let in at once; the others wait for the count, a second each.
    later = [join(client, f"198.51.100.{n}").get_json() for n in range(2, 5)]
    assert [s["state"] for s in later] == ["admitted", "waiting", "waiting"]
    assert [(s["position"], s["estimated_wait_seconds"]) for s in later[1:]] == [(1, 1), (2, 2)]
    clock.set(RELEASE + dt.timedelta(seconds=31))
    assert client.get(f"/api/v1/waiting-room/{later[1]['ticket']}").get_json()["state"] == "admitted"
    assert client.get(f"/api/v1/waiting-room/{later[2]['ticket']}").get_json()["position"] == 1


def test_one_address_holds_a_few_tickets_then_429_even_without_rate_limits(client, clock, room_open, app):
    app.config["RATELIMIT_ENABLED"] = False
    at(clock, -5)
    tickets = [join(client).get_json()["ticket"] for _ in range(3)]
    assert len(set(tickets)) == 3
    refused = join(client)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # Its own ticket back is no new one.
    assert join(client, ticket=tickets[0]).get_json()["ticket"] == tickets[0]


def test_an_unknown_ticket_is_not_found(client, clock, room_open):
    at(clock, 0)
    assert client.get("/api/v1/waiting-room/jakarta-salemba.20261123." + "0" * 32).status_code == 404
    assert client.get("/api/v1/waiting-room/nonsense").status_code == 404


def test_the_kiosk_is_never_behind_the_room(client, clock, room_open, app, book):
    at(clock, -30)  # booked before the room opened
    made = book()
    at(clock, 0)
    _kiosk, token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu depan", clock())
    answer = client.post(
        "/api/v1/kiosk/checkins", json={"code": made["code"]}, headers={"Authorization": f"Bearer {token}"}
    )
    # Judged as a check-in (its day is tomorrow), not sent to the room.
    assert answer.get_json()["error"]["code"] == "wrong_date"


def test_a_move_needs_a_pass_while_the_room_is_open(client, clock, room_open, booking_body):
    at(clock, -30)  # booked before the room opened, for a quiet day
    body = booking_body(date="2026-11-25")
    made = client.post("/api/v1/bookings", json=body).get_json()
    move = {"nik": body["nik"], "date": "2026-11-24", "slot": "10:00"}
    at(clock, 0)

    refused = client.post(f"/api/v1/bookings/{made['code']}/reschedule", json=move)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "not_admitted"

    ticket = join(client).get_json()["ticket"]
    admission_pass = client.get(f"/api/v1/waiting-room/{ticket}").get_json()["pass"]
    moved = client.post(
        f"/api/v1/bookings/{made['code']}/reschedule", json=move, headers={"X-Admission-Pass": admission_pass}
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["date"] == "2026-11-24"
