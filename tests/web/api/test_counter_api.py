"""The counter-staff API and the public queue (SPEC §3 "Counter staff", "Public, for
displays"): calls end to end through kiosk check-in, tokens and branch scoping, re-sent
requests, and a public queue with no personal data."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from tests.factories import JAKARTA, booking_request
from tests.redis_proxy import ReplyDroppingProxy

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"


@pytest.fixture
def staff(app):
    """``staff(role, branches)``: a new account's bearer header."""
    accounts = app.extensions["antrian"].accounts
    made = iter(range(1000))

    def make(role: str = COUNTER_STAFF, branches: tuple[str, ...] = (BRANCH,)) -> dict:
        _account, token = accounts.create(f"user-{next(made):03d}", role, branches)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def arrived(app, client, book, clock):
    """``arrived(slot=..., service_id=...)``: book on Monday, check in on Tuesday 08:30; the
    booking's body."""
    _kiosk, token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu", clock())

    def make(**overrides) -> dict:
        clock.set(dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA))
        made = book(**overrides)
        clock.set(dt.datetime.combine(TUESDAY, dt.time(8, 30), tzinfo=JAKARTA))
        checked = client.post(
            "/api/v1/kiosk/checkins",
            json={"code": made["code"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert checked.status_code == 200, checked.get_json()
        return made

    return make


def call(client, headers, **body):
    return client.post("/api/v1/counter/calls", json={"counter": "Loket 1", **body}, headers=headers)


def error_code(response):
    return response.get_json()["error"]["code"]


def test_call_serve_and_the_public_queue(client, staff, arrived):
    first = arrived(name="Siti Aminah", service_id="jht")
    second = arrived(name="Budi Santoso", service_id="jkk")
    desk = staff()

    called = call(client, desk)
    assert called.status_code == 200
    assert called.get_json() == {
        "queue_number": first["queue_number"],
        "service_id": "jht",
        "counter": "Loket 1",
        "priority": False,
    }

    queue = client.get(f"/api/v1/branches/{BRANCH}/queue")
    assert queue.status_code == 200
    shown = queue.get_json()
    said = shown.pop("announcements")
    assert shown == {
        "branch_id": BRANCH,
        "now_serving": [{"counter": "Loket 1", "queue_number": first["queue_number"]}],
        "waiting": [
            {"queue_number": second["queue_number"], "service_id": "jkk", "estimated_wait_seconds": None}
        ],
        "average_service_seconds": None,
    }
    assert [{k: v for k, v in a.items() if k != "id"} for a in said] == [
        {"queue_number": first["queue_number"], "counter": "Loket 1", "service_id": "jht", "recall": False}
    ]
    text = queue.get_data(as_text=True)
    for secret in ("Siti", "Budi", "3171", "+62", "0812", first["code"], second["code"]):
        assert secret not in text

    url = f"/api/v1/counter/calls/{first['queue_number']}"
    assert client.post(f"{url}/recall", headers=desk).get_json() == {
        "queue_number": first["queue_number"],
        "status": "called",
    }
    served = client.post(f"{url}/served", headers=desk)
    assert served.status_code == 200
    assert served.get_json() == {"queue_number": first["queue_number"], "status": "served"}
    refused = client.post(f"{url}/no_show", headers=desk)
    assert refused.status_code == 409 and error_code(refused) == "too_late"
    assert client.get(f"/api/v1/branches/{BRANCH}/queue").get_json()["now_serving"] == []


def test_nobody_waiting_is_not_found(client, staff):
    response = call(client, staff())
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_a_step_on_someone_not_called_is_not_found(client, staff, arrived):
    waiting = arrived()
    response = client.post(f"/api/v1/counter/calls/{waiting['queue_number']}/served", headers=staff())
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_no_show(client, staff, arrived):
    absent = arrived()
    desk = staff()
    call(client, desk)
    response = client.post(f"/api/v1/counter/calls/{absent['queue_number']}/no_show", headers=desk)
    assert response.get_json() == {"queue_number": absent["queue_number"], "status": "no_show"}


def test_a_resent_call_answers_the_same_participant(client, staff, arrived):
    first, second = arrived(), arrived()
    desk = {**staff(), "Idempotency-Key": "call-1"}
    assert call(client, desk).get_json()["queue_number"] == first["queue_number"]
    assert call(client, desk).get_json()["queue_number"] == first["queue_number"]
    desk["Idempotency-Key"] = "call-2"
    assert call(client, desk).get_json()["queue_number"] == second["queue_number"]


def test_a_key_reused_by_another_counter_or_for_another_number_does_that_not_the_other(
    client, staff, arrived
):
    first, second, third = arrived(), arrived(), arrived()
    desk = {**staff(), "Idempotency-Key": "1"}
    assert call(client, desk).get_json()["queue_number"] == first["queue_number"]
    other_desk = call(client, desk, counter="Loket 2").get_json()
    assert (other_desk["queue_number"], other_desk["counter"]) == (second["queue_number"], "Loket 2")

    for done in (first, second):
        served = client.post(
            f"/api/v1/counter/calls/{done['queue_number']}/served", headers={**desk, "Idempotency-Key": "s"}
        )
        assert served.get_json() == {"queue_number": done["queue_number"], "status": "served"}
    assert call(client, {**desk, "Idempotency-Key": "2"}).get_json()["queue_number"] == third["queue_number"]


def test_tokens_and_branch_scoping(client, staff, arrived, app, clock):
    arrived()
    assert error_code(call(client, {})) == "unauthorized"
    assert call(client, {"Authorization": "Bearer nope"}).status_code == 401
    _kiosk, kiosk_token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu 2", clock())
    assert call(client, {"Authorization": f"Bearer {kiosk_token}"}).status_code == 401

    elsewhere = staff(branches=("makassar",))
    refused = call(client, elsewhere, branch_id=BRANCH)
    assert refused.status_code == 403 and error_code(refused) == "forbidden"
    assert call(client, elsewhere).status_code == 404  # their own branch: nobody waits

    admin_of_two = staff(BRANCH_ADMIN, (BRANCH, "makassar"))
    missing = call(client, admin_of_two)
    assert missing.status_code == 422 and "branch_id" in missing.get_json()["error"]["fields"]
    assert call(client, staff(BRANCH_ADMIN, ("makassar",)), branch_id=BRANCH).status_code == 403
    assert call(client, staff(NATIONAL_ADMIN, ()), branch_id=BRANCH).status_code == 200


def test_bad_bodies(client, staff):
    desk = staff()
    assert client.post("/api/v1/counter/calls", data="x", headers=desk).status_code == 415
    assert call(client, desk, counter=3).status_code == 400
    assert call(client, desk, counter="").status_code == 422
    assert call(client, desk, services=["nope"]).status_code == 422
    assert call(client, desk, extra=1).status_code == 422


def test_transfer_priority_and_pause(client, staff, arrived):
    first = arrived(service_id="jht")
    second = arrived(service_id="jkk")
    desk = staff()
    number = second["queue_number"]
    priority = client.post(
        f"/api/v1/counter/participants/{number}/priority", json={"priority": True}, headers=desk
    )
    assert priority.get_json() == {"queue_number": number, "status": "checked_in"}
    waiting = client.get(f"/api/v1/branches/{BRANCH}/queue").get_json()["waiting"]
    assert waiting[0] == {"queue_number": number, "service_id": "jkk", "estimated_wait_seconds": None}

    moved = client.post(
        f"/api/v1/counter/participants/{first['queue_number']}/transfer",
        json={"service_id": "jkk"},
        headers=desk,
    )
    assert moved.status_code == 200
    called = call(client, desk, services=["jkk"]).get_json()
    assert (called["queue_number"], called["priority"]) == (number, True)
    assert call(client, desk, services=["jkk"]).get_json()["queue_number"] == first["queue_number"]

    paused = client.post("/api/v1/counter/counters/Loket 1/pause", headers=desk)
    assert paused.get_json() == {"counter": "Loket 1", "paused": True}
    assert client.post("/api/v1/counter/counters/Loket 1/resume", headers=desk).status_code == 200


def test_the_public_queue_of_an_unknown_branch(client):
    response = client.get("/api/v1/branches/nowhere/queue")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_a_call_whose_reply_is_lost_is_resent_and_calls_once(make_app, redis_server, clock, redis):
    """The reply of the call's script is lost on the network; redis-py sends it again, and
    the step answers as the first run did (the same participant, the next one still waits)."""
    proxy = ReplyDroppingProxy(redis_server.port)
    try:
        app = make_app(REDIS_URL=proxy.url)
        found = app.extensions["antrian"]
        kiosk, _token = found.kiosks.create(BRANCH, "Pintu", clock())
        numbers = []
        for minute in (5, 6):
            clock.set(dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA))
            booking = found.reservations.reserve(booking_request(), clock())
            arrival = dt.datetime.combine(TUESDAY, dt.time(8, minute), tzinfo=JAKARTA)
            numbers.append(found.checkins.check_in(kiosk, booking.code, arrival).queue_number)
        _account, token = found.accounts.create("desk-one", COUNTER_STAFF, (BRANCH,))
        clock.set(dt.datetime.combine(TUESDAY, dt.time(9, 0), tzinfo=JAKARTA))
        # Only the committing run declares a booking key (the first look does not).
        proxy.drop_reply_to(":booking:")

        response = app.test_client().post(
            "/api/v1/counter/calls", json={"counter": "Loket 1"}, headers={"Authorization": f"Bearer {token}"}
        )

        assert proxy.dropped == 1
        assert response.get_json()["queue_number"] == numbers[0]
        view = found.live_queue.view(BRANCH, clock())
        assert [w.queue_number for w in view.waiting] == [numbers[1]]
        assert view.now_serving == [("Loket 1", numbers[0])]
    finally:
        proxy.close()


def test_branch_admins_set_counters_that_staff_list(client, staff):
    admin, desk = staff(BRANCH_ADMIN, (BRANCH,)), staff()
    url = "/api/v1/counter/counters/Loket 1"
    refused = client.put(url, json={"services": ["jht"]}, headers=desk)
    assert refused.status_code == 403 and error_code(refused) == "forbidden"
    made = client.put(url, json={"services": ["jht"]}, headers=admin)
    assert made.get_json() == {"counter": "Loket 1", "services": ["jht"], "paused": False}
    assert client.put("/api/v1/counter/counters/Loket 2", json={}, headers=admin).status_code == 200
    listed = client.get("/api/v1/counter/counters", headers=desk).get_json()
    assert listed == {
        "branch_id": BRANCH,
        "counters": [
            {"counter": "Loket 1", "services": ["jht"], "paused": False},
            {"counter": "Loket 2", "services": [], "paused": False},
        ],
    }
    assert client.delete(url, headers=admin).status_code == 204
    assert client.delete(url, headers=admin).status_code == 404
    assert client.put(url, json={"services": ["nope"]}, headers=admin).status_code == 422
