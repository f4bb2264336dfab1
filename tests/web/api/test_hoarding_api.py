"""The hoarding view on the admin API (the day's signals; a selection cancelled at once) and
its figures on /metrics."""

from __future__ import annotations

import re

import pytest

from queue_service.domain import audit
from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN
from queue_service.domain.privacy import mask_phone
from queue_service.store import keys
from tests.factories import booking_request

BRANCH = "jakarta-salemba"
SIGNALS = f"/api/v1/admin/branches/{BRANCH}/hoarding?date=2026-11-24"
BULK = "/api/v1/admin/bookings/bulk-cancel"
HOARDER = "+6281277776666"
REASON = "Penimbunan: satu HP di balik banyak NIK"


@pytest.fixture
def hoarded(reservations, clock, tune_branch):
    tune_branch(BRANCH, slot_capacity=100)
    return [
        reservations.reserve(booking_request(phone=HOARDER), clock(), address="203.0.113.7") for _ in range(6)
    ]


def test_the_days_signals_name_the_groups_masked(client, token, hoarded):
    response = client.get(SIGNALS, headers=token(BRANCH_ADMIN, BRANCH))

    assert response.status_code == 200
    body = response.get_json()
    assert (body["branch_id"], body["date"], body["total"]) == (BRANCH, "2026-11-24", 6)
    assert body["statuses"]["booked"] == 6 and body["statuses"]["pending"] == 0
    assert body["statuses"]["expired"] == 0
    (phone,) = body["phones"]
    assert (phone["label"], phone["niks"], phone["active"]) == (mask_phone(HOARDER), 6, 6)
    (address,) = body["addresses"]
    assert address["label"] == "203.0.113.7" and len(address["bookings"]) == 6
    listed = phone["bookings"][0]
    assert listed["address"] == "203.0.113.7" and listed["created_at"].endswith("+07:00")
    assert all(b.nik not in response.get_data(as_text=True) for b in hoarded)
    assert HOARDER not in response.get_data(as_text=True)
    assert body["rate"]["threshold"] == 10 and body["rate"]["usual"] is None
    assert body["thresholds"]["phone_niks"] == 1 and body["pending"] == [] and body["expired"] == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [((BRANCH_ADMIN, "bekasi"), 403), ((COUNTER_STAFF, BRANCH), 403), ((NATIONAL_ADMIN,), 200)],
)
def test_who_may_read_the_signals(client, token, headers, status):
    assert client.get(SIGNALS, headers=token(*headers)).status_code == status


def test_a_bad_date_or_an_unknown_branch_is_refused(client, token):
    headers = token()
    assert (
        client.get(f"/api/v1/admin/branches/{BRANCH}/hoarding?date=24-11-2026", headers=headers).status_code
        == 422
    )
    assert client.get(f"/api/v1/admin/branches/{BRANCH}/hoarding", headers=headers).status_code == 422
    assert (
        client.get("/api/v1/admin/branches/nowhere/hoarding?date=2026-11-24", headers=headers).status_code
        == 404
    )


def test_a_selection_is_cancelled_each_audited_with_its_sms(
    client, token, reservations, clock, redis, hoarded
):
    reservations.cancel(hoarded[2].code, hoarded[2].nik, clock())
    codes = [b.code for b in hoarded[:3]] + ["ABCDEFGHJK"]

    response = client.post(BULK, headers=token(BRANCH_ADMIN, BRANCH), json={"codes": codes, "reason": REASON})

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "cancelled": 2,
        "results": [
            {"code": hoarded[0].code, "outcome": "cancelled", "status": "cancelled"},
            {"code": hoarded[1].code, "outcome": "cancelled", "status": "cancelled"},
            {"code": hoarded[2].code, "outcome": "already_cancelled", "status": "cancelled"},
            {"code": "ABCDEFGHJK", "outcome": "not_found", "status": None},
        ],
    }
    assert len(audit.read(redis, BRANCH, action="booking_cancelled")) == 2
    outbox = redis.zrange(keys.sms_outbox(BRANCH), 0, -1)
    assert {f"{b.code}:cancelled" for b in hoarded[:2]} <= set(outbox)


def test_a_selection_with_another_branchs_booking_is_refused_whole(client, token, reservations, hoarded):
    response = client.post(
        BULK, headers=token(BRANCH_ADMIN, "bekasi"), json={"codes": [hoarded[0].code], "reason": REASON}
    )
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert reservations.get(BRANCH, hoarded[0].code).status == "booked"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"codes": [], "reason": REASON}, "codes"),
        ({"reason": REASON}, "codes"),
        ({"codes": ["A"] * 1001, "reason": REASON}, "codes"),
        ({"codes": ["ABCDEFGHJK"], "reason": "  "}, "reason"),
        ({"codes": ["ABCDEFGHJK"]}, "reason"),
    ],
)
def test_a_bad_selection_is_refused_naming_the_field(client, token, body, field):
    response = client.post(BULK, headers=token(), json=body)
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_the_openapi_document_names_both(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/admin/branches/{branch_id}/hoarding"]
    assert "post" in paths[BULK]


def metric(text: str, name: str, **labels) -> float:
    """The value of one series in a Prometheus exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}{{{wanted}}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_show_the_signals_per_branch_and_the_bulk_cancellations(client, token, hoarded):
    before = client.get("/metrics").get_data(as_text=True)
    assert metric(before, "antrian_hoarding_bookings", branch=BRANCH, signal="phone") == 6
    assert metric(before, "antrian_hoarding_bookings", branch=BRANCH, signal="address") == 6
    assert metric(before, "antrian_hoarding_bookings", branch="bekasi", signal="phone") == 0
    assert metric(before, "antrian_holds", branch=BRANCH, state="expired") == 0
    assert "antrian_booking_peak_per_minute" in before and "antrian_hoarding_burst_days" in before

    client.post(
        BULK,
        headers=token(),
        json={"codes": [hoarded[0].code, hoarded[0].code, "ABCDEFGHJK"], "reason": REASON},
    )

    after = client.get("/metrics").get_data(as_text=True)
    counted = "antrian_bulk_cancellations_total"
    assert metric(after, counted, outcome="cancelled") - metric(before, counted, outcome="cancelled") == 1
    assert metric(after, counted, outcome="not_found") - metric(before, counted, outcome="not_found") == 1
