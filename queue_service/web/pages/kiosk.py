"""The kiosk page at ``/kiosk/``: full-screen at a branch's door, for a scanner that types
like a keyboard (or the camera, where the browser reads QR codes).

The kiosk signs in once with its token; the session cookie then holds only the kiosk's id
(signed, HttpOnly), never the token, and a revoked kiosk is signed out at its next scan.
Without JavaScript the form posts and the answer is a page; with it, the answer comes back
as JSON and the page resets itself, retrying through a network blip.
"""

from __future__ import annotations

import secrets

from flask import jsonify, redirect, request, session, url_for
from flask_babel import gettext as _

from queue_service.domain import catalog, schedules
from queue_service.domain.errors import DomainError, TooLateError, UnauthorizedError
from queue_service.metrics import count_check_in
from queue_service.web.extensions import services
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import error_text, render

bp = make_page_blueprint("kiosk", __name__)


def _kiosk():
    """The signed-in, unrevoked kiosk, or None."""
    kiosk_id = session.get("kiosk")
    try:
        return services().kiosks.require_live(services().kiosks.get(kiosk_id) if kiosk_id else None)
    except UnauthorizedError:
        session.pop("kiosk", None)
        return None


@bp.get("/kiosk/")
def scan_form():
    """The scan screen, or the kiosk's sign-in."""
    kiosk = _kiosk()
    if kiosk is None:
        return render("kiosk/sign_in.html", personal=True)
    return _scan_page(kiosk)


def _scan_page(kiosk, status: int = 200, **answer):
    """The scan screen with the walk-in buttons: a fresh request token per rendering, so a
    ticket form sent twice issues one ticket."""
    branch = catalog.get_branch(services().redis, kiosk.branch_id)
    offered = catalog.offered_services(services().redis, branch)
    today = schedules.local_now(services().clock(), branch.timezone).date()
    use = services().walk_ins.use(kiosk.branch_id, today)
    return render(
        "kiosk/scan.html",
        status=status,
        personal=True,
        kiosk=kiosk,
        services=offered,
        walk_ins=use,
        request_token=secrets.token_hex(16),
        **answer,
    )


@bp.post("/kiosk/masuk")
def sign_in():
    """Sign the kiosk in with its token, once."""
    try:
        kiosk = services().kiosks.authenticate(request.form.get("token", "").strip())
    except UnauthorizedError:
        return render(
            "kiosk/sign_in.html",
            status=401,
            personal=True,
            summary=_("Token kios tidak dikenal atau sudah dicabut."),
        )
    session.clear()
    session["kiosk"] = kiosk.id
    session.permanent = True
    return redirect(url_for("kiosk.scan_form"))


@bp.post("/kiosk/")
def scan():
    """Check in the scanned or typed code; JSON for the page's script, else a page."""
    wants_json = request.accept_mimetypes.best == "application/json"
    kiosk = _kiosk()
    if kiosk is None:
        if wants_json:
            return jsonify(outcome="signed_out"), 401
        return redirect(url_for("kiosk.scan_form"))
    try:
        done = services().checkins.check_in(kiosk, request.form.get("code", ""), services().clock())
        count_check_in(done.already_checked_in)
        priority = request.form.get("priority") == "1"
        if priority:
            # Staff at the door vouch for it (UU 25/2009: the elderly, disabled, pregnant,
            # children); the place in line is kept.
            try:
                services().live_queue.mark_priority(kiosk.branch_id, done.queue_number, services().clock())
            except TooLateError:  # called or served already: the check-in still stands
                priority = False
    except DomainError as refused:
        text = _refusal_text(refused)
        if wants_json:
            return jsonify(outcome="refused", code=refused.code, message=text), 200
        return _scan_page(kiosk, status=409, refused=text)
    answer = {
        "outcome": "checked_in",
        "queue_number": done.queue_number,
        "again": done.already_checked_in,
        "priority": priority,
    }
    if wants_json:
        return jsonify(answer)
    return _scan_page(kiosk, done=answer)


@bp.post("/kiosk/langsung")
def walk_in():
    """Issue a walk-in ticket (someone without a booking) for the chosen service."""
    kiosk = _kiosk()
    if kiosk is None:
        return redirect(url_for("kiosk.scan_form"))
    try:
        ticket = services().walk_ins.issue(
            kiosk,
            request.form.get("service_id", ""),
            services().clock(),
            priority=request.form.get("priority") == "1",
            token=request.form.get("request_token") or None,
        )
    except DomainError as refused:
        return _scan_page(kiosk, status=409, refused=_refusal_text(refused))
    return _scan_page(kiosk, ticket={"queue_number": ticket.queue_number})


def _refusal_text(refused: DomainError) -> str:
    """What the participant reads, and what to do next."""
    what_to_do = {
        "not_found": _("Kode tidak dikenal. Periksa kode pada SMS, atau tanyakan petugas."),
        "wrong_branch": _("Antrian ini untuk kantor cabang lain. Silakan tanyakan petugas."),
        "wrong_date": _("Antrian ini bukan untuk hari ini. Silakan tanyakan petugas."),
        "too_late": _("Waktu check-in sudah lewat. Silakan tanyakan petugas."),
        "cancelled": _("Antrian ini sudah dibatalkan. Silakan tanyakan petugas."),
        "walk_ins_full": _(
            "Kuota antrian langsung hari ini sudah habis. Silakan pesan antrian online untuk hari lain."
        ),
        "closed_now": _("Kantor cabang tidak melayani saat ini."),
        "validation_failed": _("Pilih layanan yang tersedia."),
    }
    if refused.code == "too_early":
        return error_text("too_early", getattr(refused, "message_args", None))
    return what_to_do.get(refused.code, error_text(refused.code))
