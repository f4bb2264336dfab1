"""WhatsApp both ways (issue 25): the choice, every message by ``whatsapp:`` addresses (a
template or a plain body), the fall back to SMS, and the replies STATUS, BATAL + YA, STOP and
MULAI, through the real ``twilio`` library against the local fake and a real RQ worker."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from rq import Queue
from twilio.request_validator import RequestValidator

from queue_service.notifications import queues
from queue_service.store import keys
from tests.factories import JAKARTA
from tests.fake_twilio import AUTH_TOKEN, FROM
from workers import runtime

PUBLIC = "https://antrian.example.id"
PHONE = "+6281234567890"
OTHER_PHONE = "+6281298765432"
WHATSAPP_FROM = "+14155238886"
OTP_SID = "HX" + "1" * 32
BOOKED_SID = "HX" + "2" * 32
BRANCH = "jakarta-salemba"


@pytest.fixture
def settings(settings, fake_twilio):
    return {
        **settings,
        **fake_twilio.settings,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "SMS_RETRY_INTERVALS": [0, 0, 0],
        "PUBLIC_BASE_URL": PUBLIC,
        "PHONE_VERIFICATION": True,
    }


def whatsapp(number: str) -> str:
    return f"whatsapp:{number}"


def held(client, booking_body, **fields) -> tuple[dict, dict]:
    """A booking held for its code: the request's body and the 201's."""
    body = booking_body(channel="whatsapp", **fields)
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.get_json()
    return body, response.get_json()


def verified(client, booking_body, work, fake_twilio, **fields) -> tuple[dict, dict]:
    """A booking held, its code read from the WhatsApp message and typed back."""
    body, answer = held(client, booking_body, **fields)
    work()
    otp = fake_twilio.messages[-1]["body"].split()[0]
    response = client.post(f"/api/v1/bookings/{answer['code']}/verify", json={"nik": body["nik"], "otp": otp})
    assert response.status_code == 200, response.get_json()
    return body, response.get_json()


def inbound(client, text: str, phone: str = PHONE, token: str = AUTH_TOKEN, signed: bool = True):
    """A message ``phone`` sends to the service's WhatsApp number, as Twilio posts it."""
    form = {
        "MessageSid": "SM" + "c" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": whatsapp(phone),
        "To": whatsapp(WHATSAPP_FROM),
        "Body": text,
        "NumMedia": "0",
    }
    headers = {}
    if signed:
        signature = RequestValidator(token).compute_signature(f"{PUBLIC}/webhooks/twilio/inbound", form)
        headers["X-Twilio-Signature"] = signature
    return client.post("/webhooks/twilio/inbound", data=form, headers=headers)


def reply_of(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    return text.split("<Message>")[1].split("</Message>")[0]


def test_the_code_and_the_booking_go_by_whatsapp_as_plain_bodies(
    client, booking_body, work, fake_twilio, delivery
):
    body, answer = held(client, booking_body)
    assert answer["channel"] == "whatsapp"
    work()
    [otp_create] = fake_twilio.creates
    assert otp_create.form["To"] == whatsapp(PHONE)
    assert otp_create.form["From"] == whatsapp(WHATSAPP_FROM)
    assert "ContentSid" not in otp_create.form
    otp = otp_create.form["Body"].split()[0]
    assert otp.isdigit() and len(otp) == 6

    confirmed = client.post(
        f"/api/v1/bookings/{answer['code']}/verify", json={"nik": body["nik"], "otp": otp}
    )
    assert confirmed.get_json()["status"] == "booked"
    work()
    booked_create = fake_twilio.creates[-1]
    assert booked_create.form["To"] == whatsapp(PHONE)
    assert booked_create.form["Body"].startswith(f"BPJSTK Jakarta Salemba: antrian {answer['queue_number']}")
    record = delivery(answer["code"])
    assert (record["state"], record["channel"]) == ("sent", "whatsapp")
    assert "fallback" not in record
    assert record["sid"] == fake_twilio.messages[-1]["sid"]


def test_a_kind_with_a_template_goes_as_its_content_sid(
    make_app, booking_body, work, fake_twilio, captcha_answer
):
    templates = {"otp": OTP_SID, "booked": BOOKED_SID}
    client = make_app(TWILIO_WHATSAPP_TEMPLATES=templates).test_client()
    gate_body = booking_body(channel="whatsapp")
    answer = client.post("/api/v1/bookings", json=gate_body).get_json()
    work(TWILIO_WHATSAPP_TEMPLATES=templates)

    [otp_create] = fake_twilio.creates
    assert otp_create.form["ContentSid"] == OTP_SID
    assert "Body" not in otp_create.form
    values = json.loads(otp_create.form["ContentVariables"])
    assert values["2"] == "BPJSTK Jakarta Salemba" and values["3"] == "Selasa, 24 Nov 2026"
    assert values["4"].endswith(" WIB")
    otp = values["1"]

    client.post(f"/api/v1/bookings/{answer['code']}/verify", json={"nik": gate_body["nik"], "otp": otp})
    work(TWILIO_WHATSAPP_TEMPLATES=templates)
    booked_create = fake_twilio.creates[-1]
    assert booked_create.form["ContentSid"] == BOOKED_SID
    assert json.loads(booked_create.form["ContentVariables"]) == {
        "1": "BPJSTK Jakarta Salemba",
        "2": answer["queue_number"],
        "3": "Selasa, 24 Nov 2026 09:00-09:30 WIB",
        "4": answer["code"],
        "5": f"{PUBLIC}/k/{answer['code']}",
    }


def test_an_sms_booking_stays_sms(client, booking_body, work, fake_twilio, delivery):
    answer = client.post("/api/v1/bookings", json=booking_body()).get_json()
    assert answer["channel"] == "sms"
    work()
    [create] = fake_twilio.creates
    assert (create.form["To"], create.form["From"]) == (PHONE, FROM)
    assert "channel" not in delivery(answer["code"], "otp")


def test_whatsapp_refused_for_good_goes_by_sms_once(
    client, booking_body, work, fake_twilio, delivery, worker_settings
):
    fake_twilio.answers.append(
        (400, {"code": 63003, "status": 400, "message": "Channel could not find To address"})
    )
    _body, answer = held(client, booking_body)
    work()
    whatsapp_try, sms = fake_twilio.creates
    assert whatsapp_try.form["To"] == whatsapp(PHONE)
    assert (sms.form["To"], sms.form["From"]) == (PHONE, FROM)
    assert sms.form["Body"] == whatsapp_try.form["Body"]
    assert len(fake_twilio.messages) == 1
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["channel"], record["fallback"]) == ("sent", "sms", "63003")
    assert record["sid"] == fake_twilio.messages[0]["sid"]
    # A second job for the event sends nothing more.
    connection = runtime.queue_connection(worker_settings)
    Queue(queues.SMS, connection=connection).enqueue("workers.sms.send_sms", BRANCH, answer["code"], "otp")
    work()
    assert len(fake_twilio.creates) == 2
    outcomes = connection.hgetall(keys.SMS_OUTCOMES)
    assert (outcomes[b"otp:sent"], outcomes[b"otp:whatsapp_fallback"]) == (b"1", b"1")


def test_a_refusal_that_is_no_whatsapp_one_fails_without_an_sms(
    client, booking_body, work, fake_twilio, delivery
):
    fake_twilio.answers.append((400, {"code": 21211, "status": 400, "message": "Invalid 'To'"}))
    _body, answer = held(client, booking_body)
    work()
    assert len(fake_twilio.creates) == 1
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["error_code"], record["channel"]) == ("failed", "21211", "whatsapp")


def test_status_lists_the_active_bookings_with_zone_and_place_in_line(
    app, client, booking_body, work, fake_twilio, clock
):
    _body, jakarta = verified(client, booking_body, work, fake_twilio)
    _body, jayapura = verified(client, booking_body, work, fake_twilio, branch_id="jayapura", slot="10:00")
    reply = reply_of(inbound(client, "status"))
    assert reply.startswith("Antrian aktif Anda:")
    line = f"{jakarta['queue_number']} BPJSTK Jakarta Salemba, Selasa, 24 Nov 2026 09:00-09:30 WIB"
    assert f"{line}, kode {jakarta['code']}" in reply
    assert "10:00-10:30 WIT" in reply and jayapura["code"] in reply

    kiosks = app.extensions["antrian"].kiosks
    door, _token = kiosks.create(BRANCH, "Pintu depan", clock())
    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA))
    app.extensions["antrian"].checkins.check_in(door, jakarta["code"], clock())
    reply = reply_of(inbound(client, "STATUS"))
    assert f"kode {jakarta['code']} (sudah check-in, 0 orang di depan Anda)" in reply


def test_status_of_a_phone_without_bookings_and_of_another_phone(client, booking_body, work, fake_twilio):
    verified(client, booking_body, work, fake_twilio)
    assert (
        reply_of(inbound(client, "STATUS", phone=OTHER_PHONE)) == "Tidak ada antrian aktif untuk nomor ini."
    )


def test_batal_then_ya_cancels_and_the_cancellation_goes_by_whatsapp(
    client, booking_body, work, fake_twilio, delivery, redis
):
    _body, booking = verified(client, booking_body, work, fake_twilio)
    work()
    asked = reply_of(inbound(client, f"batal {booking['code'].lower()}"))
    assert asked.startswith(f"Batalkan antrian {booking['queue_number']} BPJSTK Jakarta Salemba")
    assert asked.endswith("Balas YA dalam 5 menit.")
    assert redis.hget(keys.booking(BRANCH, booking["code"]), "status") == "booked"

    done = reply_of(inbound(client, "YA"))
    assert done == f"Antrian {booking['queue_number']} kode {booking['code']} DIBATALKAN."
    assert redis.hget(keys.booking(BRANCH, booking["code"]), "status") == "cancelled"
    # A second YA finds nothing asked.
    assert reply_of(inbound(client, "ya")).startswith("Tidak ada pembatalan yang menunggu jawaban.")

    work()
    cancellation = fake_twilio.creates[-1]
    assert cancellation.form["To"] == whatsapp(PHONE)
    assert "DIBATALKAN" in cancellation.form["Body"]
    assert delivery(booking["code"], "cancelled")["channel"] == "whatsapp"
    assert reply_of(inbound(client, "STATUS")) == "Tidak ada antrian aktif untuk nomor ini."


def test_batal_of_another_phones_booking_is_refused_as_an_unknown_code(
    client, booking_body, work, fake_twilio, redis
):
    _body, theirs = verified(client, booking_body, work, fake_twilio, phone=OTHER_PHONE)
    refused = reply_of(inbound(client, f"BATAL {theirs['code']}"))
    unknown = reply_of(inbound(client, "BATAL ABCD2345EF"))
    assert refused == unknown == "Kode itu tidak ditemukan di antrian aktif nomor ini."
    assert reply_of(inbound(client, "YA")).startswith("Tidak ada pembatalan")
    assert redis.hget(keys.booking(BRANCH, theirs["code"]), "status") == "booked"


def test_stop_sends_nothing_more_until_mulai(client, booking_body, work, fake_twilio, delivery):
    body, booking = verified(client, booking_body, work, fake_twilio)
    sent_before = len(fake_twilio.creates)
    stopped = reply_of(inbound(client, "BERHENTI"))
    assert stopped.startswith("Anda tidak akan menerima pesan lagi")
    work()  # the confirmation
    assert len(fake_twilio.creates) == sent_before
    assert delivery(booking["code"])["state"] == "suppressed"

    assert reply_of(inbound(client, "MULAI")).startswith("Pesan dari Antrian BPJSTK aktif lagi")
    client.post(f"/api/v1/bookings/{booking['code']}/cancel", json={"nik": body["nik"]})
    work()
    assert len(fake_twilio.creates) == sent_before + 1
    assert "DIBATALKAN" in fake_twilio.creates[-1].form["Body"]
    assert delivery(booking["code"], "cancelled")["state"] == "sent"


def test_unknown_text_gets_the_help_and_stop_holds_back_even_the_code(
    client, booking_body, work, fake_twilio
):
    held(client, booking_body)
    assert reply_of(inbound(client, "apa ini?")).startswith("Antrian BPJSTK. Balas dengan:")
    assert "BATAL &lt;kode&gt;" in reply_of(inbound(client, "BANTUAN"))
    assert reply_of(inbound(client, "stop")).startswith("Anda tidak akan menerima pesan lagi")
    work()
    assert fake_twilio.creates == []  # not even the one-time code


def test_a_booking_made_in_english_gets_english_replies(client, booking_body, work, fake_twilio):
    body = booking_body(channel="whatsapp")
    answer = client.post("/api/v1/bookings", json=body, headers={"Accept-Language": "en"}).get_json()
    reply = reply_of(inbound(client, "STATUS"))
    assert reply.startswith("Your active bookings:")
    assert f"{answer['queue_number']} BPJSTK Jakarta Salemba, Tuesday, 24 Nov 2026 09:00-09:30 WIB" in reply
    assert "(waiting for its verification code)" in reply


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
def test_an_unsigned_or_badly_signed_message_is_403(client, booking_body, signature):
    if signature is None:
        response = inbound(client, "STATUS", signed=False)
    else:
        response = client.post(
            "/webhooks/twilio/inbound",
            data={"From": whatsapp(PHONE), "Body": "STOP"},
            headers={"X-Twilio-Signature": signature},
        )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    forged = inbound(client, "STOP", token="another-token")
    assert forged.status_code == 403


def test_whatsapp_not_offered_and_an_unknown_channel_are_422_naming_channel(make_app, booking_body):
    client = make_app(TWILIO_WHATSAPP_FROM=None).test_client()
    for channel, message in (
        ("whatsapp", "Pesan lewat WhatsApp"),
        ("fax", "Saluran pesan: sms atau whatsapp."),
    ):
        response = client.post("/api/v1/bookings", json=booking_body(channel=channel))
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert list(error["fields"]) == ["channel"]
        assert error["fields"]["channel"][0].startswith(message)


def status_callback(client, code: str, event: str, sid: str, status: str, error_code: str = ""):
    """Twilio's signed status callback of one event's message."""
    query = f"branch={BRANCH}&code={code}&event={event}"
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if error_code:
        form["ErrorCode"] = error_code
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{PUBLIC}/webhooks/twilio/status?{query}", form
    )
    response = client.post(
        f"/webhooks/twilio/status?{query}", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 204


def test_whatsapp_undelivered_later_goes_by_sms_once(
    client, booking_body, work, fake_twilio, delivery, worker_settings
):
    _body, answer = held(client, booking_body)
    work()
    [whatsapp_message] = fake_twilio.messages
    assert delivery(answer["code"], "otp")["channel"] == "whatsapp"
    # Twilio took it, then WhatsApp said the number has no account.
    status_callback(client, answer["code"], "otp", whatsapp_message["sid"], "undelivered", "63003")
    status_callback(client, answer["code"], "otp", whatsapp_message["sid"], "undelivered", "63003")
    work()
    whatsapp_create, sms = fake_twilio.creates
    assert (sms.form["To"], sms.form["From"]) == (PHONE, FROM)
    assert sms.form["Body"] == whatsapp_create.form["Body"]
    sms_message = fake_twilio.messages[-1]
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["sid"], record["channel"], record["fallback"]) == (
        "sent",
        sms_message["sid"],
        "sms",
        "63003",
    )
    assert record["whatsapp_sid"] == whatsapp_message["sid"]
    # Late news of either message: the WhatsApp one's changes nothing, the SMS's is recorded;
    # nothing goes again.
    status_callback(client, answer["code"], "otp", whatsapp_message["sid"], "failed", "63016")
    status_callback(client, answer["code"], "otp", sms_message["sid"], "delivered")
    work()
    assert len(fake_twilio.creates) == 2
    assert delivery(answer["code"], "otp")["status"] == "delivered"
    outcomes = runtime.queue_connection(worker_settings).hgetall(keys.SMS_OUTCOMES)
    assert (outcomes[b"otp:sent"], outcomes[b"otp:whatsapp_fallback"]) == (b"2", b"1")


def test_an_sms_undelivered_is_not_sent_again(client, booking_body, work, fake_twilio, delivery):
    answer = client.post("/api/v1/bookings", json=booking_body()).get_json()
    work()
    [message] = fake_twilio.messages
    status_callback(client, answer["code"], "otp", message["sid"], "undelivered", "63003")
    work()
    assert len(fake_twilio.creates) == 1
    assert delivery(answer["code"], "otp")["status"] == "undelivered"


def test_batal_needs_a_code_and_a_checked_in_booking_can_no_longer_be_cancelled(
    app, client, booking_body, work, fake_twilio, clock, redis
):
    _body, booking = verified(client, booking_body, work, fake_twilio)
    assert reply_of(inbound(client, "BATAL")) == "Kirim BATAL diikuti kode antrian, mis. BATAL ABCD2345."
    door, _token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu depan", clock())
    clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=JAKARTA))
    app.extensions["antrian"].checkins.check_in(door, booking["code"], clock())
    assert reply_of(inbound(client, f"BATAL {booking['code']}")).startswith("Batalkan antrian")
    refused = reply_of(inbound(client, "YA"))
    assert refused.startswith(f"Antrian {booking['queue_number']} tidak dapat dibatalkan lagi")
    assert redis.hget(keys.booking(BRANCH, booking["code"]), "status") == "checked_in"


def test_a_booking_made_in_english_is_cancelled_in_english(client, booking_body, work, fake_twilio, redis):
    body = booking_body(channel="whatsapp")
    answer = client.post(
        "/api/v1/bookings", json=body, headers={"Accept-Language": "en-GB,en;q=0.9"}
    ).get_json()
    assert redis.hget(keys.booking(BRANCH, answer["code"]), "language") == "en"
    asked = reply_of(inbound(client, f"batal {answer['code']}"))
    assert asked.startswith(
        f"Cancel booking {answer['queue_number']} BPJSTK Jakarta Salemba, Tuesday, 24 Nov 2026"
    )
    assert asked.endswith("Reply YA within 5 minutes.")
    assert (
        reply_of(inbound(client, "YES"))
        == f"Booking {answer['queue_number']} code {answer['code']} CANCELLED."
    )
    assert redis.hget(keys.booking(BRANCH, answer["code"]), "status") == "cancelled"
