"""The admin console at ``/admin/``: sign in, pick a branch, see its dashboard, tune its
settings (with the change's impact shown before it is saved), close dates or give them a
quota, read the day's bookings and the audit log. Every rule is the domain's (``tuning``,
``authz``, ``sign_in``, ``reports``); this module reads forms and renders pages.

The session is Flask's signed cookie (HttpOnly, SameSite, Secure in production) holding
the username and the time of the last request; it ends after ``ADMIN_SESSION_IDLE_MINUTES``
without one. Every form carries a CSRF token (Flask-WTF).
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Response, g, redirect, request, url_for
from flask_babel import gettext as _

from queue_service.domain import (
    audit,
    calendar,
    catalog,
    hoarding,
    holiday_coverage,
    nik_release,
    reports,
    schedules,
    staff_cancellation,
    tuning,
)
from queue_service.domain.accounts import COUNTER_STAFF, Account, AccountRejectedError
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, branches_of, may, require
from queue_service.domain.errors import (
    CancelledError,
    NotFoundError,
    TooLateError,
    ValidationFailedError,
)
from queue_service.domain.privacy import mask_nik, mask_phone
from queue_service.metrics import count_bulk_cancellation
from queue_service.web.charts import Bar, bar_chart
from queue_service.web.downloads import csv_download
from queue_service.web.extensions import services
from queue_service.web.limits import client_address
from queue_service.web.pages import staff_auth
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import field_texts, render
from queue_service.web.requests import parse_date

bp = make_page_blueprint("admin", __name__)
bp.context_processor(lambda: {"mask_nik": mask_nik, "mask_phone": mask_phone})

_INTERVALS_PER_DAY = 2
# An audit entry's id, the audit page's cursor (anything else starts at the newest).
_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_DASHBOARD_DAYS = 14
_INT_FIELDS = (
    "daily_quota",
    "slot_minutes",
    "slot_capacity",
    "booking_window_days",
    "booking_cutoff_minutes",
    "walk_in_share",
    "priority_share",
    "call_ahead_places",
    "recalls_before_no_show",
)
# The waiting room's numbers, named in the form (and in its refusals) ``waiting_room.<field>``.
_ROOM_INT_FIELDS = tuple(tuning.ROOM_BOUNDS)


# The console's pages need a session; without one the browser goes to the sign-in form.
signed_in = staff_auth.signed_in("admin", "admin.sign_in_form")


def _account() -> Account:
    return g.account


def _actor() -> Actor:
    return Actor(_account().username, _account().role, client_address())


def _page(template: str, status: int = 200, **context) -> Response:
    return render(f"admin/{template}", status=status, personal=True, account=g.get("account"), **context)


@bp.get("/admin/masuk")
def sign_in_form():
    """The sign-in form."""
    return _page("sign_in.html", values={})


@bp.post("/admin/masuk")
def sign_in():
    """Check the password (throttled, locked out after repeated failures) and start a session."""
    outcome = staff_auth.sign_in_from_form(
        "admin",
        lambda status, username, summary: _page(
            "sign_in.html", status=status, values={"username": username}, summary=summary
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    return redirect(staff_auth.safe_next("/admin/", url_for("admin.home")))


@bp.post("/admin/keluar")
def sign_out():
    """End the session, everywhere its cookie may have gone."""
    staff_auth.sign_out("admin")
    return redirect(url_for("admin.sign_in_form"))


@bp.get("/admin/")
@signed_in
def home():
    """The branches this admin may see, with the coming fortnight of each, summed."""
    redis = services().redis
    every = catalog.list_branches(redis)
    visible = set(branches_of(_account(), [b.id for b in every]))
    branches = [b for b in every if b.id in visible]
    # The national view counts days from Jakarta's today; each branch's own days are local.
    today = _local_today("Asia/Jakarta")
    per_branch = [
        reports.days(
            redis,
            b.id,
            today,
            _DASHBOARD_DAYS,
            _local_today(b.timezone),
            services().reservations.collective_leave_closed,
        )
        for b in branches
    ]
    figures = reports.national(per_branch) if per_branch else []
    return _page(
        "home.html",
        branches=branches,
        figures=figures,
        chart=_fill_chart(figures, _("Antrian online terpesan dibanding kuota"), "national"),
        # Every branch's window, not only this admin's: the package is one for the whole service.
        holiday_gap_years=holiday_coverage.years_without_data(redis, services().clock()),
        holidays_version=holiday_coverage.installed_version(),
    )


@bp.get("/admin/cabang/<branch_id>")
@signed_in
def branch(branch_id: str):
    """A branch's dashboard: the coming fortnight against quota, the past week's outcomes."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    today = _local_today(branch.timezone)
    report = reports.branch_report(
        services().redis,
        branch_id,
        today,
        _DASHBOARD_DAYS,
        today,
        services().reservations.collective_leave_closed,
    )
    coming = report.days
    past = reports.days(
        services().redis,
        branch_id,
        today - dt.timedelta(days=7),
        7,
        today,
        services().reservations.collective_leave_closed,
        with_outcomes=True,
    )
    return _page(
        "branch.html",
        branch=branch,
        coming=coming,
        past=past,
        busiest=report.busiest_slots,
        chart=_fill_chart(coming, _("Terpesan dibanding kuota, 14 hari ke depan"), "coming"),
        cancellations=bar_chart(
            _("Pembatalan per hari"),
            _("Pembatalan per hari, 14 hari ke depan"),
            [Bar(_short(f.date), f.cancelled, muted=not f.open) for f in coming],
            chart_id="cancelled",
        ),
    )


@bp.route("/admin/cabang/<branch_id>/pengaturan", methods=["GET", "POST"])
@signed_in
def settings(branch_id: str):
    """The settings form; "Periksa dampak" shows what the change would do, "Simpan" saves."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    tuning = services().tuning
    if request.method == "GET":
        return _page(
            "settings.html", branch=branch, values=_settings_values(tuning.settings(branch_id)), errors={}
        )
    require(_account(), Action.TUNE_BRANCH, branch_id)
    values = request.form.to_dict()
    changes, problems = _settings_changes(values)
    impact = None
    if not problems:
        try:
            if request.form.get("action") == "save":
                tuning.update_settings(branch_id, changes, _actor(), services().clock())
                return redirect(url_for("admin.branch", branch_id=branch_id, saved=1))
            impact = tuning.impact(branch_id, changes, _local_today(branch.timezone))
        except ValidationFailedError as refused:
            problems = refused.fields
    return _page(
        "settings.html",
        status=422 if problems else 200,
        branch=branch,
        values=values,
        errors=field_texts(problems),
        impact=impact,
    )


@bp.route("/admin/cabang/<branch_id>/ruang-tunggu", methods=["GET", "POST"])
@signed_in
def waiting_room(branch_id: str):
    """The branch's waiting room live: open now or when the next opens; its unplaced
    arrivals, waiting line, admitted, rate, pause and the lottery's seed; a form to change the
    rate or pause and resume admission (audited; whoever was let in stays in)."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    rooms = services().waiting_rooms
    problems: dict[str, list[str]] = {}
    closed = False  # a change asked for while no room is open
    values = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        require(_account(), Action.TUNE_BRANCH, branch_id)
        action = values.get("action")
        rate, paused = None, None
        if action == "rate":
            rate = _whole_number(values.get("admit_per_minute", "").strip())
            bounds = tuning.ROOM_BOUNDS["admit_per_minute"]
            if rate is None:
                problems["admit_per_minute"] = ["not_integer"]
            elif refused := bounds.problems(rate):
                problems["admit_per_minute"] = refused
        elif action in ("pause", "resume"):
            paused = action == "pause"
        if not problems and (rate is not None or paused is not None):
            now = services().clock()
            room = rooms.room_of(branch_id, now)
            if room is None:
                closed = True
            else:
                rooms.change_rate(room, rate, paused, _actor(), now)
                return redirect(url_for("admin.waiting_room", branch_id=branch_id, diubah=action), 303)
    view = rooms.view(branch_id, services().clock())
    return _page(
        "waiting_room.html",
        status=422 if problems else 409 if closed else 200,
        branch=branch,
        view=view,
        now=schedules.local_now(services().clock(), branch.timezone),
        may_tune=may(_account(), Action.TUNE_BRANCH, branch_id),
        values=values,
        errors=field_texts(problems),
        closed=closed,
        changed=request.args.get("diubah", ""),
        refresh=request.args.get("segarkan") == "1",
    )


@bp.route("/admin/cabang/<branch_id>/tanggal", methods=["GET", "POST"])
@signed_in
def dates(branch_id: str):
    """The coming days with their holidays and closures; close a day or give it a quota."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    tuning = services().tuning
    done, problems, values = None, {}, {}
    if request.method == "POST":
        require(_account(), Action.TUNE_BRANCH, branch_id)
        values = request.form.to_dict()
        done, problems = _change_date(branch_id, values)
    today = _local_today(branch.timezone)
    window = tuning.settings(branch_id).booking_window_days
    days = reports.days(
        services().redis, branch_id, today, window + 1, today, services().reservations.collective_leave_closed
    )
    overrides = {day: schedules.load_override(services().redis, branch_id, day.date) for day in days}
    return _page(
        "dates.html",
        status=422 if problems else 200,
        branch=branch,
        days=days,
        overrides=overrides,
        waitlists=services().waitlist.figures(branch_id, [day.date for day in days]),
        values=values,
        errors=field_texts(problems),
        done=done,
    )


@bp.get("/admin/cabang/<branch_id>/antrian")
@signed_in
def bookings(branch_id: str):
    """A day's bookings, NIK and phone masked; search by booking code."""
    require(_account(), Action.READ_BOOKINGS, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    day = parse_date(request.args.get("tanggal", "")) or _local_today(branch.timezone)
    code = "".join(request.args.get("kode", "").split()).replace("-", "").upper()
    return _bookings_page(branch, day, code)


def _bookings_page(
    branch: catalog.Branch,
    day: dt.date,
    code: str = "",
    status: int = 200,
    errors: dict | None = None,
    reason: str = "",
) -> Response:
    """The day's list (matching ``code``), with the full export's form and its refusal."""
    listed = services().tuning.bookings(branch.id, day)
    if code:
        listed = [b for b in listed if code in b.code]
    return _page(
        "bookings.html",
        status=status,
        branch=branch,
        day=day,
        code=code,
        bookings=listed,
        may_cancel=may(_account(), Action.CANCEL_BOOKING, branch.id),
        cancelled=request.args.get("dibatalkan", ""),
        errors=errors or {},
        reason=reason,
    )


@bp.route("/admin/cabang/<branch_id>/antrian/<code>/batal", methods=["GET", "POST"])
@signed_in
def cancel_booking(branch_id: str, code: str):
    """Cancel one booking of the branch: the booking, a form asking why; then back to the day's
    list, which says it is done (the participant gets the cancellation SMS)."""
    reservations = services().reservations
    booking = staff_cancellation.cancellable(reservations, _account(), code)
    if booking.branch_id != branch_id:
        raise NotFoundError("booking")
    branch = catalog.get_branch(services().redis, branch_id)
    problems, refusal, reason = {}, None, ""
    if request.method == "POST":
        reason = request.form.get("reason", "")
        try:
            staff_cancellation.cancel(reservations, _account(), code, reason, _actor(), services().clock())
        except ValidationFailedError as refused:
            problems = refused.fields
        except (CancelledError, TooLateError) as refused:
            refusal = refused.code
        else:
            return redirect(
                url_for(
                    "admin.bookings",
                    branch_id=branch_id,
                    tanggal=booking.date.isoformat(),
                    dibatalkan=booking.code,
                ),
                303,
            )
    return _page(
        "cancel.html",
        status=422 if problems else 409 if refusal else 200,
        branch=branch,
        booking=reservations.get(branch_id, booking.code),
        reason=reason,
        errors=field_texts(problems),
        refusal=refusal,
    )


@bp.route("/admin/cabang/<branch_id>/penimbunan", methods=["GET", "POST"])
@signed_in
def hoarding_view(branch_id: str):
    """What looks like hoarding at the branch on a day (phones and addresses behind many NIKs,
    bursts, holds), each group's bookings with a box to tick; "Batalkan yang dipilih" cancels
    the ticked ones for one reason (each audited, each participant gets the cancellation SMS),
    then the page says what became of each."""
    require(_account(), Action.READ_BOOKINGS, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    source = request.form if request.method == "POST" else request.args
    day = parse_date(source.get("tanggal", "")) or _local_today(branch.timezone)
    problems, outcomes, reason = {}, None, ""
    if request.method == "POST":
        require(_account(), Action.CANCEL_BOOKING, branch_id)
        reason = request.form.get("reason", "")
        try:
            outcomes = hoarding.cancel_selection(
                services().reservations,
                _account(),
                request.form.getlist("kode"),
                reason,
                _actor(),
                services().clock(),
                branch_id=branch_id,
            )
        except ValidationFailedError as refused:
            problems = refused.fields
        else:
            count_bulk_cancellation(outcome.outcome for outcome in outcomes)
            reason = ""
    return _page(
        "hoarding.html",
        status=422 if problems else 200,
        branch=branch,
        day=day,
        signals=services().hoarding.day(branch_id, day, services().clock()),
        may_cancel=may(_account(), Action.CANCEL_BOOKING, branch_id),
        selectable=hoarding.SELECTABLE,
        reason=reason,
        errors=field_texts(problems),
        nothing_chosen=problems.get("codes") == ["required"],
        outcomes=outcomes,
        # Ticked boxes stay ticked when the form comes back for its reason.
        chosen=set(request.form.getlist("kode")) if problems else set(),
    )


@bp.route("/admin/cabang/<branch_id>/lepas-nik", methods=["GET", "POST"])
@signed_in
def release_nik(branch_id: str):
    """Release a NIK at this branch, its owner's KTP seen: the NIK, the owner's phone and why;
    then what was cancelled (each participant gets the cancellation SMS) and what was kept."""
    require(_account(), Action.CANCEL_BOOKING, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    values = {name: request.form.get(name, "") for name in ("nik", "phone", "reason")}
    problems, release = {}, None
    if request.method == "POST":
        try:
            release = nik_release.release_nik(
                services().reservations,
                _account(),
                branch_id,
                values["nik"],
                values["phone"],
                values["reason"],
                _actor(),
                services().clock(),
            )
        except ValidationFailedError as refused:
            problems = refused.fields
        else:
            values = {"nik": "", "phone": "", "reason": ""}
    return _page(
        "release_nik.html",
        status=422 if problems else 200,
        branch=branch,
        values=values,
        errors=field_texts(problems),
        release=release,
        branches={b.id: b.name for b in catalog.list_branches(services().redis)},
    )


@bp.route("/admin/cabang/<branch_id>/antrian.csv", methods=["GET", "POST"])
@signed_in
def bookings_csv(branch_id: str):
    """The day's bookings as CSV, masked; unmasked from the form that asks why (``reason``,
    audited with it), where a missing reason shows the day's list again with the refusal."""
    require(_account(), Action.READ_BOOKINGS, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    values = request.form if request.method == "POST" else request.args
    day = parse_date(values.get("tanggal", "")) or _local_today(branch.timezone)
    full = request.method == "POST"
    reason = request.form.get("reason", "") if full else None
    try:
        text = services().tuning.export_bookings(
            branch_id, day, full, _actor(), services().clock(), reason=reason
        )
    except ValidationFailedError as refused:
        return _bookings_page(branch, day, status=422, errors=field_texts(refused.fields), reason=reason)
    return csv_download(text, f"antrian-{branch_id}-{day.isoformat()}.csv")


@bp.get("/admin/cabang/<branch_id>/audit")
@signed_in
def audit_log(branch_id: str):
    """The branch's audit entries, newest first, a page at a time (``sebelum``: the last entry
    shown), filtered by who and what; CSV on request."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    actor = request.args.get("oleh") or None
    action = request.args.get("aksi") or None
    before = request.args.get("sebelum", "")
    before = before if _ENTRY_ID.fullmatch(before) else None
    if request.args.get("format") == "csv":
        entries = audit.read(services().redis, branch_id, actor=actor, action=action, before=before)
        return csv_download(audit.to_csv(entries), f"audit-{branch_id}.csv")
    found = audit.page(services().redis, branch_id, actor=actor, action=action, before=before)
    return _page(
        "audit.html",
        branch=branch,
        entries=found.entries,
        older=found.older,
        actor=actor or "",
        action=action or "",
    )


@bp.route("/admin/cabang/<branch_id>/petugas", methods=["GET", "POST"])
@signed_in
def staff(branch_id: str):
    """The branch's counter staff and their API tokens: add staff, add or revoke a token."""
    require(_account(), Action.MANAGE_STAFF, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    accounts = services().accounts
    shown_token, problems, values = None, {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        shown_token, problems = _change_staff(branch_id, values)
    members = [a for a in accounts.list() if a.role == COUNTER_STAFF and branch_id in a.branches]
    return _page(
        "staff.html",
        status=422 if problems else 200,
        branch=branch,
        members=[(member, accounts.tokens(member.username)) for member in members],
        values=values,
        errors=field_texts(problems),
        shown_token=shown_token,
    )


@bp.route("/admin/cabang/<branch_id>/kios", methods=["GET", "POST"])
@signed_in
def kiosks(branch_id: str):
    """The branch's kiosks: register one (its token shown once), revoke one at once."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    shown_token, problems = None, {}
    if request.method == "POST":
        require(_account(), Action.TUNE_BRANCH, branch_id)
        shown_token, problems = _change_kiosks(branch_id, request.form.to_dict())
    return _page(
        "kiosks.html",
        status=422 if problems else 200,
        branch=branch,
        kiosks=services().kiosks.of_branch(branch_id),
        errors=field_texts(problems),
        shown_token=shown_token,
    )


def _change_kiosks(branch_id: str, values: dict[str, str]):
    kiosks, now = services().kiosks, services().clock()
    if values.get("action") == "revoke":
        kiosk = kiosks.get(values.get("kiosk_id", ""))
        if kiosk is None or kiosk.branch_id != branch_id:
            return None, {"kiosk_id": ["not_found"]}
        kiosks.revoke(kiosk.id, now, _actor())
        return None, {}
    try:
        _kiosk, token = kiosks.create(branch_id, values.get("name", ""), now, _actor())
    except ValidationFailedError as refused:
        return None, refused.fields
    return token, {}


@bp.route("/admin/cabang/<branch_id>/loket", methods=["GET", "POST"])
@signed_in
def counters(branch_id: str):
    """The branch's counters and the services each serves: add or change one, remove one."""
    require(_account(), Action.READ_BRANCH, branch_id)
    branch = catalog.get_branch(services().redis, branch_id)
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        require(_account(), Action.TUNE_BRANCH, branch_id)
        problems = _change_counters(branch_id)
    offered = catalog.offered_services(services().redis, branch)
    return _page(
        "counters.html",
        status=422 if problems else 200,
        branch=branch,
        counters=services().live_queue.counters(branch_id),
        services=offered,
        names={s.id: s.name for s in offered},
        errors=field_texts(problems),
    )


def _change_counters(branch_id: str) -> dict[str, list[str]]:
    live, now, name = services().live_queue, services().clock(), request.form.get("name", "")
    try:
        if request.form.get("action") == "remove":
            if not live.remove_counter(branch_id, name, _actor(), now):
                return {"name": ["not_found"]}
        else:
            live.set_counter(branch_id, name.strip(), request.form.getlist("services") or None, _actor(), now)
    except ValidationFailedError as refused:
        return {"name" if field == "counter" else field: keys for field, keys in refused.fields.items()}
    return {}


@bp.route("/admin/nasional", methods=["GET", "POST"])
@signed_in
def national():
    """National closures (close every branch on a date) and the national audit log, a page at
    a time (``sebelum``: the last entry shown)."""
    require(_account(), Action.CLOSE_NATIONALLY)
    problems, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        day = parse_date(values.get("date", ""))
        if day is None:
            problems = {"date": ["invalid_date"]}
        elif values.get("action") == "reopen":
            calendar.reopen_nationally(services().redis, day, _actor(), services().clock())
        else:
            calendar.close_nationally(
                services().redis, day, values.get("note", "").strip()[:200], _actor(), services().clock()
            )
    before = request.args.get("sebelum", "")
    found = audit.page(services().redis, before=before if _ENTRY_ID.fullmatch(before) else None, limit=100)
    return _page(
        "national.html",
        status=422 if problems else 200,
        closures=calendar.list_national_closures(services().redis),
        entries=found.entries,
        older=found.older,
        values=values,
        errors=field_texts(problems),
    )


def _change_staff(branch_id: str, values: dict[str, str]):
    """Add a member of staff, or a token, or revoke one; the new token to show once."""
    accounts, username = services().accounts, values.get("username", "").strip()
    action = values.get("action")
    if action == "create":
        try:
            _account_made, token = accounts.create(
                username,
                COUNTER_STAFF,
                (branch_id,),
                password=values.get("password") or None,
                now=services().clock(),
                actor=_actor(),
            )
        except AccountRejectedError as rejected:
            return None, {rejected.field: [rejected.key]}
        return token, {}
    member = accounts.get(username)
    if member is None or member.role != COUNTER_STAFF or branch_id not in member.branches:
        return None, {"username": ["unknown_account"]}
    if action == "add_token":
        token = accounts.add_token(
            username, values.get("name", "").strip()[:64] or "token", services().clock(), _actor()
        )
        return token, {}
    if action == "revoke":
        accounts.revoke_token(username, values.get("token_id", ""), _actor(), services().clock())
    return None, {}


def _change_date(branch_id: str, values: dict[str, str]):
    day = parse_date(values.get("date", ""))
    if day is None:
        return None, {"date": ["invalid_date"]}
    tuning, now = services().tuning, services().clock()
    if values.get("action") == "clear":
        tuning.clear_date(branch_id, day, _actor(), now)
        return {"cleared": day}, {}
    quota_text = values.get("daily_quota", "").strip()
    quota = None
    if quota_text:
        quota = _whole_number(quota_text)
        if quota is None:
            return None, {"daily_quota": ["at_least_0"]}
    note = values.get("note", "").strip()[:200]
    try:
        if values.get("closed") == "1":
            cancelled = tuning.close_day(
                branch_id, day, note, _actor(), now, cancel_bookings=values.get("cancel_bookings") == "1"
            )
            return {"closed": day, "cancelled": len(cancelled)}, {}
        tuning.set_date(branch_id, day, schedules.DateOverride(False, quota, note), _actor(), now)
    except ValidationFailedError as refused:
        return None, refused.fields
    return {"quota": day}, {}


def _settings_values(settings: schedules.BranchSettings) -> dict[str, str]:
    values = {name: str(getattr(settings, name)) for name in _INT_FIELDS}
    values["online_booking"] = "1" if settings.online_booking else ""
    values["release_time"] = settings.release_time
    room = tuning.settings_document(settings)["waiting_room"]
    values["waiting_room.enabled"] = "1" if room["enabled"] else ""
    for name in _ROOM_INT_FIELDS:
        values[f"waiting_room.{name}"] = str(room[name])
    for weekday in schedules.WEEKDAYS:
        for index, (start, end) in enumerate(settings.service_hours.get(weekday, [])):
            values[f"{weekday}_{index}_start"], values[f"{weekday}_{index}_end"] = start, end
    return values


def _settings_changes(values: dict[str, str]) -> tuple[dict, dict[str, list[str]]]:
    """The form as a settings change, and the fields that are not even numbers or times."""
    changes: dict = {"online_booking": values.get("online_booking") == "1"}
    problems: dict[str, list[str]] = {}
    for name in _INT_FIELDS:
        number = _whole_number(values.get(name, "").strip())
        if number is not None:
            changes[name] = number
        else:
            problems[name] = ["not_integer"]
    hours = {}
    for weekday in schedules.WEEKDAYS:
        intervals = []
        for index in range(_INTERVALS_PER_DAY):
            start = values.get(f"{weekday}_{index}_start", "").strip()
            end = values.get(f"{weekday}_{index}_end", "").strip()
            if start or end:
                intervals.append([start, end])
        hours[weekday] = intervals
    changes["service_hours"] = hours
    if "release_time" in values:  # empty: as the day begins, today's behaviour
        changes["release_time"] = values["release_time"].strip() or schedules.DEFAULT_RELEASE_TIME
    # The waiting room, when the form has its fields (a box not ticked is not sent at all).
    if any(f"waiting_room.{name}" in values for name in _ROOM_INT_FIELDS):
        room: dict = {"enabled": values.get("waiting_room.enabled") == "1"}
        for name in _ROOM_INT_FIELDS:
            text = values.get(f"waiting_room.{name}")
            if text is None:
                continue
            number = _whole_number(text.strip())
            if number is not None:
                room[name] = number
            else:
                problems[f"waiting_room.{name}"] = ["not_integer"]
        changes["waiting_room"] = room
    return changes, problems


def _fill_chart(figures: list[reports.DayFigures], title: str, chart_id: str) -> str:
    return bar_chart(
        title,
        _("Setiap batang: antrian terpesan; garis: kuota hari itu."),
        [Bar(_short(f.date), f.booked, f.quota if f.open else None, muted=not f.open) for f in figures],
        chart_id=chart_id,
    )


def _short(day: dt.date) -> str:
    return f"{day.day}/{day.month}"


def _local_today(timezone: str) -> dt.date:
    return schedules.local_now(services().clock(), timezone).date()


def _whole_number(text: str) -> int | None:
    """``text`` as a whole number of ASCII digits, else None: ``str.isdigit`` also takes "²",
    which ``int`` refuses."""
    return int(text) if text.isascii() and text.isdigit() else None
