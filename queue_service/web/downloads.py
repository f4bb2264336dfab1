"""Files the browser saves rather than shows: the console's and the admin API's CSV exports."""

from __future__ import annotations

from flask import Response


def csv_download(text: str, filename: str) -> Response:
    """``text`` as a CSV file named ``filename``; never cached, as it holds bookings or audit
    entries."""
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
