"""The backends on their own: console, file, Twilio's base URL and error classes."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from queue_service.notifications import backends
from queue_service.notifications.backends import OutgoingSms
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM

SMS = OutgoingSms(to="+6281234567890", body="Antrian A-001", code="7K3QX9MZ2W", event="booked")
SINCE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_console_logs_the_body_with_the_phone_masked(caplog):
    caplog.set_level(logging.INFO)
    backends.ConsoleSender().send(SMS)
    assert "Antrian A-001" in caplog.text
    assert "+62812****7890" in caplog.text
    assert "+6281234567890" not in caplog.text


def test_file_appends_one_json_object_per_line_and_finds_it_again(tmp_path):
    sender = backends.FileSender(tmp_path / "sms" / "outbox.jsonl")
    assert sender.find(SMS, SINCE) is None
    sent = sender.send(SMS)
    sender.send(OutgoingSms(to=SMS.to, body="other", code="X", event="cancelled"))
    lines = [json.loads(line) for line in (tmp_path / "sms" / "outbox.jsonl").read_text().splitlines()]
    assert lines[0] == {
        "to": "+6281234567890",
        "body": "Antrian A-001",
        "code": "7K3QX9MZ2W",
        "event": "booked",
    }
    assert len(lines) == 2
    assert sender.find(SMS, SINCE) == sent


def test_twilio_goes_to_the_configured_base_url_with_a_timeout(fake_twilio):
    sender = backends.make_sender({**fake_twilio.settings, "SMS_OUTBOX": None})
    assert sender.client.http_client.timeout == 2
    sent = sender.send(SMS)
    assert sent.sid.startswith("SM") and sent.status == "queued"
    assert sender.find(SMS, SINCE) == sent
    assert sender.find(OutgoingSms(to=SMS.to, body="different", code="X", event="booked"), SINCE) is None
    assert [seen.method for seen in fake_twilio.seen] == ["POST", "GET", "GET"]


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, 21211, backends.SmsPermanentError),
        (400, 21610, backends.SmsPermanentError),
        (400, 21614, backends.SmsPermanentError),
        (400, 21408, backends.SmsPermanentError),
        (429, 20429, backends.SmsRejectedError),
        (401, 20003, backends.SmsRejectedError),
        (500, 20500, backends.SmsUncertainError),
        (503, 20503, backends.SmsUncertainError),
    ],
)
def test_twilio_errors_are_classified(fake_twilio, status, code, error):
    fake_twilio.answers.append((status, {"code": code, "message": "no", "status": status}))
    sender = backends.make_sender({**fake_twilio.settings, "SMS_OUTBOX": None})
    with pytest.raises(error):
        sender.send(SMS)


def test_a_network_failure_is_uncertain():
    sender = backends.TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM, "http://127.0.0.1:9", timeout=1)
    with pytest.raises(backends.SmsUncertainError) as raised:
        sender.send(SMS)
    assert "+62" not in str(raised.value)


def test_the_twilio_client_reads_the_proxy_settings_once_for_its_one_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.agency.example:3128")
    monkeypatch.setenv("NO_PROXY", "edge.local")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/antrian/ca.pem")

    remote = backends.ApiBaseHttpClient("https://api.twilio.com", timeout=5)
    exempt = backends.ApiBaseHttpClient("https://edge.local:8443", timeout=5)

    assert remote.proxy["https"] == "http://proxy.agency.example:3128"
    assert "https" not in exempt.proxy  # NO_PROXY, as requests would judge it per request
    assert remote.session.verify == "/etc/antrian/ca.pem"
    # Read once here: a request does not read the environment again.
    assert remote.session.trust_env is False
    monkeypatch.setenv("HTTPS_PROXY", "http://elsewhere.example:8080")
    settings = remote.session.merge_environment_settings(
        "https://api.twilio.com/x", remote.proxy, None, None, None
    )
    assert settings["proxies"]["https"] == "http://proxy.agency.example:3128"
