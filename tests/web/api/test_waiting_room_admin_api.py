"""The waiting room in the admin API (issue 21, SPEC §6 "Fair opening"): ``waiting_room`` in the
branch settings (a partial one merged, each number in its range), and the open room's live
view and its rate and pause (``/api/v1/admin/branches/<id>/waiting-room``), audited."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF
from queue_service.domain.tuning import ROOM_BOUNDS
from queue_service.web.messages import FIELDS
from tests.factories import JAKARTA

BRANCH = "jakarta-salemba"
SETTINGS = f"/api/v1/admin/branches/{BRANCH}/settings"
ROOM = f"/api/v1/admin/branches/{BRANCH}/waiting-room"
RELEASE = dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)
DEFAULTS = {
    "enabled": False,
    "opens_minutes_before": 15,
    "admit_per_minute": 300,
    "lasts_minutes": 60,
    "tickets_per_address": 20,
}


def at(clock, minutes: float) -> None:
    clock.set(RELEASE + dt.timedelta(minutes=minutes))


@pytest.fixture
def admin(token):
    return token(BRANCH_ADMIN, BRANCH)


@pytest.fixture
def room_open(client, clock, admin):
    """The branch's room on around a 07:00 release at 60 a minute, set through the API."""
    at(clock, -30)
    body = {"release_time": "07:00", "waiting_room": {"enabled": True, "admit_per_minute": 60}}
    assert client.put(SETTINGS, headers=admin, json=body).status_code == 200


def test_the_settings_show_the_rooms_defaults_and_merge_a_partial_room(client, admin, redis):
    assert client.get(SETTINGS, headers=admin).get_json()["waiting_room"] == DEFAULTS

    first = client.put(SETTINGS, headers=admin, json={"waiting_room": {"enabled": True, "lasts_minutes": 90}})
    assert first.status_code == 200
    assert first.get_json()["waiting_room"] == {**DEFAULTS, "enabled": True, "lasts_minutes": 90}
    second = client.put(SETTINGS, headers=admin, json={"waiting_room": {"admit_per_minute": 50}})
    expected = {**DEFAULTS, "enabled": True, "lasts_minutes": 90, "admit_per_minute": 50}
    assert second.get_json()["waiting_room"] == expected
    assert client.get(SETTINGS, headers=admin).get_json()["waiting_room"] == expected
    # Other settings are left as they were, and each change is audited with before and after.
    assert second.get_json()["daily_quota"] == 160
    newest, older = audit.read(redis, BRANCH, action="settings")
    assert json.loads(newest.before)["waiting_room"]["admit_per_minute"] == 300
    assert json.loads(newest.after)["waiting_room"] == expected
    assert json.loads(older.before).get("waiting_room") is None


@pytest.mark.parametrize("name", sorted(ROOM_BOUNDS))
def test_each_room_number_is_kept_in_its_range_by_the_api_and_its_document(client, admin, name):
    bounds = ROOM_BOUNDS[name]
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    declared = schemas["WaitingRoomSettings"]["properties"][name]
    assert (declared["minimum"], declared["maximum"]) == (bounds.floor, bounds.ceiling)

    def put(value):
        return client.put(SETTINGS, headers=admin, json={"waiting_room": {name: value}})

    assert [put(bounds.floor).status_code, put(bounds.ceiling).status_code] == [200, 200]
    for value, key in ((bounds.floor - 1, bounds.below), (bounds.ceiling + 1, bounds.above)):
        refused = put(value)
        assert refused.status_code == 422
        assert refused.get_json()["error"]["fields"] == {f"waiting_room.{name}": [FIELDS[key]]}
    assert client.get(SETTINGS, headers=admin).get_json()["waiting_room"][name] == bounds.ceiling


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"waiting_room": {"admit_per_minute": "60"}}, 400, {"waiting_room.admit_per_minute"}),
        ({"waiting_room": {"enabled": "yes"}}, 400, {"waiting_room.enabled"}),
        ({"waiting_room": True}, 400, {"waiting_room"}),
        ({"waiting_room": {"rate": 5}}, 422, {"waiting_room.rate"}),
        (
            {"waiting_room": {"admit_per_minute": 0, "opens_minutes_before": 181}},
            422,
            {"waiting_room.admit_per_minute", "waiting_room.opens_minutes_before"},
        ),
    ],
)
def test_a_bad_room_is_named_field_by_field(client, admin, body, status, fields):
    refused = client.put(SETTINGS, headers=admin, json=body)
    assert refused.status_code == status
    assert set(refused.get_json()["error"]["fields"]) == fields
    assert client.get(SETTINGS, headers=admin).get_json()["waiting_room"] == DEFAULTS


def test_the_live_room_before_during_and_without(client, clock, admin, room_open):
    early = client.get(ROOM, headers=admin).get_json()
    assert early["enabled"] is True and early["open"] is None
    assert early["next"] == {
        "id": "20261123",
        "opens_at": "2026-11-23T06:45:00+07:00",
        "release_at": "2026-11-23T07:00:00+07:00",
        "closes_at": "2026-11-23T08:00:00+07:00",
    }
    assert client.put(ROOM, headers=admin, json={"paused": True}).status_code == 404  # no room open

    at(clock, -5)
    for n in range(4):
        client.post(f"/api/v1/branches/{BRANCH}/waiting-room", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    waiting = client.get(ROOM, headers=admin).get_json()
    assert waiting["open"]["id"] == "20261123" and waiting["next"]["id"] == "20261124"
    assert (waiting["unplaced"], waiting["waiting"], waiting["admitted"], waiting["seed"]) == (4, 0, 0, None)
    assert (waiting["admit_per_minute"], waiting["paused"]) == (60, False)

    at(clock, 0)
    client.post(f"/api/v1/branches/{BRANCH}/waiting-room", environ_base={"REMOTE_ADDR": "10.0.1.1"})
    drawn = client.get(ROOM, headers=admin).get_json()
    assert (drawn["unplaced"], drawn["waiting"], drawn["admitted"], drawn["drawn"]) == (0, 4, 1, 4)
    assert len(drawn["seed"]) == 64


def line(client, clock, count: int) -> list[str]:
    """``count`` tickets that joined before the release, in line order (asked at the release)."""
    at(clock, -5)
    tickets = [
        client.post(
            f"/api/v1/branches/{BRANCH}/waiting-room", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}
        ).get_json()["ticket"]
        for n in range(count)
    ]
    at(clock, 0)
    positions = {t: client.get(f"/api/v1/waiting-room/{t}").get_json()["position"] for t in tickets}
    return sorted(tickets, key=positions.get)


def admitted(client, clock, tickets, minutes: float) -> int:
    at(clock, minutes)
    states = [client.get(f"/api/v1/waiting-room/{t}").get_json()["state"] for t in tickets]
    return states.count("admitted")


def test_a_rate_change_and_a_pause_are_audited_and_keep_who_is_in(client, clock, admin, room_open, redis):
    tickets = line(client, clock, 30)
    assert admitted(client, clock, tickets, 0.1) == 7  # 1 + 0.1 x 60

    slower = client.put(ROOM, headers=admin, json={"admit_per_minute": 6})
    assert slower.status_code == 200
    assert (slower.get_json()["admit_per_minute"], slower.get_json()["admitted"]) == (6, 7)
    assert admitted(client, clock, tickets, 0.1 + 9.9 / 60) == 7
    assert admitted(client, clock, tickets, 0.1 + 10 / 60) == 8

    at(clock, 0.5)  # 7 + floor(0.4 x 6) = 9
    paused = client.put(ROOM, headers=admin, json={"paused": True}).get_json()
    assert (paused["paused"], paused["admitted"], paused["waiting"]) == (True, 9, 21)
    # Nobody new while paused (each asked about within its 2 minutes' grace, so none drops out).
    assert admitted(client, clock, tickets, 1.5) == 9
    assert admitted(client, clock, tickets, 2) == 9
    standing = client.get(f"/api/v1/waiting-room/{tickets[9]}").get_json()
    assert (standing["state"], standing["estimated_wait_seconds"]) == ("waiting", None)

    resumed = client.put(ROOM, headers=admin, json={"paused": False, "admit_per_minute": 60}).get_json()
    assert (resumed["paused"], resumed["admitted"]) == (False, 9)  # the pause is not caught up
    assert admitted(client, clock, tickets, 2 + 1 / 60) == 10
    assert admitted(client, clock, tickets, 2.25) == 24

    entries = audit.read(redis, BRANCH, action="waiting_room_rate")
    assert [json.loads(e.before) for e in reversed(entries)] == [
        {"admit_per_minute": 60, "paused": False, "admitted": 7},
        {"admit_per_minute": 6, "paused": False, "admitted": 9},
        {"admit_per_minute": 6, "paused": True, "admitted": 9},
    ]
    assert json.loads(entries[0].after) == {"admit_per_minute": 60, "paused": False, "admitted": 9}
    assert {e.target for e in entries} == {f"{BRANCH}/20261123"}


def test_only_the_branchs_admins_and_national_ones_change_the_room(client, clock, token, room_open):
    at(clock, 1)
    other = token(BRANCH_ADMIN, "bekasi")
    staff = token(COUNTER_STAFF, BRANCH)
    for headers in (other, staff):
        assert client.get(ROOM, headers=headers).status_code == 403
        assert client.put(ROOM, headers=headers, json={"paused": True}).status_code == 403
    national = token()
    assert client.put(ROOM, headers=national, json={"paused": True}).get_json()["paused"] is True
    assert client.get(ROOM, headers=national).get_json()["paused"] is True
    assert client.get("/api/v1/admin/branches/nowhere/waiting-room", headers=national).status_code == 404
    assert client.put(ROOM, headers=national, json={"admit_per_minute": 0}).status_code == 422
    assert client.put(ROOM, headers=national, json={"paused": "yes"}).status_code == 400
