"""The package installs as it declares: the lowest-versions constraints follow pyproject.toml's
floors, and a wheel built from the sources alone (no .mo in them, as in a clean clone) carries
the compiled catalogs, so that the installed package, not a work tree, speaks English.

``make smoke-lowest`` installs those lowest versions from PyPI; nothing here uses the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
MO = "queue_service/web/translations/en/LC_MESSAGES/messages.mo"


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def pinned() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints" / "lowest.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_the_constraints_pin_each_floor_and_nothing_else():
    pins = pinned()
    floors = {}
    for requirement in declared():
        lower = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
        if lower:
            floors[canonicalize_name(requirement.name)] = (requirement, lower[0])
    assert sorted(pins) == sorted(floors), "constraints/lowest.txt names other packages than the floors"
    for name, (requirement, floor) in floors.items():
        pin = pins[name]
        assert pin in requirement.specifier, f"{name}=={pin} is outside {requirement}"
        # The oldest release of the floor's series: `>=23` may be pinned 23.1.0 (no 23.0 exists).
        assert pin.release[: len(floor.release)] == floor.release, f"{name}=={pin} is not the floor {floor}"


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the sources that holds no built catalog."""
    source = tmp_path / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("*.mo", "__pycache__", "*.egg-info", "build")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in ("queue_service", "workers", "config"):
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    assert not list(source.rglob("*.mo"))
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--wheel-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("antrian-*.whl")
    return wheel


# Run by the throwaway venv's Python, from a folder without sources.
CHECK = """
import json, sys
import queue_service
from queue_service import create_app

app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
page = client.get("/?lang=en").get_data(as_text=True)
url = "/api/v1/branches/no-such-branch/availability?date=2026-11-24"
errors = {lang: client.get(url, headers={"Accept-Language": lang}).get_json() for lang in ("id", "en")}
app.extensions["antrian"].close()
print(json.dumps({"module": queue_service.__file__, "page": page, "errors": errors}))
"""


def test_an_installed_wheel_speaks_english(tmp_path, redis_server):
    wheel = build_wheel(tmp_path)
    assert MO in zipfile.ZipFile(wheel).namelist()
    assert "queue_service/domain/demo_catalog.json" in zipfile.ZipFile(wheel).namelist()  # seed-demo's

    # A venv of its own, borrowing this one's dependencies (a .pth line adds their folder, but
    # not the .pth files in it, so this checkout's editable install stays out).
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # --target: pip installs there without looking at (or uninstalling) this venv's antrian.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            site,
            wheel,
        ],
        check=True,
        capture_output=True,
    )

    settings = {"REDIS_URL": redis_server.url, "SECRET_KEY": "wheel-test", "VAR_DIR": str(tmp_path / "var")}
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(
        [python, "-c", CHECK, json.dumps(settings)], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["module"].startswith(site), answer["module"]
    # The home page's heading and an API error, as messages.po translates them.
    assert "Choose an area" in answer["page"] and "Pilih wilayah" not in answer["page"]
    assert answer["errors"]["en"]["error"]["code"] == "not_found"
    assert answer["errors"]["en"]["error"]["message"] != answer["errors"]["id"]["error"]["message"]
