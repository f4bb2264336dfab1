"""The catalog's admin API (SPEC §6 "Catalog and accounts"): national admins create (POST, 201)
and replace (PUT, the whole entry; its id is the path's and never changes) areas, branches and
services. Views stay thin: ``authz`` decides who may, ``domain.catalog_changes`` checks,
writes and audits."""

from __future__ import annotations

from flask import Blueprint

from queue_service.domain import catalog_changes
from queue_service.domain.authz import Action, require
from queue_service.domain.catalog_changes import AREA, BRANCH, SERVICE, CatalogChanges
from queue_service.web.api import admin_auth
from queue_service.web.extensions import services
from queue_service.web.requests import json_object, load
from queue_service.web.schemas import catalog as schemas

bp = Blueprint("catalog_admin_api", __name__, url_prefix="/api/v1/admin")
bp.before_request(admin_auth.authenticate)

# Per kind: the body of a POST, the body of a PUT, the answer (one instance each per process).
_SCHEMAS = {
    AREA: (schemas.AreaDocumentSchema(), schemas.AreaChangeSchema(), schemas.AreaViewSchema()),
    BRANCH: (schemas.BranchDocumentSchema(), schemas.BranchChangeSchema(), schemas.BranchViewSchema()),
    SERVICE: (schemas.ServiceDocumentSchema(), schemas.ServiceChangeSchema(), schemas.ServiceViewSchema()),
}


def changes() -> CatalogChanges:
    """The catalog's changes, each dropping this process's cached availability it alters."""
    return CatalogChanges(services().redis, on_change=services().availability.forget)


@bp.post("/areas")
def create_area():
    """Add an area."""
    return _create(AREA)


@bp.put("/areas/<area_id>")
def update_area(area_id: str):
    """Replace an area's name."""
    return _update(AREA, area_id)


@bp.post("/branches")
def create_branch():
    """Add a branch: online booking off and no hours until its admins set them."""
    return _create(BRANCH)


@bp.put("/branches/<branch_id>")
def update_branch(branch_id: str):
    """Replace a branch: its name, area, address, time zone, services, whether it is retired."""
    return _update(BRANCH, branch_id)


@bp.post("/services")
def create_service():
    """Add a service with its queue prefix and what to bring."""
    return _create(SERVICE)


@bp.put("/services/<service_id>")
def update_service(service_id: str):
    """Replace a service: its name, prefix and what to bring."""
    return _update(SERVICE, service_id)


def _create(kind: str):
    require(admin_auth.account(), Action.MANAGE_CATALOG)
    new, _change, view = _SCHEMAS[kind]
    entry = changes().create(kind, load(new, json_object()), admin_auth.actor(), services().clock())
    return view.dump(catalog_changes.document(kind, entry)), 201


def _update(kind: str, item_id: str):
    require(admin_auth.account(), Action.MANAGE_CATALOG)
    _new, change, view = _SCHEMAS[kind]
    document = load(change, json_object())
    entry = changes().update(kind, item_id, document, admin_auth.actor(), services().clock())
    return view.dump(catalog_changes.document(kind, entry))
