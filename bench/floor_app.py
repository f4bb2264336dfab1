"""The floor of a booking POST, for ``make bench``: the service's own app with three more
routes that each do a first part of what ``POST /api/v1/bookings`` must do, and book nothing.

- ``POST /bench/floor/body``: read the JSON body and answer a small JSON object;
- ``POST /bench/floor/captcha``: that, and consume the captcha the body names (the real
  gate's one script call, so one round trip to Redis);
- ``POST /bench/floor/fields``: that, and validate the booking's fields through the API's
  own schema.

Every booking must do all three before it books, so the last row's rate against
``/healthz`` is more than a booking POST could reach on this stack, whatever the booking
itself cost. Runs ``queue-service serve`` (``queue_service.cli``) with ``create_app``
wrapped, so gunicorn is set up as the service's own.

    .venv/bin/python bench/floor_app.py --host 127.0.0.1 --port 8002
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Blueprint, Flask  # noqa: E402

import queue_service  # noqa: E402
from queue_service import cli, csrf  # noqa: E402
from queue_service.web.extensions import services  # noqa: E402
from queue_service.web.requests import json_object, load  # noqa: E402
from queue_service.web.schemas import public as schemas  # noqa: E402

_service_app = queue_service.create_app
_BOOKING_REQUEST = schemas.BookingRequestSchema()


def create_app() -> Flask:
    """The service's app with the floor's routes."""
    app = _service_app()
    floor = Blueprint("bench_floor", __name__, url_prefix="/bench/floor")

    @floor.post("/body")
    def body_only():
        json_object()
        return {"status": "ok"}, 201

    @floor.post("/captcha")
    def captcha():
        body = json_object()
        services().captcha.verify(body.get("captcha_id"), body.get("captcha_answer"))
        return {"status": "ok"}, 201

    @floor.post("/fields")
    def fields():
        body = json_object()
        services().captcha.verify(body.get("captcha_id"), body.get("captcha_answer"))
        load(_BOOKING_REQUEST, body)
        return {"status": "ok"}, 201

    csrf.exempt(floor)
    app.register_blueprint(floor)
    return app


if __name__ == "__main__":
    queue_service.create_app = create_app  # cli.cmd_serve imports it from the package when it runs
    sys.exit(cli.main(["serve", *sys.argv[1:]]))
