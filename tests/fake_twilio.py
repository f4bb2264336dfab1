"""A local stand-in for Twilio's Messages API (create and list), on pytest-httpserver."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token"
FROM = "+15005550006"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    auth: tuple[str, str] | None
    form: dict[str, str]
    args: dict[str, str]


@dataclass
class FakeTwilio:
    """Answers like Twilio: 201 with a message on create, a page of messages on list.

    ``answers`` scripts the next create requests (``(status, json_body)``), e.g. a 500
    then the default success; ``on_create`` runs after a message is stored.
    """

    server: HTTPServer
    messages: list[dict] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    answers: list[tuple[int, dict]] = field(default_factory=list)
    on_create: Callable[[dict], None] | None = None

    def install(self) -> FakeTwilio:
        self.server.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(self._create)
        self.server.expect_request(MESSAGES_PATH, method="GET").respond_with_handler(self._list)
        return self

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @property
    def settings(self) -> dict:
        return {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": FROM,
            "TWILIO_API_BASE_URL": self.base_url,
            "TWILIO_TIMEOUT_SECONDS": 2,
        }

    @property
    def creates(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.method == "POST"]

    @property
    def lists(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.method == "GET"]

    def _remember(self, request: Request) -> Seen:
        auth = request.authorization
        seen = Seen(
            request.method,
            request.path,
            (auth.username, auth.password) if auth else None,
            request.form.to_dict(),
            request.args.to_dict(),
        )
        self.seen.append(seen)
        return seen

    def _authorised(self, seen: Seen) -> bool:
        return seen.auth == (ACCOUNT_SID, AUTH_TOKEN)

    def _create(self, request: Request) -> Response:
        seen = self._remember(request)
        if not self._authorised(seen):
            return _json(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if self.answers:
            return _json(*self.answers.pop(0))
        now = email.utils.format_datetime(dt.datetime.now(dt.UTC))
        message = {
            "sid": "SM" + uuid.uuid4().hex,
            "account_sid": ACCOUNT_SID,
            "to": seen.form["To"],
            "from": seen.form["From"],
            "body": seen.form["Body"] if "Body" in seen.form else _rendered(seen.form),
            "status": "queued",
            "direction": "outbound-api",
            # As Twilio: no DateSent while the message is still queued.
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
        }
        self.messages.append(message)
        if self.on_create is not None:
            self.on_create(message)
        return _json(201, message)

    def _list(self, request: Request) -> Response:
        seen = self._remember(request)
        if not self._authorised(seen):
            return _json(401, {"code": 20003, "message": "Authenticate", "status": 401})
        since = seen.args.get("DateSent>")
        found = [
            message
            for message in self.messages
            if message["to"] == seen.args.get("To")
            and seen.args.get("From", message["from"]) == message["from"]
            and (
                since is None
                or (
                    message["date_sent"] is not None
                    and email.utils.parsedate_to_datetime(message["date_sent"])
                    >= dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
                )
            )
        ]
        return _json(
            200,
            {
                "messages": found,
                "start": 0,
                "end": len(found),
                "page": 0,
                "page_size": 50,
                "uri": MESSAGES_PATH,
                "first_page_uri": MESSAGES_PATH,
                "next_page_uri": None,
                "previous_page_uri": None,
            },
        )


def _rendered(form: dict[str, str]) -> str:
    """The text Twilio makes of an approved template (a ``ContentSid`` without a ``Body``):
    here its SID and its placeholders' values in order, which is all a test needs to see."""
    variables = json.loads(form.get("ContentVariables") or "{}")
    return f"[{form['ContentSid']}] " + " | ".join(variables[key] for key in sorted(variables, key=int))


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
