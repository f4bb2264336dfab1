"""Static files under fingerprinted URLs, cached forever, sent compressed.

The files are few and small (hand-written CSS and JS), so each is read once at start,
with its gzip form and a digest of its content. A page names ``/static/<digest>/<file>``;
a changed file gets a new URL, so browsers may keep each one for a year.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, request, url_for

FOLDER = Path(__file__).resolve().parent.parent / "static"
_FOREVER = "public, max-age=31536000, immutable"

bp = Blueprint("assets", __name__)


@dataclass(frozen=True)
class Asset:
    digest: str
    body: bytes
    gzipped: bytes
    mimetype: str


def _load() -> dict[str, Asset]:
    assets = {}
    for path in sorted(FOLDER.rglob("*")):
        if path.is_file():
            body = path.read_bytes()
            mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            assets[path.relative_to(FOLDER).as_posix()] = Asset(
                hashlib.sha256(body).hexdigest()[:12], body, gzip.compress(body, mtime=0), mimetype
            )
    return assets


ASSETS = _load()


def asset_url(name: str) -> str:
    """The fingerprinted URL of static file ``name``."""
    return url_for("assets.serve", digest=ASSETS[name].digest, name=name)


@bp.get("/static/<digest>/<path:name>")
def serve(digest: str, name: str):
    """A static file, if ``digest`` is its current one (an old URL is a 404, never stale)."""
    asset = ASSETS.get(name)
    if asset is None or asset.digest != digest:
        abort(404)
    compressed = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(asset.gzipped if compressed else asset.body, mimetype=asset.mimetype)
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = _FOREVER
    return response
