"""The catalog in the admin console (issue 22, national admins): the areas, services and
branches listed, a form to add each and one to change it, a branch retired or taken back, the
services a branch offers as checkboxes, and what a service's participants bring as plain text.
Every rule is ``domain.catalog_changes``' (who may, through ``authz``); this module reads forms
into the documents the API takes and renders pages, each refusal beside its field.

What to bring is written one document a line, and each reason of a claim on a line of its own:
``Nama alasan: dokumen; dokumen | catatan`` (the note after ``|`` may be left out). A reason
keeps its id while its name stays; a new one's id is made from its name.
"""

from __future__ import annotations

import re

from flask import Response, g, redirect, request, url_for

from queue_service.domain import catalog, catalog_changes, schedules
from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, require
from queue_service.domain.catalog_changes import AREA, BRANCH, SERVICE
from queue_service.domain.errors import NotFoundError, ValidationFailedError
from queue_service.domain.requirements import Requirements
from queue_service.web.api.catalog_admin import changes
from queue_service.web.extensions import services
from queue_service.web.limits import client_address
from queue_service.web.pages import staff_auth
from queue_service.web.pages.page_blueprints import make_page_blueprint
from queue_service.web.pages.rendering import field_texts, render

bp = make_page_blueprint("catalog_console", __name__)
signed_in = staff_auth.signed_in("admin", "admin.sign_in_form")

_PATHS = {AREA: "wilayah", SERVICE: "layanan", BRANCH: "cabang"}
_FORMS = {AREA: "catalog_area.html", SERVICE: "catalog_service.html", BRANCH: "catalog_branch.html"}
_REASON_LINE = re.compile(r"(?P<name>[^:]+):(?P<documents>[^|]*)(\|(?P<note>.*))?")


def _account() -> Account:
    return g.account


def _page(template: str, status: int = 200, **context) -> Response:
    return render(f"admin/{template}", status=status, personal=True, account=g.get("account"), **context)


@bp.get("/admin/katalog")
@signed_in
def catalog_home():
    """Every area, service and branch, each with its form; ``?disimpan=<id>`` says what was saved."""
    require(_account(), Action.MANAGE_CATALOG)
    redis = services().redis
    return _page(
        "catalog.html",
        areas=catalog.list_areas(redis),
        services=catalog.list_services(redis),
        branches=catalog.list_branches(redis),
        area_names={area.id: area.name for area in catalog.list_areas(redis)},
        saved=request.args.get("disimpan", "")[:64],
    )


@bp.route("/admin/katalog/<kind_path>", methods=["GET", "POST"])
@signed_in
def create(kind_path: str):
    """The form that adds an area, service or branch (a branch without hours, online booking off)."""
    kind = _kind(kind_path)
    require(_account(), Action.MANAGE_CATALOG)
    if request.method == "GET":
        return _form(kind, None, _values(kind, None))
    document = _document(kind, request.form, None)
    if isinstance(document, Response):
        return document
    try:
        changes().create(kind, document, _actor(), services().clock())
    except ValidationFailedError as refused:
        return _form(kind, None, _posted(request.form), refused.fields)
    return redirect(url_for("catalog_console.catalog_home", disimpan=document["id"]), 303)


@bp.route("/admin/katalog/<kind_path>/<item_id>", methods=["GET", "POST"])
@signed_in
def change(kind_path: str, item_id: str):
    """The form that changes an area, service or branch (its id stays)."""
    kind = _kind(kind_path)
    require(_account(), Action.MANAGE_CATALOG)
    current = _current(kind, item_id)
    if request.method == "GET":
        return _form(kind, current, _values(kind, current))
    document = _document(kind, request.form, current)
    if isinstance(document, Response):
        return document
    return _save(kind, current, document, _posted(request.form))


@bp.post("/admin/katalog/cabang/<item_id>/status")
@signed_in
def retire(item_id: str):
    """Retire a branch (it takes no new bookings and keeps its own), or take it back."""
    require(_account(), Action.MANAGE_CATALOG)
    current = _current(BRANCH, item_id)
    document = catalog_changes.document(BRANCH, current)
    document["retired"] = request.form.get("retired") == "1"
    return _save(BRANCH, current, document, _values(BRANCH, current))


def _save(kind: str, current, document: dict, values) -> Response:
    try:
        changes().update(kind, current.id, document, _actor(), services().clock())
    except ValidationFailedError as refused:
        return _form(kind, current, values, refused.fields)
    return redirect(url_for("catalog_console.catalog_home", disimpan=current.id), 303)


def _kind(kind_path: str) -> str:
    for kind, path in _PATHS.items():
        if path == kind_path:
            return kind
    raise NotFoundError("page")


def _current(kind: str, item_id: str):
    entry = catalog_changes.read_catalog(services().redis).of(kind).get(item_id)
    if entry is None:
        raise NotFoundError(kind)
    return entry


def _actor() -> Actor:
    return Actor(_account().username, _account().role, client_address())


def _form(kind: str, current, values, fields: dict | None = None) -> Response:
    """The form of ``kind``: adding (``current`` None) or changing ``current``; 422 with
    each refusal beside its field."""
    redis = services().redis
    errors = field_texts(_form_fields(fields or {}))
    return _page(
        _FORMS[kind].removeprefix("admin/"),
        status=422 if fields else 200,
        current=current,
        values=values,
        errors=errors,
        summary=None,
        areas=catalog.list_areas(redis) if kind == BRANCH else [],
        services=catalog.list_services(redis) if kind == BRANCH else [],
        timezones=[(zone, schedules.timezone_label(zone)) for zone in catalog_changes.TIMEZONES],
        limits={
            "id": catalog_changes.ID_MAX,
            "name": catalog_changes.NAME_MAX,
            "address": catalog_changes.ADDRESS_MAX,
            "note": catalog_changes.NOTE_MAX,
        },
    )


def _form_fields(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """The domain's field names (``requirements.reasons.2.name``) as the form's (``reasons``)."""
    named: dict[str, list[str]] = {}
    for name, keys in fields.items():
        parts = name.split(".")
        field = parts[1] if parts[0] == "requirements" and len(parts) > 1 else parts[0]
        for key in keys:
            if key not in named.setdefault(field, []):
                named[field].append(key)
    return named


def _values(kind: str, entry) -> dict:
    """The form's fields for ``entry`` (empty ones for a new entry)."""
    if entry is None:
        return {"services": [], "timezone": catalog_changes.TIMEZONES[0]} if kind == BRANCH else {}
    values = catalog_changes.document(kind, entry)
    if kind == SERVICE:
        requirements = entry.requirements
        values["documents"] = "\n".join(requirements.documents)
        values["reasons"] = "\n".join(
            f"{r.name}: {'; '.join(r.documents)}" + (f" | {r.note}" if r.note else "")
            for r in requirements.reasons
        )
        values["note"] = requirements.note or ""
    return values


def _posted(form) -> dict:
    """A posted form's fields as the form shows them again (the checked services a list)."""
    return {**form.to_dict(), "services": form.getlist("services")}


def _document(kind: str, form, current) -> dict | Response:
    """The document a posted form describes (its id the entry's when changing one), or the
    form again when a reason's line cannot be read."""
    text = {
        name: form.get(name, "").strip()
        for name in ("id", "name", "area_id", "address", "timezone", "prefix")
    }
    document: dict = {"id": current.id if current is not None else text["id"], "name": text["name"]}
    if kind == BRANCH:
        document |= {
            "area_id": text["area_id"],
            "address": text["address"],
            "timezone": text["timezone"],
            "services": form.getlist("services"),
            "retired": form.get("retired") == "1",
        }
    if kind == SERVICE:
        reasons = _reasons(form.get("reasons", ""), current.requirements if current is not None else None)
        if reasons is None:
            return _form(kind, current, _posted(form), {"requirements.reasons": ["reason_line"]})
        document |= {
            "prefix": text["prefix"],
            "requirements": {
                "documents": [
                    line.strip() for line in form.get("documents", "").splitlines() if line.strip()
                ],
                "reasons": reasons,
                "note": form.get("note", "").strip() or None,
            },
        }
    return document


def _reasons(text: str, before: Requirements | None) -> list[dict] | None:
    """The reasons written one a line as ``Nama: dokumen; dokumen | catatan``; None if a line
    is not so. A reason keeps the id it had under its name; a new one's is made from its name."""
    kept = {reason.name: reason.id for reason in before.reasons} if before is not None else {}
    reasons: list[dict] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        found = _REASON_LINE.fullmatch(line)
        if found is None:
            return None
        name = found["name"].strip()
        taken = {reason["id"] for reason in reasons}
        reason_id = kept.get(name) or _slug(name, taken)
        reasons.append(
            {
                "id": reason_id,
                "name": name,
                "documents": [doc.strip() for doc in found["documents"].split(";") if doc.strip()],
                "note": (found["note"] or "").strip() or None,
            }
        )
    return reasons


def _slug(name: str, taken: set[str]) -> str:
    """An id made of ``name`` (``Mengundurkan diri`` -> ``mengundurkan-diri``), not in ``taken``."""
    base = "-".join(re.findall(r"[a-z0-9]+", name.lower()))[: catalog_changes.ID_MAX - 4] or "alasan"
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug
