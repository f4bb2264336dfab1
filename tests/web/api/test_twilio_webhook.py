"""``POST /webhooks/twilio/status``: Twilio's signed status callback."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from queue_service import create_app
from queue_service.domain import demo
from queue_service.notifications.outbox import Outbox
from queue_service.store import keys
from tests.fake_twilio import AUTH_TOKEN

PUBLIC = "https://antrian.example.id"
SID = "SM" + "a" * 32


@pytest.fixture
def settings(settings):
    return {**settings, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": PUBLIC}


@pytest.fixture
def sent(book, work, redis):
    """A booking whose confirmation went out (file backend), as Twilio would know it."""
    booking = book()
    work()
    # The file backend's id stands in for Twilio's (in the settled record: the booking's).
    redis.hset(keys.booking("jakarta-salemba", booking["code"]), "sms:booked:sid", SID)
    return booking


def callback(
    client,
    code: str,
    status: str,
    url_base: str = PUBLIC,
    token: str = AUTH_TOKEN,
    signature: str | None = None,
    **extra,
):
    query = f"branch=jakarta-salemba&code={code}&event=booked"
    form = {
        "MessageSid": SID,
        "MessageStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "To": "+6281234567890",
        **extra,
    }
    if signature is None:
        signature = RequestValidator(token).compute_signature(
            f"{url_base}/webhooks/twilio/status?{query}", form
        )
    return client.post(
        f"/webhooks/twilio/status?{query}", data=form, headers={"X-Twilio-Signature": signature}
    )


def status_of(redis, code: str) -> str | None:
    return Outbox(redis).delivery("jakarta-salemba", code, "booked").get("status")


def test_a_signed_callback_records_the_status(client, sent, redis):
    response = callback(client, sent["code"], "delivered")
    assert response.status_code == 204
    assert status_of(redis, sent["code"]) == "delivered"


def test_statuses_only_move_forward(client, sent, redis):
    for status in ("sending", "delivered", "sent", "queued"):
        assert callback(client, sent["code"], status).status_code == 204
    assert status_of(redis, sent["code"]) == "delivered"


def test_a_failure_status_keeps_its_error_code(client, sent, redis):
    callback(client, sent["code"], "undelivered", ErrorCode="30003")
    record = Outbox(redis).delivery("jakarta-salemba", sent["code"], "booked")
    assert (record["status"], record["error_code"]) == ("undelivered", "30003")


@pytest.mark.parametrize("how", ["wrong token", "other URL", "garbage", "missing"])
def test_an_unsigned_callback_is_refused(client, sent, redis, how):
    if how == "wrong token":
        response = callback(client, sent["code"], "delivered", token="not-the-token")
    elif how == "other URL":
        response = callback(client, sent["code"], "delivered", url_base="https://evil.example")
    elif how == "garbage":
        response = callback(client, sent["code"], "delivered", signature="bm9wZQ==")
    else:
        response = client.post(
            "/webhooks/twilio/status", data={"MessageSid": SID, "MessageStatus": "delivered"}
        )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert response.get_json()["error"]["message"]
    assert status_of(redis, sent["code"]) == "sent"  # the file backend's, untouched


def test_without_a_public_url_the_request_url_is_signed(redis, settings, clock, booking_body, work):
    demo.seed(redis)
    client = create_app({**settings, "PUBLIC_BASE_URL": None}, clock=clock).test_client()
    response = client.post("/api/v1/bookings", json=booking_body())
    code = response.get_json()["code"]
    work(PUBLIC_BASE_URL=None)
    redis.hset(keys.booking("jakarta-salemba", code), "sms:booked:sid", SID)
    assert callback(client, code, "delivered", url_base="http://localhost").status_code == 204
    assert callback(client, code, "read", url_base=PUBLIC).status_code == 403
    assert status_of(redis, code) == "delivered"


def test_a_callback_names_the_message_when_the_worker_lost_it(client, book, redis):
    booking = book()
    record = keys.sms_delivery("jakarta-salemba", booking["code"], "booked")
    # An attempt whose worker died after Twilio took the message.
    redis.hset(record, mapping={"state": "attempting", "attempt_ms": 0})
    assert callback(client, booking["code"], "sent").status_code == 204
    assert redis.hget(record, "sid") == SID


def test_a_status_for_another_message_is_not_recorded(client, sent, redis):
    other = "SM" + "b" * 32
    form = {"MessageSid": other, "MessageStatus": "failed"}
    query = f"branch=jakarta-salemba&code={sent['code']}&event=booked"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{PUBLIC}/webhooks/twilio/status?{query}", form
    )
    response = client.post(
        f"/webhooks/twilio/status?{query}", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 204
    assert status_of(redis, sent["code"]) == "sent"
