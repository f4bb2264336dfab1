"""The counter page at ``/counter/``: counter staff sign in (as on the admin console), choose
their counter, then call, recall, serve, mark no-shows, transfer, prioritise and pause.

Every button is a form posted to ``/counter/langkah`` and answered by a redirect (POST,
redirect, GET), so the page works without JavaScript and a reload never repeats a step. Each
rendered form carries its own token, handed to the live queue's step as its request token: a
form sent twice (a double click, a resubmission) does its step once, and a call form sent twice
calls one participant. ``counter.js`` adds keyboard shortcuts and refreshes the live part of
the page (``/counter/keadaan``) every few seconds. Every rule is the domain's (``live_queue``,
``authz``); this module reads forms and renders pages.
"""

from __future__ import annotations

import secrets

from flask import Response, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from queue_service.domain import catalog, nik_release, staff_cancellation
from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, may, require
from queue_service.domain.errors import (
    CancelledError,
    ForbiddenError,
    NotFoundError,
    TooLateError,
    ValidationFailedError,
)
from queue_service.domain.live_queue import Counter
from queue_service.web.extensions import services
from queue_service.web.limits import client_address
from queue_service.web.pages import staff_auth
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import field_texts, render

bp = make_page_blueprint("counter", __name__)

_SESSION = "counter"
# The chosen counter: {"branch": branch id, "name": counter name}.
_DESK = "counter_desk"
# A request token as the live queue keeps it: short and printable.
_TOKEN_MAX = 64
# How often the page's script refreshes the live part, in milliseconds.
POLL_MS = 3000

signed_in = staff_auth.signed_in(_SESSION, "counter.sign_in_form")


@bp.context_processor
def _helpers() -> dict:
    # A fresh token for each rendered form (see the module docstring).
    return {"form_token": lambda: secrets.token_urlsafe(12)}


@bp.errorhandler(CSRFError)
def _form_expired(_error: CSRFError):
    # A page left open past the form token's life (without its script, which renews them):
    # nothing was done; the page says so and is shown afresh.
    flash(_("Formulir sudah kedaluwarsa dan tidak dikirim. Silakan ulangi."), "error")
    return redirect(url_for("counter.desk"), 303)


def _page(template: str, status: int = 200, **context) -> Response:
    return render(
        f"counter/{template}",
        status=status,
        personal=True,
        account=g.get("account"),
        poll_ms=POLL_MS,
        **context,
    )


@bp.get("/counter/masuk")
def sign_in_form():
    """The sign-in form."""
    return _page("sign_in.html", username="")


@bp.post("/counter/masuk")
def sign_in():
    """Check the password (throttled, locked out after repeated failures) and start a session."""
    outcome = staff_auth.sign_in_from_form(
        _SESSION,
        lambda status, username, summary: _page(
            "sign_in.html", status=status, username=username, summary=summary
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    return redirect(staff_auth.safe_next("/counter/", url_for("counter.desk")), 303)


@bp.post("/counter/keluar")
def sign_out():
    """End the session, everywhere its cookie may have gone."""
    staff_auth.sign_out(_SESSION)
    return redirect(url_for("counter.sign_in_form"), 303)


@bp.get("/counter/")
@signed_in
def desk():
    """The chosen counter's page, or the choice of a counter."""
    chosen = _chosen(g.account)
    if chosen is None:
        return _page("choose.html", **_choices(g.account))
    return _page("desk.html", **_desk_context(*chosen))


@bp.get("/counter/keadaan")
def live_part():
    """The live part of the counter page, for its script; polling does not keep a session
    alive (401 once it has ended, and the script reloads the page)."""
    account = staff_auth.session_account(_SESSION, touch=False)
    chosen = _chosen(account) if account else None
    if chosen is None:
        return Response("", status=401)
    g.account = account
    return _page("_live.html", **_desk_context(*chosen))


@bp.post("/counter/pilih")
@signed_in
def choose():
    """Take a counter of one of the account's branches."""
    branch_id, name = request.form.get("branch_id", ""), request.form.get("counter", "")
    require(g.account, Action.OPERATE_QUEUE, branch_id)
    if name not in {c.name for c in services().live_queue.counters(branch_id)}:
        flash(_("Loket itu tidak ada (lagi). Pilih salah satu dari daftar."), "error")
    else:
        session[_DESK] = {"branch": branch_id, "name": name}
    return redirect(url_for("counter.desk"), 303)


@bp.post("/counter/ganti")
@signed_in
def leave():
    """Give the counter up, to choose another."""
    session.pop(_DESK, None)
    return redirect(url_for("counter.desk"), 303)


@bp.post("/counter/langkah")
@signed_in
def step():
    """Do one step at the chosen counter, then show the page again with what happened."""
    chosen = _chosen(g.account)
    if chosen is None:
        return redirect(url_for("counter.desk"), 303)
    branch_id, counter = chosen
    action, number = request.form.get("action", ""), request.form.get("queue_number", "")
    try:
        flash(_do(action, branch_id, counter, number), "done")
    except NotFoundError:
        flash(
            _("Tidak ada peserta yang menunggu untuk layanan loket ini.")
            if action == "call"
            else _("Nomor %(number)s tidak ditemukan, atau belum dipanggil hari ini.", number=number),
            "error",
        )
    except TooLateError as late:
        flash(
            _(
                "Terlambat: nomor %(number)s sudah %(status)s.",
                number=number,
                status=_status_text(late.detail),
            ),
            "error",
        )
    except ValidationFailedError:
        flash(_("Pilihan itu tidak sah. Muat ulang halaman dan coba lagi."), "error")
    return redirect(url_for("counter.desk"), 303)


def _do(action: str, branch_id: str, counter: str, number: str) -> str:
    """One domain call for ``action``; what happened, to show."""
    live, now, token = services().live_queue, services().clock(), _form_token()
    if action == "call":
        call = live.call_next(branch_id, counter, now, token=token)
        if call.priority:
            return _(
                "%(number)s (prioritas) dipanggil ke %(counter)s.",
                number=call.queue_number,
                counter=call.counter,
            )
        return _("%(number)s dipanggil ke %(counter)s.", number=call.queue_number, counter=call.counter)
    if action == "recall":
        live.recall(branch_id, number, now, token)
        return _("%(number)s dipanggil ulang.", number=number)
    if action == "served":
        live.mark_served(branch_id, number, now, token)
        return _("%(number)s selesai dilayani.", number=number)
    if action == "no_show":
        live.mark_no_show(branch_id, number, now, token)
        return _("%(number)s ditandai tidak hadir.", number=number)
    if action == "transfer":
        service_id = request.form.get("service_id", "")
        live.transfer(branch_id, number, service_id, now, token)
        return _(
            "%(number)s dipindahkan ke antrian %(service)s.",
            number=number,
            service=_service_names().get(service_id, service_id),
        )
    if action in ("priority", "regular"):
        live.mark_priority(branch_id, number, now, action == "priority", token)
        return (
            _("%(number)s ditandai prioritas.", number=number)
            if action == "priority"
            else _("%(number)s tidak lagi prioritas.", number=number)
        )
    if action == "pause":
        live.pause(branch_id, counter)
        return _("Loket dijeda. Panggilan berikutnya melanjutkannya.")
    if action == "resume":
        live.resume(branch_id, counter)
        return _("Loket dilanjutkan.")
    raise ValidationFailedError({"action": ["invalid"]})


@bp.route("/counter/batal", methods=["GET", "POST"])
@signed_in
def cancel_booking():
    """Cancel one booking of the staff's branch by its code, with a reason: the code first
    (``?kode=``, the booking shown), then the reason; done, the desk says so (POST, redirect,
    GET). The participant gets the cancellation SMS."""
    form = request.form if request.method == "POST" else request.args
    code, reason = form.get("kode", "").strip(), form.get("reason", "")
    booking, problems, status = None, {}, 200
    if code:
        try:
            booking = staff_cancellation.cancellable(services().reservations, g.account, code)
        except NotFoundError:
            problems, status = {"kode": [_("Tidak ada antrian dengan kode ini.")]}, 404
        except ForbiddenError:
            problems, status = {"kode": [_("Antrian ini milik kantor cabang lain.")]}, 403
    if booking is not None and request.method == "POST":
        actor = Actor(g.account.username, g.account.role, client_address())
        try:
            staff_cancellation.cancel(
                services().reservations, g.account, code, reason, actor, services().clock()
            )
        except ValidationFailedError as refused:
            problems, status = field_texts(refused.fields), 422
        except CancelledError:
            problems, status = {"kode": [_("Antrian ini sudah dibatalkan.")]}, 409
        except TooLateError:
            problems, status = (
                {
                    "kode": [
                        _(
                            "Terlambat untuk membatalkan: jam kedatangannya sudah mulai, atau peserta "
                            "sudah check-in."
                        )
                    ]
                },
                409,
            )
        else:
            flash(
                _(
                    "Antrian %(number)s dibatalkan. Peserta menerima SMS pembatalan.",
                    number=booking.queue_number,
                ),
                "done",
            )
            return redirect(url_for("counter.desk"), 303)
        booking = services().reservations.get(booking.branch_id, booking.code)
    return _page(
        "cancel.html",
        status=status,
        booking=booking,
        code=code,
        reason=reason,
        errors=problems,
        branch=catalog.get_branch(services().redis, booking.branch_id) if booking else None,
    )


@bp.route("/counter/lepas-nik", methods=["GET", "POST"])
@signed_in
def release_nik():
    """Release a NIK at the staff's branch, its owner's KTP seen: the NIK, the owner's phone and
    why (and, for an account of no or several branches, where the owner stands); then what was
    cancelled (each participant gets the cancellation SMS) and what was kept."""
    account = g.account
    every = catalog.list_branches(services().redis)
    choices = None
    if len(account.branches) != 1:
        choices = [(b.id, b.name) for b in every if may(account, Action.CANCEL_BOOKING, b.id)]
    elif not may(account, Action.CANCEL_BOOKING, account.branches[0]):
        raise ForbiddenError(Action.CANCEL_BOOKING.value)
    values = {name: request.form.get(name, "") for name in ("nik", "phone", "reason", "branch_id")}
    problems, release = {}, None
    if request.method == "POST":
        try:
            release = nik_release.release_nik(
                services().reservations,
                account,
                values["branch_id"] if choices is not None else None,
                values["nik"],
                values["phone"],
                values["reason"],
                Actor(account.username, account.role, client_address()),
                services().clock(),
            )
        except ValidationFailedError as refused:
            problems = refused.fields
        else:
            values = {**values, "nik": "", "phone": "", "reason": ""}
    return _page(
        "release_nik.html",
        status=422 if problems else 200,
        values=values,
        errors=field_texts(problems),
        release=release,
        branches={b.id: b.name for b in every},
        branch_choices=choices,
    )


def _form_token() -> str | None:
    token = request.form.get("token", "")
    return token if 0 < len(token) <= _TOKEN_MAX and token.isprintable() else None


def _status_text(status: str | None) -> str:
    return {"served": _("selesai dilayani"), "no_show": _("ditandai tidak hadir")}.get(
        status or "", _("selesai")
    )


def _chosen(account: Account) -> tuple[str, str] | None:
    """The branch and counter this session works at, while the account may still operate
    that branch's queue."""
    desk = session.get(_DESK) or {}
    branch_id, name = desk.get("branch"), desk.get("name")
    if not branch_id or not name or not may(account, Action.OPERATE_QUEUE, branch_id):
        return None
    return branch_id, name


def _choices(account: Account) -> dict:
    """The branches of the account whose queue it may operate, each with its counters."""
    redis = services().redis
    branches = [
        catalog.get_branch(redis, branch_id)
        for branch_id in account.branches
        if may(account, Action.OPERATE_QUEUE, branch_id)
    ]
    return {"branches": [(branch, services().live_queue.counters(branch.id)) for branch in branches]}


def _desk_context(branch_id: str, name: str) -> dict:
    """What the counter page shows: who this counter serves now, and who waits, per service."""
    redis = services().redis
    branch = catalog.get_branch(redis, branch_id)
    view = services().live_queue.view(branch_id, services().clock())
    counter = next((c for c in view.counters if c.name == name), Counter(name, ()))
    mine = set(counter.services or branch.queue_services)
    names = _service_names()
    # Only the lines where someone waits: a counter serving every service would otherwise
    # list a dozen empty ones.
    lines = [
        (
            service,
            names.get(service, service),
            service in mine,
            [w for w in view.waiting if w.service_id == service],
        )
        for service in branch.queue_services  # a withdrawn service's booked people still come
    ]
    return {
        "branch": branch,
        "counter": counter,
        "serving": dict(view.now_serving).get(name),
        "lines": [line for line in lines if line[3]],
        "mine": [names.get(service, service) for service in branch.queue_services if service in mine],
        "services": [(service, names.get(service, service)) for service in branch.services],
        "configured": any(c.name == name for c in view.counters),
    }


def _service_names() -> dict[str, str]:
    """Each service's name in the page's language (the catalog's names are in the catalogs)."""
    return {s.id: _(s.name) for s in catalog.list_services(services().redis)}
