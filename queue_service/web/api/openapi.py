"""The OpenAPI document of the JSON API, built from the schemas that validate requests."""

from __future__ import annotations

import functools

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint
from marshmallow import fields

from queue_service.web import schemas
from queue_service.web.schemas import catalog as catalog_schemas
from queue_service.web.schemas import closures as closure_schemas
from queue_service.web.schemas import public as public_schemas
from queue_service.web.schemas import waitlist as waitlist_schemas

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

_ERROR_STATUSES = {
    "400": "Not JSON, or wrong types (`bad_request`)",
    "401": "`unauthorized`: no token, or a wrong, revoked or expired one, or one of a disabled account",
    "403": "`captcha_failed` (booking), `verification_failed` (a wrong one-time code), "
    "`not_admitted` (the branch's waiting room is open and the booking has no valid "
    "`X-Admission-Pass`), `forbidden` (a token of another branch or role)",
    "404": "`not_found`: nothing has this id (ids are described by their pattern; whether one "
    "exists is data)",
    "409": "`slot_full`, `day_full`, `already_booked`, `too_many_bookings` (the phone holds "
    "`BOOKINGS_PER_PHONE` active bookings), `not_bookable`, `wrong_branch`, `wrong_date`, "
    "`too_early`, `too_late`, `cancelled`, `hold_expired` (an unverified hold ran out or was "
    "released), `offer_expired` (a waitlist offer ran out), `not_full` (a waitlist joined while "
    "a place it asks for is free: book it), `not_offered` (a waitlist offer accepted before any "
    "place was offered), `already_accepted` (a waitlist entry left after its offer was accepted: "
    "cancel the booking)",
    "415": "`unsupported_media_type`: the body is not sent as `application/json`",
    "422": "`validation_failed`, with `fields`: a value outside this document's schemas, or one "
    "only the data can refuse (a branch or service named in the body that does not exist, a "
    "username taken, a date already past, a rule between fields such as a role's branches)",
    "429": "`rate_limited`, with `Retry-After`",
    "503": "`unavailable`: the data store cannot be reached",
}


def _json(schema: str) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str,
    ok_status: str,
    ok_schema: str,
    body: str | None = None,
    parameters: list | None = None,
    errors: tuple[str, ...] = (),
) -> dict:
    operation: dict = {
        "summary": summary,
        "responses": {ok_status: {"description": "OK", **_json(ok_schema)}},
    }
    operation["responses"].update(_error_responses(*errors, "503"))
    if body:
        operation["requestBody"] = {"required": True, **_json(body)}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _error_responses(*statuses: str) -> dict:
    return {status: {"description": _ERROR_STATUSES[status], **_json("Error")} for status in statuses}


def _path_param(name: str) -> dict:
    # Expanded by apispec from the field the views check the value with.
    return {"in": "path", "schema": schemas.PathSchema(only=(name,))}


# The header of the steps a client may re-send after a lost reply (and only those: the others
# do not read it).
_IDEMPOTENCY_KEY = {"in": "header", "schema": schemas.IdempotencyKeySchema}


def _query(schema) -> list[dict]:
    return [{"in": "query", "schema": schema}]


def _type_checked(schema) -> bool:
    """Whether a query schema refuses a value of the wrong type with a 400 (SPEC §3: wrong
    types are `bad_request`), as it does for any field that is not text."""
    return any(
        not isinstance(field, fields.String)
        and field.error_messages.get("invalid") in schemas.TYPE_ERROR_KEYS
        for field in schema._declared_fields.values()
    )


def _binary(content_type: str) -> dict:
    return {content_type: {"schema": {"type": "string", "format": "binary"}}}


def _waitlist_paths(spec: APISpec) -> None:
    """SPEC §6 "WhatsApp and the waitlist": join, accept, leave."""
    spec.path(
        "/api/v1/branches/{branch_id}/waitlist",
        operations={
            "post": _operation(
                "Join the waitlist of a full day (no `slot`: any slot) or slot, with a booking's "
                "fields and checks (the captcha first, then the fields, the person's allowance, the "
                "participant registry, the NIK's one date, the phone's cap): 201 with the entry's "
                "id and place in line (with `PHONE_VERIFICATION`: `pending`, `position` null, in "
                "line once the code sent to its phone comes back, `/verify`). Refused with 409 "
                "`not_full` while a place it asks for is "
                "free. The entry holds its NIK's date and counts against its phone until it leaves, "
                "its offer runs out, or its day passes. A place freed that day is offered to the "
                "waitlist in order, held `WAITLIST_OFFER_MINUTES` (shortened to the slot's booking "
                "cutoff), with a message by the entry's `channel` linking to `/daftar-tunggu/<id>`",
                "201",
                "WaitlistEntry",
                body="WaitlistRequest",
                parameters=[_path_param("branch_id")],
                errors=("400", "403", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/waitlist/{waitlist_id}/verify",
        operations={
            "post": _operation(
                "With `PHONE_VERIFICATION` a new entry is `pending` until the six-digit code sent "
                "to its phone comes back: the right code puts it in line (`waiting`, with its "
                "`position`); a wrong one is 403 `verification_failed`; the third, or one after "
                "`verify_by`, releases it: 409 `hold_expired`",
                "200",
                "WaitlistEntry",
                body="VerifyRequest",
                parameters=[_path_param("waitlist_id")],
                errors=("400", "403", "404", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/waitlist/{waitlist_id}/verify/resend",
        operations={
            "post": _operation(
                "Send a `pending` entry's phone a new one-time code (the old one stops working), "
                "as a booking's hold gets one: one a minute, three an entry; 429 with `Retry-After` "
                "beyond; an entry in line already needs none (202, nothing sent); 409 `cancelled` "
                "after it left, `hold_expired` once its time ran out",
                "202",
                "WaitlistEntry",
                body="ResendRequest",
                parameters=[_path_param("waitlist_id")],
                errors=("400", "404", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/waitlist/{waitlist_id}/accept",
        operations={
            "post": _operation(
                "Accept the place offered to this entry: 201 the booking (its phone was verified "
                "when it joined); 409 `offer_expired` once its time ran out (the place goes to the next), "
                "`not_offered` before any offer, `cancelled` after the entry left, was closed with its "
                "day, or its booking was cancelled",
                "201",
                "Booking",
                body="WaitlistNik",
                parameters=[_path_param("waitlist_id")],
                errors=("400", "404", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/waitlist/{waitlist_id}/leave",
        operations={
            "post": _operation(
                "Leave the waitlist (an offer held is declined and goes to the next): its NIK's "
                "date and its place under the phone's cap are free again; 409 `already_accepted` "
                "once its offer was accepted (cancel the booking), `offer_expired` once its offer "
                "ran out, `cancelled` once its day was closed or its booking cancelled",
                "200",
                "WaitlistEntry",
                body="WaitlistNik",
                parameters=[_path_param("waitlist_id")],
                errors=("400", "404", "409", "415", "422", "429"),
            )
        },
    )


@functools.cache
def build_spec() -> dict:
    """The OpenAPI 3 document as a dict."""
    spec = APISpec(title="Antrian API", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    for name, schema in (
        ("Areas", schemas.AreasSchema),
        ("Services", schemas.ServicesSchema),
        ("Branch", schemas.BranchSchema),
        ("Availability", schemas.AvailabilitySchema),
        ("BookingRequest", schemas.BookingRequestSchema),
        ("Booking", schemas.BookingSchema),
        ("LookupRequest", schemas.LookupRequestSchema),
        ("CancelRequest", schemas.CancelRequestSchema),
        ("StaffCancelRequest", schemas.StaffCancelRequestSchema),
        ("NikReleaseRequest", schemas.NikReleaseRequestSchema),
        ("NikRelease", schemas.NikReleaseSchema),
        ("BulkCancelRequest", schemas.BulkCancelRequestSchema),
        ("BulkCancel", schemas.BulkCancelSchema),
        ("Hoarding", schemas.HoardingSchema),
        ("Cancelled", schemas.CancelledSchema),
        ("EraseRequest", schemas.EraseRequestSchema),
        ("Erased", schemas.ErasedSchema),
        ("RescheduleRequest", schemas.RescheduleRequestSchema),
        ("VerifyRequest", schemas.VerifyRequestSchema),
        ("JoinRoomRequest", schemas.JoinRoomRequestSchema),
        ("WaitingRoom", schemas.WaitingRoomSchema),
        ("ResendRequest", schemas.ResendRequestSchema),
        ("Captcha", schemas.CaptchaSchema),
        ("Error", schemas.ErrorSchema),
        ("WaitingRoomSettings", schemas.WaitingRoomSettingsSchema),
        ("BranchSettings", schemas.BranchSettingsSchema),
        ("RoomChange", schemas.RoomChangeSchema),
        ("WaitingRoomView", schemas.WaitingRoomViewSchema),
        ("DateOverride", schemas.DateOverrideSchema),
        ("AdminBookings", schemas.AdminBookingsSchema),
        ("NationalClosure", schemas.NationalClosureSchema),
        ("ClosedDay", schemas.ClosedDaySchema),
        ("AuditEntries", schemas.AuditEntriesSchema),
        ("Report", schemas.ReportSchema),
        ("Impact", schemas.ImpactSchema),
        ("Account", schemas.AccountViewSchema),
        ("Accounts", schemas.AccountsSchema),
        ("NewAccount", schemas.NewAccountSchema),
        ("AccountChange", schemas.AccountChangeSchema),
        ("CreatedAccount", schemas.CreatedAccountSchema),
        ("TemporaryPassword", schemas.TemporaryPasswordSchema),
        ("Tokens", schemas.TokensSchema),
        ("NewToken", schemas.NewTokenSchema),
        ("CreatedToken", schemas.CreatedTokenSchema),
        ("Sessions", schemas.SessionsSchema),
        ("Kiosks", schemas.KiosksSchema),
        ("CreatedKiosk", schemas.CreatedKioskSchema),
        ("CheckInRequest", schemas.CheckInRequestSchema),
        ("CheckIn", schemas.CheckInSchema),
        ("WalkInRequest", schemas.WalkInRequestSchema),
        ("WalkIn", schemas.WalkInSchema),
        ("NewKiosk", schemas.NewKioskSchema),
        ("CallRequest", schemas.CallRequestSchema),
        ("Call", schemas.CallSchema),
        ("StepRequest", schemas.StepRequestSchema),
        ("Step", schemas.StepSchema),
        ("TransferRequest", schemas.TransferRequestSchema),
        ("PriorityRequest", schemas.PriorityRequestSchema),
        ("CounterState", schemas.CounterStateSchema),
        ("CounterRequest", schemas.CounterRequestSchema),
        ("Counter", schemas.CounterSchema),
        ("Counters", schemas.CountersSchema),
        ("Queue", schemas.QueueSchema),
        ("WaitlistRequest", waitlist_schemas.WaitlistRequestSchema),
        ("WaitlistNik", waitlist_schemas.WaitlistNikSchema),
        ("WaitlistEntry", waitlist_schemas.WaitlistEntrySchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.components.security_scheme("adminToken", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("kioskToken", {"type": "http", "scheme": "bearer"})
    # Reads count against the per-address read limit (429), as every path needs the data
    # store (503).
    spec.path(
        "/api/v1/areas",
        operations={"get": _operation("Areas and their branches", "200", "Areas", errors=("429",))},
    )
    spec.path(
        "/api/v1/services", operations={"get": _operation("Services", "200", "Services", errors=("429",))}
    )
    spec.path(
        "/api/v1/branches/{branch_id}",
        operations={
            "get": _operation(
                "One branch", "200", "Branch", parameters=[_path_param("branch_id")], errors=("404", "429")
            )
        },
    )
    spec.path(
        "/api/v1/branches/{branch_id}/availability",
        operations={
            "get": _operation(
                "Places left on a date",
                "200",
                "Availability",
                parameters=[_path_param("branch_id"), *_query(schemas.AvailabilityQuerySchema)],
                errors=("404", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/captcha",
        operations={"post": _operation("A new captcha challenge", "201", "Captcha", errors=("429",))},
    )
    for media, content_type in (("image.png", "image/png"), ("audio.wav", "audio/wav")):
        spec.path(
            f"/api/v1/captcha/{{captcha_id}}/{media}",
            operations={
                "get": {
                    "summary": f"The challenge as {content_type}",
                    "parameters": [_path_param("captcha_id")],
                    "responses": {
                        "200": {"description": "OK", "content": _binary(content_type)},
                        **_error_responses("404", "429", "503"),
                        # A challenge allows one guess: the booking attempt that names it,
                        # right or wrong, uses it up, and its image and audio with it.
                        "404": {
                            "description": "`not_found`: no such challenge, or it expired, or a "
                            "booking attempt has used it (each allows one guess)",
                            **_json("Error"),
                        },
                    },
                }
            },
        )
    spec.path(
        "/api/v1/bookings",
        operations={
            "post": _operation(
                "Book a place (captcha first; while the branch's waiting room is open, an "
                "`X-Admission-Pass` before that). With PHONE_VERIFICATION=1 (the default) the place "
                "is held: `status` is `pending` until the six-digit code sent to the phone is "
                "given to `/bookings/{code}/verify` before `verify_by`. A retry after a lost answer "
                "or a 503 sends the first attempt's `Idempotency-Key` with the same body: 201 with "
                "the booking it made (no new captcha needed). `channel` chooses how the code and "
                "every later message go: `sms` (the default) or `whatsapp` where the service "
                "offers it (else 422 naming `channel`); `Accept-Language: en` makes the replies "
                "to the participant's WhatsApp messages English. A phone whose owner sent "
                "BERHENTI/STOP to the WhatsApp number gets no messages, so with "
                "PHONE_VERIFICATION=1 its booking is refused, 422 naming `phone` (send MULAI first)",
                "201",
                "Booking",
                body="BookingRequest",
                parameters=[{"in": "header", "schema": public_schemas.BookingIdempotencyKeySchema}],
                errors=("400", "403", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/bookings/lookup",
        operations={
            "post": _operation(
                "Look a booking up by code and NIK",
                "200",
                "Booking",
                body="LookupRequest",
                errors=("400", "404", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/branches/{branch_id}/waiting-room",
        operations={
            "post": {
                **_operation(
                    "Join the branch's waiting room (a body naming the ticket this client holds "
                    "gets it back). `not_needed` when no room is open; before the release "
                    "`position` is null (the lottery has not been drawn); once `admitted`, "
                    "`pass` goes in `X-Admission-Pass` of the booking. One address holds at most "
                    "`tickets_per_address` tickets a room: 429 beyond, whatever the rate limits",
                    "201",
                    "WaitingRoom",
                    parameters=[_path_param("branch_id")],
                    errors=("400", "415", "422", "429"),
                ),
                "requestBody": {"required": False, **_json("JoinRoomRequest")},
            }
        },
    )
    spec.path(
        "/api/v1/waiting-room/{ticket}",
        operations={
            "get": _operation(
                "Where a ticket stands, with its pass once admitted (an admitted ticket not "
                "asked about for 2 minutes loses its place: 404)",
                "200",
                "WaitingRoom",
                parameters=[_path_param("ticket")],
                errors=("404", "429"),
            )
        },
    )
    _waitlist_paths(spec)
    spec.path(
        "/api/v1/bookings/{code}/verify",
        operations={
            "post": _operation(
                "Confirm a held place with the one-time code sent to its phone: `booked`, and "
                "only then is the booking's SMS sent (a hold confirmed already answers the same). "
                "A wrong code is 403 `verification_failed`; the third, or a code after "
                "`verify_by`, releases the hold: 409 `hold_expired` from then on",
                "200",
                "Booking",
                body="VerifyRequest",
                parameters=[_path_param("code")],
                errors=("400", "403", "404", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/bookings/{code}/verify/resend",
        operations={
            "post": _operation(
                "Send a held place's phone a new one-time code (the old one stops working): one "
                "a minute, three a hold; 429 with `Retry-After` beyond",
                "202",
                "Booking",
                body="ResendRequest",
                parameters=[_path_param("code")],
                errors=("400", "404", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/bookings/{code}/cancel",
        operations={
            "post": _operation(
                "Cancel a booking",
                "200",
                "Cancelled",
                body="CancelRequest",
                parameters=[_path_param("code")],
                errors=("400", "404", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/bookings/{code}/erase",
        operations={
            "post": _operation(
                "Erase a booking's personal data (name, NIK, KPJ, phone, e-mail, the address it "
                "was booked from): a cancelled booking or one whose day has passed (branch-local); "
                "it counts in the day's figures and look-ups answer 404 from then on. 409 "
                "`too_early` while it still stands: cancel it first, or wait for its day to pass",
                "200",
                "Erased",
                body="EraseRequest",
                parameters=[_path_param("code")],
                errors=("400", "404", "409", "415", "422", "429"),
            )
        },
    )
    spec.path(
        "/api/v1/kiosk/checkins",
        operations={
            "post": {
                **_operation(
                    "Check a booking in at this kiosk's branch",
                    "200",
                    "CheckIn",
                    body="CheckInRequest",
                    errors=("400", "401", "404", "409", "415", "422"),
                ),
                "security": [{"kioskToken": []}],
            }
        },
    )
    spec.path(
        "/api/v1/kiosk/walk-ins",
        operations={
            "post": {
                **_operation(
                    "Issue a walk-in ticket at this kiosk's branch (Idempotency-Key: the same ticket again)",
                    "201",
                    "WalkIn",
                    body="WalkInRequest",
                    parameters=[_IDEMPOTENCY_KEY],
                    errors=("400", "401", "409", "415", "422"),
                ),
                "security": [{"kioskToken": []}],
            }
        },
    )
    for kind, content_type in (("svg", "image/svg+xml"), ("png", "image/png")):
        spec.path(
            f"/api/v1/bookings/{{code}}/qr.{kind}",
            operations={
                "get": {
                    "summary": f"The booking code as a QR ({content_type})",
                    "parameters": [_path_param("code")],
                    "responses": {
                        "200": {"description": "OK", "content": _binary(content_type)},
                        **_error_responses("404", "429", "503"),
                    },
                }
            },
        )
    spec.path(
        "/api/v1/branches/{branch_id}/queue",
        operations={
            "get": _operation(
                "The live queue for displays: now serving per counter, who waits (no personal data)",
                "200",
                "Queue",
                parameters=[_path_param("branch_id")],
                errors=("404", "429"),
            )
        },
    )
    _counter_paths(spec)
    spec.path(
        "/api/v1/bookings/{code}/reschedule",
        operations={
            "post": _operation(
                "Move a booking to another slot or date of its branch (one atomic step; another "
                "date gives that day's next queue number; while the branch's waiting room is open, "
                "with an `X-Admission-Pass`, else 403 `not_admitted`). A move to the slot and date "
                "the booking already holds changes nothing and answers 200 with the booking as it "
                "stands",
                "200",
                "Booking",
                body="RescheduleRequest",
                parameters=[_path_param("code")],
                errors=("400", "403", "404", "409", "415", "422", "429"),
            )
        },
    )
    _admin_paths(spec)
    _closure_paths(spec)
    _catalog_paths(spec)
    return spec.to_dict()


def _counter_paths(spec: APISpec) -> None:
    """Counter staff's steps: a staff (or admin) API token; ``Idempotency-Key`` makes a
    re-sent step answer as the first."""
    spec.components.security_scheme("staffToken", {"type": "http", "scheme": "bearer"})

    def staff(summary, ok_schema, body, params=(), errors=(), idempotent=True):
        operation = _operation(
            summary,
            "200",
            ok_schema,
            body=body,
            parameters=[_path_param(name) for name in params] + ([_IDEMPOTENCY_KEY] if idempotent else []),
            errors=("400", "401", "403", *errors, "415", "422"),
        )
        operation["security"] = [{"staffToken": []}]
        return operation

    spec.path(
        "/api/v1/counter/calls",
        operations={
            "post": staff(
                "Call the next checked-in participant to a counter (404: nobody waits)",
                "Call",
                "CallRequest",
                errors=("404",),
            )
        },
    )
    for step, summary in (
        ("recall", "Announce a called participant again"),
        ("served", "Mark a called participant served"),
        ("no_show", "Mark a called participant who did not come"),
    ):
        spec.path(
            f"/api/v1/counter/calls/{{queue_number}}/{step}",
            operations={
                "post": staff(
                    summary + " (409 `too_late`: already finished otherwise)",
                    "Step",
                    "StepRequest",
                    ["queue_number"],
                    ("404", "409"),
                )
            },
        )
    spec.path(
        "/api/v1/counter/participants/{queue_number}/transfer",
        operations={
            "post": staff(
                "Move a participant to another service's line, keeping their place by arrival",
                "Step",
                "TransferRequest",
                ["queue_number"],
                ("404", "409"),
            )
        },
    )
    spec.path(
        "/api/v1/counter/participants/{queue_number}/priority",
        operations={
            "post": staff(
                "Mark a checked-in participant priority, or not",
                "Step",
                "PriorityRequest",
                ["queue_number"],
                ("404", "409"),
            )
        },
    )
    spec.path(
        "/api/v1/admin/bookings/{code}/cancel",
        operations={
            "post": staff(
                "Cancel one booking of the branch, with a reason (counter staff and admins of its "
                "branch, national admins; audited, the participant gets the cancellation SMS; 409 "
                "`cancelled`: already cancelled, `too_late`: its slot has started or it was checked in)",
                "Cancelled",
                "StaffCancelRequest",
                ["code"],
                ("404", "409"),
                idempotent=False,
            )
        },
    )
    release = staff(
        "Release a NIK, at the branch where its owner stands with their KTP (counter staff and "
        "admins of that branch, national admins): every coming booking of the NIK (booked, not "
        "started), at any branch and date, made with another phone than `phone` is cancelled "
        "with `reason` (audited each, `nik_released`; the cancellation SMS to the phone that "
        "booked it); the owner's own are kept. Listed by date",
        "NikRelease",
        "NikReleaseRequest",
        idempotent=False,
    )
    release["responses"]["422"]["description"] += (
        ". Also, what a booking refuses in a NIK or phone beyond this document's pattern: a NIK "
        "whose province code is unknown (`nik_province`), whose birth date is none "
        "(`nik_birth_date`) or whose sequence is 0000 (`nik_sequence`); a phone that is not a "
        "number (`phone_format`), not Indonesian (`phone_not_indonesian`) or not a mobile "
        "(`phone_not_mobile`). And `branch_id` missing from an account of no or several branches "
        "(`required`)"
    )
    spec.path("/api/v1/admin/nik-releases", operations={"post": release})
    spec.path(
        "/api/v1/admin/bookings/bulk-cancel",
        operations={
            "post": staff(
                "Cancel a selection of bookings for one reason (who may: as the single cancel, for "
                "every booking of the selection, else 403 and nothing is cancelled); each is "
                "cancelled as the single cancel does (audited, the cancellation SMS to each) and "
                "what could not be is said per booking (`already_cancelled`, `too_late`, "
                "`not_found`), in the order given, each code once",
                "BulkCancel",
                "BulkCancelRequest",
                idempotent=False,
            )
        },
    )
    # The query of the listing and the removal: the same schema as the steps' optional body.
    branch_query = _query(schemas.StepRequestSchema)
    listing = staff("The branch's counters", "Counters", None, errors=("404",), idempotent=False)
    listing.setdefault("parameters", []).extend(branch_query)
    removal = staff(
        "Remove a counter (branch admins; audited)", "Counter", None, ["counter"], ("404",), idempotent=False
    )
    removal.setdefault("parameters", []).extend(branch_query)
    removal["responses"]["204"] = {"description": "Done"}
    del removal["responses"]["200"]
    spec.path("/api/v1/counter/counters", operations={"get": listing})
    spec.path(
        "/api/v1/counter/counters/{counter}",
        operations={
            "put": staff(
                "Create or change a counter and its services (branch admins; audited)",
                "Counter",
                "CounterRequest",
                ["counter"],
                ("404",),
                idempotent=False,
            ),
            "delete": removal,
        },
    )
    for step in ("pause", "resume"):
        spec.path(
            f"/api/v1/counter/counters/{{counter}}/{step}",
            operations={
                "post": staff(
                    f"{step.capitalize()} a counter",
                    "CounterState",
                    "StepRequest",
                    ["counter"],
                    ("404",),
                    idempotent=False,
                )
            },
        )


def _admin_paths(spec: APISpec) -> None:
    """The admin API: every operation needs an admin's bearer token."""

    def admin(summary, ok_status, ok_schema, params, errors, body=None, query=None):
        if query is not None and _type_checked(query):
            errors = ("400", *errors)
        operation = _operation(
            summary,
            ok_status,
            ok_schema,
            body=body,
            parameters=[_path_param(name) for name in params] + (_query(query) if query else []),
            errors=("401", "403", *errors),
        )
        operation["security"] = [{"adminToken": []}]
        return operation

    def with_csv(operation: dict) -> dict:
        # `format=csv` answers the same rows as a file.
        operation["responses"]["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
        return operation

    def refusing(operation: dict, also: str) -> dict:
        # What the operation's 422 adds to the common reasons, in words: rules a JSON Schema
        # cannot say, so a client learns them here rather than from a refusal.
        common = operation["responses"]["422"]["description"]
        operation["responses"]["422"] = {"description": f"{common}. {also}", **_json("Error")}
        return operation

    # The settings' rules between values, named by the weekday at fault.
    between_values = (
        "Also, a weekday's hours (`service_hours.<weekday>`) that break a rule between values: "
        "an interval that does not start before it ends (`interval_order`), intervals of one "
        "day that overlap (`interval_overlap`), an interval the slot length does not divide "
        "(`slot_not_dividing`). A change is judged with the settings it leaves in place: new "
        "hours against the slot length already set, a new slot length against the hours"
    )

    def no_content(operation: dict) -> dict:
        operation["responses"]["204"] = {"description": "Done"}
        del operation["responses"]["200"]
        return operation

    branch = "/api/v1/admin/branches/{branch_id}"
    spec.path(
        f"{branch}/settings",
        operations={
            "get": admin("A branch's settings", "200", "BranchSettings", ["branch_id"], ("404",)),
            "put": refusing(
                admin(
                    "Change any subset of a branch's settings; answers the whole",
                    "200",
                    "BranchSettings",
                    ["branch_id"],
                    ("400", "404", "415", "422"),
                    body="BranchSettings",
                ),
                between_values,
            ),
        },
    )
    spec.path(
        f"{branch}/waiting-room",
        operations={
            "get": admin(
                "The branch's waiting room now: open, or when the next opens; unplaced, waiting, "
                "admitted, the rate, paused, the lottery's seed once drawn",
                "200",
                "WaitingRoomView",
                ["branch_id"],
                ("404",),
            ),
            "put": admin(
                "Change the open room's rate, or pause or resume admission (audited with before "
                "and after; who was let in stays in, a resume does not catch up the pause); the "
                "settings' `waiting_room` is the next rooms'. 404 when no room is open",
                "200",
                "WaitingRoomView",
                ["branch_id"],
                ("400", "404", "415", "422"),
                body="RoomChange",
            ),
        },
    )
    spec.path(
        f"{branch}/dates/{{date}}",
        operations={
            "put": refusing(
                admin(
                    "Close a date, or give it its own quota (bookings are kept)",
                    "200",
                    "DateOverride",
                    ["branch_id", "date"],
                    ("400", "404", "415", "422"),
                    body="DateOverride",
                ),
                # Which dates are past depends on the clock, which no schema knows.
                "Also, a date already over in the branch's time zone (`date`: `date_in_past`): "
                "its bookings are the end of day's to settle",
            ),
            "delete": no_content(
                admin(
                    "Remove a date's closure or quota",
                    "200",
                    "DateOverride",
                    ["branch_id", "date"],
                    ("404", "422"),
                )
            ),
        },
    )
    spec.path(
        f"{branch}/bookings",
        operations={
            "get": with_csv(
                admin(
                    "A day's bookings, NIK and phone masked (format=csv for a file; with full=1 "
                    "and a reason unmasked, audited with the reason)",
                    "200",
                    "AdminBookings",
                    ["branch_id"],
                    ("404", "422"),
                    query=schemas.BookingsQuerySchema,
                )
            )
        },
    )
    spec.path(
        f"{branch}/hoarding",
        operations={
            "get": admin(
                "What looks like hoarding at the branch on a day: phones and client addresses "
                "behind several NIKs, the busiest minutes against the branch's usual, holds pending "
                "and expired; NIK and phone masked",
                "200",
                "Hoarding",
                ["branch_id"],
                ("404", "422"),
                query=schemas.DayQuerySchema,
            )
        },
    )
    spec.path(
        f"{branch}/settings/impact",
        operations={
            "post": refusing(
                admin(
                    "What a settings change would do to existing bookings (nothing is saved)",
                    "200",
                    "Impact",
                    ["branch_id"],
                    ("400", "404", "415", "422"),
                    body="BranchSettings",
                ),
                between_values,
            )
        },
    )
    spec.path(
        f"{branch}/audit",
        operations={
            "get": with_csv(
                admin(
                    "The branch's audit entries, newest first (format=csv for a file)",
                    "200",
                    "AuditEntries",
                    ["branch_id"],
                    ("404", "422"),
                    query=schemas.AuditQuerySchema,
                )
            )
        },
    )
    spec.path(
        "/api/v1/admin/audit",
        operations={
            "get": with_csv(
                admin(
                    "National audit entries: closures, accounts, sign-ins (national admins; "
                    "format=csv for a file)",
                    "200",
                    "AuditEntries",
                    [],
                    ("422",),
                    query=schemas.AuditQuerySchema,
                )
            )
        },
    )
    spec.path(
        f"{branch}/report",
        operations={
            "get": admin(
                "Bookings against quota per day, cancellations, arrivals, busiest slots",
                "200",
                "Report",
                ["branch_id"],
                ("404", "422"),
                query=schemas.ReportQuerySchema,
            )
        },
    )
    _accounts_paths(spec, admin, no_content, refusing)
    spec.path(
        "/api/v1/admin/kiosks",
        operations={
            "post": admin(
                "Register a kiosk of a branch; its token is shown once",
                "201",
                "CreatedKiosk",
                [],
                ("400", "415", "422"),
                body="NewKiosk",
            )
        },
    )
    spec.path(
        "/api/v1/admin/kiosks/{kiosk_id}",
        operations={"delete": no_content(admin("Revoke a kiosk", "200", "Tokens", ["kiosk_id"], ("404",)))},
    )
    spec.path(
        f"{branch}/kiosks",
        operations={"get": admin("The branch's kiosks", "200", "Kiosks", ["branch_id"], ("404",))},
    )
    spec.path(
        "/api/v1/admin/closures/{date}",
        operations={
            "put": admin(
                "Close every branch on a date (national admins)",
                "200",
                "ClosedDay",
                ["date"],
                ("400", "415", "422"),
                body="NationalClosure",
            ),
            "delete": no_content(
                admin(
                    "Lift a national closure (national admins)", "200", "NationalClosure", ["date"], ("422",)
                )
            ),
        },
    )


def _accounts_paths(spec: APISpec, admin, no_content, refusing) -> None:
    """The admin API's accounts, their tokens and sessions (``_admin_paths``' helpers): national
    admins manage every account, branch admins their branches' counter staff."""
    role_rules = (
        "Also, a role and branches that do not fit (`branches`: `branches_for_role`, "
        "`unknown_branch`), a password that is common or contains the username (`password`: "
        "`password_common`, `password_contains_username`), or a change that would leave no "
        "enabled national admin (`last_national_admin`, on the field that would do it)"
    )
    accounts = "/api/v1/admin/accounts"
    account = f"{accounts}/{{username}}"
    spec.path(
        accounts,
        operations={
            "get": admin("The accounts this admin manages", "200", "Accounts", [], ()),
            "post": refusing(
                admin(
                    "Create an account; its first token is shown once",
                    "201",
                    "CreatedAccount",
                    [],
                    ("400", "415", "422"),
                    body="NewAccount",
                ),
                role_rules,
            ),
        },
    )
    spec.path(
        account,
        operations={
            "patch": refusing(
                admin(
                    "Disable or enable an account (disabled: its tokens are refused and its sessions "
                    "end at once), or change its role or branches; any subset. A branch admin changes "
                    "only its branches' counter staff, and only into its branches' counter staff",
                    "200",
                    "Account",
                    ["username"],
                    ("400", "404", "415", "422"),
                    body="AccountChange",
                ),
                role_rules,
            ),
            "delete": no_content(
                admin(
                    "Delete an account with its tokens and sessions; its audit entries stay. 422 "
                    "`last_national_admin` for the last enabled national admin",
                    "200",
                    "Account",
                    ["username"],
                    ("404", "422"),
                )
            ),
        },
    )
    spec.path(
        f"{account}/password-reset",
        operations={
            "post": admin(
                "Give the account a temporary password (shown once), to be changed at its next "
                "sign-in; its sessions end and its failed sign-ins are cleared",
                "201",
                "TemporaryPassword",
                ["username"],
                ("404", "422"),
            )
        },
    )
    spec.path(
        f"{account}/unlock",
        operations={
            "post": no_content(
                admin(
                    "Clear the account's failed console sign-ins from every address",
                    "200",
                    "Account",
                    ["username"],
                    ("404", "422"),
                )
            )
        },
    )
    tokens = f"{account}/tokens"
    spec.path(
        tokens,
        operations={
            "get": admin(
                "An account's tokens by name, with their expiry and last use",
                "200",
                "Tokens",
                ["username"],
                ("404", "422"),
            ),
            "post": admin(
                "Another token for an account (shown once), expiring after `expires_in_days` if "
                "given: admins only, for themselves or the accounts they manage; counter staff 403",
                "201",
                "CreatedToken",
                ["username"],
                ("400", "404", "415", "422"),
                body="NewToken",
            ),
        },
    )
    spec.path(
        f"{tokens}/{{token_id}}",
        operations={
            "delete": no_content(
                admin("Revoke a token", "200", "Tokens", ["username", "token_id"], ("404", "422"))
            )
        },
    )
    sessions = f"{account}/sessions"
    spec.path(
        sessions,
        operations={
            "get": admin(
                "An account's console and counter sessions: started, last used, from where",
                "200",
                "Sessions",
                ["username"],
                ("404", "422"),
            )
        },
    )
    spec.path(
        f"{sessions}/{{session_id}}",
        operations={
            "delete": no_content(
                admin(
                    "End one session of an account: its cookie is refused from the next request",
                    "200",
                    "Sessions",
                    ["username", "session_id"],
                    ("404", "422"),
                )
            )
        },
    )


def _closure_paths(spec: APISpec) -> None:
    """Closures of days (``web.api.closures_admin``): an admin's bearer token."""
    spec.components.schema("ClosureRequest", schema=closure_schemas.ClosureRequestSchema)
    spec.components.schema("Closure", schema=closure_schemas.ClosureSchema)

    def closure_id() -> list[dict]:
        # A dict of its own for each operation: apispec expands it in place.
        return [{"in": "path", "schema": closure_schemas.ClosurePathSchema}]

    def admin(summary, ok_status, errors, body=None, parameters=None):
        operation = _operation(
            summary, ok_status, "Closure", body=body, parameters=parameters, errors=("401", "403", *errors)
        )
        operation["security"] = [{"adminToken": []}]
        return operation

    closing = admin(
        "Close a branch (`branch_id`; its admins) or, without it, every branch (national admins) "
        "from `from` to `to` with a note: the days take no booking from now on, and every booking "
        "there still booked or held, whose participant has not checked in and may still come, is "
        "cancelled, each participant sent an SMS with the note and a link to book another day "
        "(by the worker: `sms` counts them as they go). Closing a range again cancels nothing "
        "new and texts nobody twice",
        "201",
        ("400", "415", "422"),
        body="ClosureRequest",
    )
    # The rules between values and against the clock, which no schema can say.
    closing["responses"]["422"]["description"] += (
        ". Also, `from` a day already over at a branch concerned (`date_in_past`; for every "
        "branch, in the easternmost time zone), `to` before `from` (`range_order`) or more than "
        "366 days after it (`range_too_long`)"
    )
    spec.path("/api/v1/admin/closure-ranges", operations={"post": closing})
    spec.path(
        "/api/v1/admin/closure-ranges/{closure_id}",
        operations={
            "get": admin(
                "A closure: how many bookings it cancelled, and their SMS queued, sent (delivered "
                "among them, where the provider reports it) and failed",
                "200",
                ("404",),
                parameters=closure_id(),
            ),
            "delete": admin(
                "Reopen a closure's days from today on (a day changed since is left as it is); the "
                "bookings it cancelled stay cancelled. Reopening again changes nothing",
                "200",
                ("404", "422"),
                parameters=closure_id(),
            ),
        },
    )


def _catalog_paths(spec: APISpec) -> None:
    """The catalog (``web.api.catalog_admin``): national admins' bearer tokens (others 403)."""
    for name, schema in (  # nested ones first: apispec names a nested schema when it first meets it
        ("CatalogReason", catalog_schemas.ReasonSchema),
        ("CatalogRequirements", catalog_schemas.RequirementsSchema),
        ("CatalogReasonView", catalog_schemas.ReasonViewSchema),
        ("CatalogRequirementsView", catalog_schemas.RequirementsViewSchema),
        ("CatalogArea", catalog_schemas.AreaDocumentSchema),
        ("CatalogAreaChange", catalog_schemas.AreaChangeSchema),
        ("CatalogBranch", catalog_schemas.BranchDocumentSchema),
        ("CatalogBranchChange", catalog_schemas.BranchChangeSchema),
        ("CatalogService", catalog_schemas.ServiceDocumentSchema),
        ("CatalogServiceChange", catalog_schemas.ServiceChangeSchema),
        ("CatalogAreaView", catalog_schemas.AreaViewSchema),
        ("CatalogBranchView", catalog_schemas.BranchViewSchema),
        ("CatalogServiceView", catalog_schemas.ServiceViewSchema),
    ):
        spec.components.schema(name, schema=schema)
    # What only the data can refuse, by field, beyond the schemas.
    data_rules = (
        "Also, what only the catalog can refuse: an `id` another entry of the kind has "
        "(`id_taken`), or, in a PUT, one that is not the path's (`id_mismatch`: an id never "
        "changes); a branch's `area_id` or `services` naming none that exists (`unknown_area`, "
        "`unknown_service`); a `prefix` another service has (`prefix_taken`); a branch's "
        "`timezone` while it has bookings from its today on, or a service's `prefix` while any "
        "branch has queue numbers of it from today on (`has_bookings`); two reasons of one "
        "service with one id (`duplicate_id`)"
    )

    def national(summary, ok_status, ok_schema, body, params=(), errors=()):
        operation = _operation(
            summary,
            ok_status,
            ok_schema,
            body=body,
            parameters=[
                {"in": "path", "schema": catalog_schemas.CatalogPathSchema(only=(n,))} for n in params
            ],
            errors=("400", "401", "403", *errors, "415", "422"),
        )
        operation["responses"]["422"]["description"] += f". {data_rules}"
        operation["security"] = [{"adminToken": []}]
        return operation

    for plural, kind, param, created, replaced in (
        (
            "areas",
            "Area",
            "area_id",
            "Add an area (national admins; audited)",
            "Replace an area (national admins; audited with before and after)",
        ),
        (
            "branches",
            "Branch",
            "branch_id",
            "Add a branch (national admins; audited): online booking off and no hours until its "
            "admins set them (its settings), with the national closures",
            "Replace a branch, whole (national admins; audited with before and after). A service "
            "left out, or the branch retired, takes no new bookings (409 `not_bookable`) and keeps "
            "every existing one; a retired branch leaves GET /areas",
        ),
        (
            "services",
            "Service",
            "service_id",
            "Add a service with its queue prefix and what to bring (national admins; audited)",
            "Replace a service, whole (national admins; audited with before and after)",
        ),
    ):
        spec.path(
            f"/api/v1/admin/{plural}",
            operations={"post": national(created, "201", f"Catalog{kind}View", f"Catalog{kind}")},
        )
        spec.path(
            f"/api/v1/admin/{plural}/{{{param}}}",
            operations={
                "put": national(
                    replaced, "200", f"Catalog{kind}View", f"Catalog{kind}Change", [param], ("404",)
                )
            },
        )


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document."""
    return build_spec()
