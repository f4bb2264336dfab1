"""Webhooks of outside services: Twilio's SMS status callback (SPEC §3) and the messages
participants send to the service's WhatsApp number (SPEC §6)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import RequestEntityTooLarge

from queue_service.domain.inbound_replies import InboundReplies
from queue_service.domain.opt_outs import OptOuts
from queue_service.notifications.delivery import STATUS_CALLBACK_PATH
from queue_service.web.errors import error_response
from queue_service.web.extensions import services

bp = Blueprint("webhooks", __name__)

INBOUND_PATH = "/webhooks/twilio/inbound"
# Twilio posts a WhatsApp message's whole text (up to 4,096 characters, a character up to 9
# bytes URL-encoded) beside a dozen fields: more than the 16 KiB the service takes elsewhere.
# The webhooks take what nginx lets through (client_max_body_size in deploy/nginx/antrian.conf).
WEBHOOK_MAX_BODY_BYTES = 64 * 1024


@bp.before_request
def _take_twilio_forms():
    request.max_content_length = WEBHOOK_MAX_BODY_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    """A message beyond even that still gets TwiML (the list of words), never a JSON error
    Twilio would hand the participant nothing of; nothing of it was read or acted on."""
    if request.path != INBOUND_PATH:
        return error_response("bad_request")
    return _twiml(InboundReplies.help_text())


@bp.post(STATUS_CALLBACK_PATH)
def twilio_status():
    """Record a delivery status Twilio reports; 403 unless Twilio signed the request."""
    if not _signed_by_twilio():
        return error_response("forbidden")
    form = request.form
    services().outbox.record_status(
        request.args.get("branch", ""),
        request.args.get("code", ""),
        request.args.get("event", ""),
        form.get("MessageSid", ""),
        form.get("MessageStatus", ""),
        form.get("ErrorCode") or None,
    )
    return "", 204


@bp.post(INBOUND_PATH)
def twilio_inbound():
    """Answer a message a participant sent (``STATUS``, ``BATAL <kode>`` …) with TwiML; 403
    unless Twilio signed the request."""
    if not _signed_by_twilio():
        return error_response("forbidden")
    reply = _replies().answer(request.form.get("From", ""), request.form.get("Body", ""), services().clock())
    return _twiml(reply)


def _twiml(reply: str) -> Response:
    """``reply`` as the message of a TwiML answer."""
    twiml = MessagingResponse()
    twiml.message(reply)
    return Response(str(twiml), mimetype="text/xml")


def _replies() -> InboundReplies:
    """The replies over this app's services (the phone digests keyed as the caps' are)."""
    found = services()
    opt_outs = OptOuts.from_settings(found.redis, current_app.config)

    def place_in_line(branch_id: str, queue_number: str, now) -> int | None:
        place = found.live_queue.place_of(branch_id, queue_number, now)
        return None if place is None else place.ahead

    return InboundReplies(found.reservations, opt_outs, place_in_line, found.waitlist)


def _signed_by_twilio() -> bool:
    """Whether ``X-Twilio-Signature`` matches the URL Twilio called and the form it sent."""
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(_called_url(), request.form, signature)


def _called_url() -> str:
    """The URL as Twilio called it: behind proxies, ``PUBLIC_BASE_URL`` plus path and query."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        return request.url
    query = request.query_string.decode("ascii", "replace")
    return f"{base.rstrip('/')}{request.path}" + (f"?{query}" if query else "")
