"""The pages count against the same per-address limits as the API, and say so in HTML; a
store outage is an HTML page too."""

import pytest

from queue_service import create_app
from tests.redis_server import free_port
from tests.web.pages.forms import DETAILS


@pytest.fixture
def settings(settings):
    return {
        **settings,
        "RATELIMIT_READ": "3 per minute",
        "RATELIMIT_CAPTCHA": "2 per minute",
        "RATELIMIT_BOOKING": "1 per minute",
    }


def test_reading_pages_share_the_read_limit_with_the_api(client):
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/services").status_code == 200
    assert client.get("/wilayah/dki-jakarta").status_code == 200
    refused = client.get("/cabang/jakarta-salemba")
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert "Terlalu banyak permintaan" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0


def test_each_showing_of_the_details_form_counts_as_a_new_captcha(client):
    assert client.get(DETAILS).status_code == 200
    assert client.post("/api/v1/captcha").status_code == 201
    refused = client.get(DETAILS)
    assert refused.status_code == 429 and "Terlalu banyak permintaan" in refused.get_data(as_text=True)


def test_booking_forms_and_the_api_share_the_booking_limit(client, details_form, person, booking_body):
    fields = {**details_form(), **person, "action": "book"}
    assert client.post("/api/v1/bookings", json=booking_body()).status_code == 201
    refused = client.post("/pesan", data=fields)
    assert refused.status_code == 429 and refused.mimetype == "text/html"


def test_a_store_outage_is_an_html_503_page(settings, clock):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app({**settings, "REDIS_URL": closed, "REDIS_SOCKET_TIMEOUT": 1}, clock=clock)
    client = app.test_client()
    for path in ("/", "/cabang/jakarta-salemba/jht", DETAILS, "/kelola"):
        response = client.get(path)
        assert response.status_code == 503 and response.mimetype == "text/html", path
        assert "Layanan sedang tidak tersedia" in response.get_data(as_text=True)
        assert response.headers["Retry-After"] == "5"
