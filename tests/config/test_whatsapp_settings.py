"""The WhatsApp settings (issue 25): the sender and the templates' Content SIDs, read from the
environment in either spelling, and refused by name when they cannot work."""

import pytest

from config import load_settings

OTP_SID = "HX" + "a" * 32
BOOKED_SID = "HX" + "B" * 32


def test_unset_offers_no_whatsapp():
    settings = load_settings({})
    assert settings["TWILIO_WHATSAPP_FROM"] is None
    assert settings["TWILIO_WHATSAPP_TEMPLATES"] is None


@pytest.mark.parametrize(
    "templates",
    [f" otp:{OTP_SID} , booked:{BOOKED_SID} ,", f'{{"otp": "{OTP_SID}", "booked": "{BOOKED_SID}"}}'],
)
def test_templates_as_pairs_or_json(templates):
    settings = load_settings(
        {"TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886", "TWILIO_WHATSAPP_TEMPLATES": templates}
    )
    assert settings["TWILIO_WHATSAPP_TEMPLATES"] == {"otp": OTP_SID, "booked": BOOKED_SID}


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TWILIO_WHATSAPP_FROM": "0812345678"}, "TWILIO_WHATSAPP_FROM must be a number in E.164"),
        (
            {"TWILIO_WHATSAPP_FROM": "+6281100000", "TWILIO_WHATSAPP_TEMPLATES": f"fax:{OTP_SID}"},
            "unknown kind 'fax'",
        ),
        (
            {"TWILIO_WHATSAPP_FROM": "+6281100000", "TWILIO_WHATSAPP_TEMPLATES": "otp:HX12"},
            "otp's Content SID",
        ),
        ({"TWILIO_WHATSAPP_TEMPLATES": f"otp:{OTP_SID}"}, "needs TWILIO_WHATSAPP_FROM"),
        ({"TWILIO_WHATSAPP_TEMPLATES": f"otp:{OTP_SID},otp:{BOOKED_SID}"}, "each name once"),
        ({"TWILIO_WHATSAPP_TEMPLATES": "otp"}, "not name:value"),
        ({"TWILIO_WHATSAPP_TEMPLATES": '{"otp": 1}'}, "not a JSON object of strings"),
        ({"TWILIO_WHATSAPP_TEMPLATES": "{otp"}, "not a JSON object"),
    ],
)
def test_what_cannot_work_is_refused_by_name(environ, named):
    with pytest.raises(ValueError, match="TWILIO_WHATSAPP_") as refused:
        load_settings(environ)
    assert named in str(refused.value)
