"""``POST /webhooks/twilio/inbound`` with a long WhatsApp message: Twilio gets TwiML, never a
JSON error, up to the 64 KiB nginx lets through and beyond."""

from __future__ import annotations

from queue_service.web.api.webhooks import WEBHOOK_MAX_BODY_BYTES
from tests.workers.test_whatsapp import (  # noqa: F401 - ``settings``: the WhatsApp set-up
    held,
    inbound,
    reply_of,
    settings,
)


def test_a_long_reply_beyond_16_kib_is_answered(client, booking_body):
    _body, answer = held(client, booking_body)
    # A WhatsApp message of 4,000 characters, each 12 bytes URL-encoded (a 4-byte emoji).
    text = "STATUS " + "\N{PERSON WITH FOLDED HANDS}" * 4000
    response = inbound(client, text)
    assert response.status_code == 200
    assert reply_of(response).startswith("Antrian aktif Anda:")
    assert answer["code"] in reply_of(response)


def test_a_body_beyond_what_nginx_lets_through_gets_the_help_in_twiml(client, booking_body):
    held(client, booking_body)
    response = inbound(client, "STOP " + "x" * WEBHOOK_MAX_BODY_BYTES)
    assert reply_of(response).startswith("Antrian BPJSTK. Balas dengan:")
    # Not read, so not acted on: the STOP did not stop the phone.
    assert reply_of(inbound(client, "STATUS")).startswith("Antrian aktif Anda:")
