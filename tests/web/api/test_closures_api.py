"""Closures of days in the admin API (issue 22): POST /api/v1/admin/closure-ranges, GET and
DELETE /api/v1/admin/closure-ranges/<closure_id>; the one-date endpoints keep working beside them."""

from __future__ import annotations

import pytest

from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF
from queue_service.web.messages import FIELDS

CLOSURES = "/api/v1/admin/closure-ranges"
BRANCH = "jakarta-salemba"
RANGE = {"from": "2026-11-24", "to": "2026-11-26", "note": "Banjir di sekitar kantor"}


def error(response) -> tuple[int, str]:
    return response.status_code, response.get_json()["error"]["code"]


def test_a_branch_admin_closes_their_branch_and_reads_the_sms_go_out(client, token, book, work, sent_sms):
    siti = token(BRANCH_ADMIN, BRANCH)
    made = [book(date=day) for day in ("2026-11-24", "2026-11-25")]
    kept = book(date="2026-11-27")
    work()

    response = client.post(CLOSURES, headers=siti, json={"branch_id": BRANCH, **RANGE})

    assert response.status_code == 201
    closure = response.get_json()
    assert closure["closure_id"].startswith("cl-")
    assert {k: closure[k] for k in ("branch_ids", "all_branches", "from", "to", "note", "cancelled")} == {
        "branch_ids": [BRANCH],
        "all_branches": False,
        **RANGE,
        "cancelled": 2,
    }
    assert closure["sms"] == {"queued": 2, "sent": 0, "delivered": 0, "failed": 0}
    assert (closure["created_by"], closure["reopened_at"]) == ("user0", None)

    work()

    live = client.get(f"{CLOSURES}/{closure['closure_id']}", headers=siti).get_json()
    assert live["sms"] == {"queued": 0, "sent": 2, "delivered": 0, "failed": 0}
    assert {line["code"] for line in sent_sms() if line["event"] == "closed"} == {b["code"] for b in made}
    bookings = client.get(
        f"/api/v1/admin/branches/{BRANCH}/bookings?date=2026-11-27", headers=siti
    ).get_json()["bookings"]
    assert [(b["code"], b["status"]) for b in bookings] == [(kept["code"], "booked")]


def test_a_booking_in_the_range_is_refused_until_it_is_reopened(client, token, booking_body):
    national = token()
    closure = client.post(CLOSURES, headers=national, json=RANGE).get_json()
    assert closure["all_branches"] is True and "branch_ids" not in closure

    for branch_id in (BRANCH, "makassar"):
        refused = client.post("/api/v1/bookings", json=booking_body(branch_id=branch_id, date="2026-11-25"))
        assert error(refused) == (409, "not_bookable")

    reopened = client.delete(f"{CLOSURES}/{closure['closure_id']}", headers=national)

    assert reopened.status_code == 200 and reopened.get_json()["reopened_at"]
    assert client.post("/api/v1/bookings", json=booking_body(date="2026-11-25")).status_code == 201


def test_reopening_leaves_the_cancelled_bookings_cancelled(client, token, book):
    national = token()
    book()
    closure = client.post(CLOSURES, headers=national, json={"branch_id": BRANCH, **RANGE}).get_json()
    assert closure["cancelled"] == 1
    client.delete(f"{CLOSURES}/{closure['closure_id']}", headers=national)
    listed = client.get(f"/api/v1/admin/branches/{BRANCH}/bookings?date=2026-11-24", headers=national)
    assert [b["status"] for b in listed.get_json()["bookings"]] == ["cancelled"]
    assert client.get(f"{CLOSURES}/{closure['closure_id']}", headers=national).get_json()["cancelled"] == 1


def test_who_may_close_what(client, token):
    siti = token(BRANCH_ADMIN, BRANCH)
    assert error(client.post(CLOSURES, headers=siti, json={"branch_id": "bekasi", **RANGE})) == (
        403,
        "forbidden",
    )
    assert error(client.post(CLOSURES, headers=siti, json=RANGE)) == (403, "forbidden")
    staff = token(COUNTER_STAFF, BRANCH)
    assert error(client.post(CLOSURES, headers=staff, json={"branch_id": BRANCH, **RANGE})) == (
        403,
        "forbidden",
    )
    assert error(client.post(CLOSURES, json=RANGE)) == (401, "unauthorized")

    others = client.post(CLOSURES, headers=token(), json={"branch_id": "bekasi", **RANGE}).get_json()
    assert error(client.get(f"{CLOSURES}/{others['closure_id']}", headers=siti)) == (403, "forbidden")
    assert error(client.delete(f"{CLOSURES}/{others['closure_id']}", headers=siti)) == (403, "forbidden")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**RANGE, "from": "2026-11-22"}, {"from": ["date_in_past"]}),
        ({**RANGE, "to": "2026-11-23"}, {"to": ["range_order"]}),
        ({**RANGE, "to": "2027-11-25"}, {"to": ["range_too_long"]}),  # 367 days
        ({**RANGE, "note": "   "}, {"note": ["required"]}),
        ({**RANGE, "note": "x" * 121}, {"note": ["too_long"]}),
        ({"from": "24-11-2026"}, {"from": ["invalid_date"], "to": ["required"], "note": ["required"]}),
        ({**RANGE, "branch_id": "nowhere"}, {"branch_id": ["unknown_branch"]}),
        ({**RANGE, "until": "2026-11-30"}, {"until": ["unknown_field"]}),
    ],
)
def test_a_bad_closure_is_refused_naming_each_field(client, token, body, fields, redis):
    response = client.post(CLOSURES, headers=token(), json=body)
    assert error(response) == (422, "validation_failed")
    assert response.get_json()["error"]["fields"] == {
        field: [FIELDS[key] for key in keys] for field, keys in fields.items()
    }
    assert redis.keys("antrian:{closures}:*") == []


def test_wrong_types_are_a_bad_request(client, token):
    assert error(client.post(CLOSURES, headers=token(), json={**RANGE, "note": 5})) == (400, "bad_request")
    assert error(client.post(CLOSURES, headers=token(), data="x", content_type="text/plain"))[0] == 415


def test_an_unknown_closure_is_not_found(client, token):
    for closure_id in ("cl-0123456789abcdef", "nothing"):
        assert error(client.get(f"{CLOSURES}/{closure_id}", headers=token())) == (404, "not_found")
    assert error(client.delete(f"{CLOSURES}/cl-0123456789abcdef", headers=token())) == (404, "not_found")


def test_the_one_date_closures_keep_working(client, token):
    national, one_date = token(), "/api/v1/admin/closures"
    assert (
        client.put(f"{one_date}/2026-11-24", headers=national, json={"note": "Berkabung"}).status_code == 200
    )
    assert client.delete(f"{one_date}/2026-11-24", headers=national).status_code == 204
    assert error(client.delete(f"{one_date}/24-11-2026", headers=national)) == (422, "validation_failed")
    assert error(client.delete(f"{CLOSURES}/2026-11-24", headers=national)) == (404, "not_found")
    assert error(client.delete(f"{one_date}/2026-11-24", headers=token(BRANCH_ADMIN, BRANCH))) == (
        403,
        "forbidden",
    )
    day = f"/api/v1/admin/branches/{BRANCH}/dates/2026-11-24"
    assert client.put(day, headers=national, json={"closed": True}).status_code == 200
    assert client.delete(day, headers=national).status_code == 204


def test_the_openapi_document_describes_the_closures(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    post = paths[CLOSURES]["post"]
    assert post["security"] == [{"adminToken": []}]
    assert {"201", "400", "401", "403", "415", "422", "503"} <= set(post["responses"])
    for key in ("date_in_past", "range_order", "range_too_long"):
        assert f"`{key}`" in post["responses"]["422"]["description"]
    one = paths[f"{CLOSURES}/{{closure_id}}"]
    assert set(one) == {"get", "delete"}
    assert one["get"]["parameters"][0]["schema"]["pattern"] == "^(?:cl-[0-9a-f]{16})$"
