"""The ``queue-service`` command line (SPEC §4)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis

from config import load_settings
from queue_service.domain.audit import Actor
from queue_service.store import connect as store
from queue_service.version import package_version


def _data_store(settings):
    return store.data_store(settings)


def cmd_serve(settings, args) -> int:
    """Serve the web app with gunicorn."""
    from queue_service import create_app, metrics
    from queue_service.web.server import Server

    port = args.port or settings["PORT"]
    if settings["METRICS_PORT"] == port and not args.host.startswith("unix:"):
        print(f"queue-service: METRICS_PORT must not be the port served ({port})", file=sys.stderr)
        return 2
    if store.uses_embedded(settings):
        store.ensure_embedded(settings["VAR_DIR"])  # before forking, so workers share one server
    _warn_of_holiday_gaps(settings)  # once, before gunicorn forks its workers
    # Every gunicorn worker records its metrics in this folder, and /metrics sums them.
    with _metrics_folder(settings["PROMETHEUS_MULTIPROC_DIR"]) as folder:
        metrics.use_multiprocess_dir(folder)
        Server(
            settings,
            args.host,
            port,
            load_app=create_app,
            on_worker_exit=metrics.process_exited,
        ).run()
    return 0


def _warn_of_holiday_gaps(settings) -> None:
    """One line on standard error when the installed ``holidays`` lacks a year that a branch
    takes bookings for (queue_service/domain/holiday_coverage.py)."""
    from redis.exceptions import RedisClusterException, RedisError

    from queue_service.domain import holiday_coverage
    from queue_service.domain.clock import utc_now

    try:
        client = _data_store(settings)
    except (RedisError, RedisClusterException) as error:
        # serve starts without its store as before: every page then answers 503.
        line = f"holidays coverage not checked: {type(error).__name__}: {error}"
    else:
        try:
            line = holiday_coverage.start_warning(client, utc_now())
        finally:
            store.close(client)
    if line:
        print(f"queue-service: warning: {line}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _metrics_folder(configured: str | None):
    """``PROMETHEUS_MULTIPROC_DIR`` (created if missing), or a temporary folder removed after."""
    if configured:
        os.makedirs(configured, exist_ok=True)
        yield configured
        return
    folder, owner = tempfile.mkdtemp(prefix="antrian-metrics-"), os.getpid()
    try:
        yield folder
    finally:
        # gunicorn's workers leave through here too (a fork raising SystemExit): only the
        # arbiter, which outlives them, removes the folder.
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)


# Who the audit log names for what is done on the command line.
CLI_ACTOR = Actor("cli", "operator", "cli")

# By name, as jobs are enqueued: the package never imports workers/, which stays a leaf.
WORKER_ENTRY = "workers.worker:run_worker"


def cmd_worker(settings, args) -> int:
    """Run the background job worker."""
    module, _, function = WORKER_ENTRY.partition(":")
    run_worker = getattr(importlib.import_module(module), function)
    return 0 if run_worker(settings, burst=args.burst) else 1


def cmd_seed_demo(settings, _args) -> int:
    """Load the demo catalog where missing."""
    from queue_service.domain import demo
    from queue_service.domain.clock import utc_now

    added = demo.seed(_data_store(settings), CLI_ACTOR, utc_now())
    print(
        f"demo catalog: {added} entries added "
        f"({len(demo.AREAS)} areas, {len(demo.BRANCHES)} branches, {len(demo.SERVICES)} services)"
    )
    return 0


def cmd_import_catalog(settings, args) -> int:
    """Import a catalog file: every row checked first, the whole file refused if one is wrong."""
    from queue_service.domain import catalog_files
    from queue_service.domain.clock import utc_now

    try:
        rows = catalog_files.read_file(Path(args.file))
    except OSError as error:
        print(f"queue-service: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 1
    except catalog_files.CatalogFileError as error:
        print(f"queue-service: {args.file}: {error}; nothing changed", file=sys.stderr)
        return 1
    report = catalog_files.import_catalog(
        _data_store(settings), rows, utc_now(), CLI_ACTOR, dry_run=args.dry_run
    )
    if report.problems:
        print(f"queue-service: {args.file} refused, nothing changed:", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    if args.dry_run:
        print("dry run: nothing changed")
    return 0


def cmd_export_catalog(settings, args) -> int:
    """Write the catalog as a JSON catalog file (standard output without FILE)."""
    from queue_service.domain import catalog_files

    text = catalog_files.to_text(catalog_files.export(_data_store(settings)))
    if args.file is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.file).write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"queue-service: cannot write {args.file}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"catalog written to {args.file}")
    return 0


def _create_account(settings, args, role: str, branches: tuple[str, ...]) -> int:
    """Create an account; its API token on the last line. A password only if asked for."""
    from queue_service.domain.accounts import Accounts
    from queue_service.domain.clock import utc_now

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    redis = _data_store(settings)
    try:
        account, token = Accounts(redis).create(
            args.username, role, branches, password=password, now=utc_now(), actor=CLI_ACTOR
        )
    except ValueError as error:
        print(f"queue-service: {error}", file=sys.stderr)
        return 2
    where = ", ".join(account.branches) or "every branch"
    print(
        f"{account.role} {account.username} created ({where}); "
        f"console password {'set' if password is not None else 'not set (API token only)'}."
    )
    print("API token (shown once; keep it secret):")
    print(token)
    return 0


def cmd_create_admin(settings, args) -> int:
    """Create an admin: national without --branch, else of the branches named."""
    from queue_service.domain.accounts import BRANCH_ADMIN, NATIONAL_ADMIN

    branches = tuple(args.branch or ())
    return _create_account(settings, args, BRANCH_ADMIN if branches else NATIONAL_ADMIN, branches)


def cmd_create_staff(settings, args) -> int:
    """Create counter staff of one branch."""
    from queue_service.domain.accounts import COUNTER_STAFF

    return _create_account(settings, args, COUNTER_STAFF, (args.branch_id,))


def _change_account(settings, username: str, change):
    """``change(account_changes, username, actor, now)`` on an existing account, as the web app
    builds the account changes; None (said on standard error) when there is no such account."""
    from queue_service.domain.account_changes import AccountChanges
    from queue_service.domain.accounts import Accounts
    from queue_service.domain.clock import utc_now
    from queue_service.domain.errors import NotFoundError
    from queue_service.domain.sign_in import SignIn, SignInPolicy

    accounts = Accounts(_data_store(settings))
    # The web app's key (generated under VAR_DIR when unset), or unlock would clear counters
    # that no sign-in counts.
    sign_in = SignIn(
        accounts.redis, accounts, store.secret_key(settings).encode(), SignInPolicy.from_settings(settings)
    )
    changes = AccountChanges(accounts, sign_in)
    try:
        return change(changes, username, CLI_ACTOR, utc_now())
    except NotFoundError:
        print(f"queue-service: no account {username!r}", file=sys.stderr)
        return None


def cmd_reset_password(settings, args) -> int:
    """Give an account a temporary password, printed on the last line."""
    temporary = _change_account(
        settings, args.username, lambda changes, *rest: changes.reset_password(None, *rest)
    )
    if temporary is None:
        return 2
    print(
        f"{args.username}: password reset; its sessions ended; it must choose a new one at its next sign-in."
    )
    print("Temporary password (shown once):")
    print(temporary)
    return 0


def cmd_unlock(settings, args) -> int:
    """Clear an account's failed console sign-ins."""
    cleared = _change_account(settings, args.username, lambda changes, *rest: changes.unlock(None, *rest))
    if cleared is None:
        return 2
    print(f"{args.username}: {'failed sign-ins cleared' if cleared else 'no failed sign-ins to clear'}.")
    return 0


def cmd_create_kiosk(settings, args) -> int:
    """Register a kiosk of a branch; its token on the last line."""
    from queue_service.domain.clock import utc_now
    from queue_service.domain.errors import ValidationFailedError
    from queue_service.domain.kiosks import Kiosks

    redis = _data_store(settings)
    try:
        kiosk, token = Kiosks(redis).create(args.branch_id, args.name, utc_now(), CLI_ACTOR)
    except ValidationFailedError as refused:
        print(
            f"queue-service: cannot create the kiosk: "
            f"{'; '.join(f'{k}: {v[0]}' for k, v in refused.fields.items())}",
            file=sys.stderr,
        )
        return 2
    print(f"kiosk {kiosk.id} ({kiosk.name}) created for {kiosk.branch_id}.")
    print("Kiosk token (shown once; enter it on the kiosk's /kiosk/ page):")
    print(token)
    return 0


def cmd_rotate_data_key(settings, args) -> int:
    """Seal every live booking's person again with the first key of DATA_KEYS, in batches,
    a progress line each; or, with --new-key ID, print a fresh DATA_KEYS entry."""
    from queue_service.domain.reservations.resealing import reseal_bookings
    from queue_service.store.sealing import DataKeysError, SealError, new_key_entry

    if args.new_key:
        try:
            print(new_key_entry(args.new_key))
        except DataKeysError as error:
            print(f"queue-service: {error}", file=sys.stderr)
            return 2
        return 0
    if args.batch < 1:
        print("queue-service: --batch must be at least 1", file=sys.stderr)
        return 2
    redis = _data_store(settings)
    try:
        progress = reseal_bookings(redis, args.batch, on_batch=lambda done: print(done.line(), flush=True))
    except SealError as error:
        print(f"queue-service: {error}", file=sys.stderr)
        return 1
    print(f"done: every live booking is sealed with {progress.key_id}; older keys may leave DATA_KEYS")
    return 0


def cmd_stop_embedded(settings, _args) -> int:
    """Stop the embedded Redis."""
    stopped = store.stop_embedded(settings["VAR_DIR"])
    print("embedded Redis stopped" if stopped else "embedded Redis was not running")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="queue-service",
        description="Antrian: online queue reservation for social-security branch offices.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {package_version()}",
        help="print the version of the installed package and exit",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")
    serve = commands.add_parser("serve", help="serve the web app (gunicorn)")
    serve.add_argument(
        "--host",
        default="0.0.0.0",
        help="address to listen on, or unix:PATH for a Unix socket (default: every address)",
    )
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
    serve.set_defaults(handler=cmd_serve)
    worker = commands.add_parser("worker", help="run the background job worker")
    worker.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    worker.set_defaults(handler=cmd_worker)
    commands.add_parser("seed-demo", help="load the demo catalog (idempotent)").set_defaults(
        handler=cmd_seed_demo
    )
    import_catalog = commands.add_parser(
        "import-catalog",
        help="add and change areas, services and branches from a JSON file (or a CSV of branches)",
    )
    import_catalog.add_argument(
        "file",
        help='JSON {"areas": [...], "services": [...], "branches": [...]}, or a .csv of branches '
        "(header id,name,area_id,address,timezone,services,retired; services separated by ;)",
    )
    import_catalog.add_argument(
        "--dry-run", action="store_true", help="say what would change, change nothing"
    )
    import_catalog.set_defaults(handler=cmd_import_catalog)
    export_catalog = commands.add_parser("export-catalog", help="write the catalog as a JSON file")
    export_catalog.add_argument("file", nargs="?", help="where to write it (default: standard output)")
    export_catalog.set_defaults(handler=cmd_export_catalog)
    password_help = "read a console password from the first line of standard input"
    create_admin = commands.add_parser(
        "create-admin", help="create an admin and print an API token on the last line"
    )
    create_admin.add_argument("username", help="the account's name (console sign-in, audit log)")
    create_admin.add_argument(
        "--branch",
        action="append",
        metavar="ID",
        help="a branch the admin tunes (repeat; none: national admin)",
    )
    create_admin.add_argument("--password-stdin", action="store_true", help=password_help)
    create_admin.set_defaults(handler=cmd_create_admin)
    create_staff = commands.add_parser(
        "create-staff", help="create counter staff and print an API token on the last line"
    )
    create_staff.add_argument("username", help="the account's name (console sign-in, audit log)")
    create_staff.add_argument("branch_id", help="the branch the staff serves at (e.g. jakarta-salemba)")
    create_staff.add_argument("--password-stdin", action="store_true", help=password_help)
    create_staff.set_defaults(handler=cmd_create_staff)
    reset_password = commands.add_parser(
        "reset-password",
        help="give an account a temporary password (printed on the last line), to be changed "
        "at its next sign-in",
    )
    reset_password.add_argument("username", help="the account's name")
    reset_password.set_defaults(handler=cmd_reset_password)
    unlock = commands.add_parser("unlock", help="clear an account's failed console sign-ins")
    unlock.add_argument("username", help="the account's name")
    unlock.set_defaults(handler=cmd_unlock)
    create_kiosk = commands.add_parser(
        "create-kiosk", help="register a kiosk and print its token on the last line"
    )
    create_kiosk.add_argument("branch_id", help="the branch the kiosk stands in (e.g. jakarta-salemba)")
    create_kiosk.add_argument("name", help='what staff call the kiosk (e.g. "Pintu depan")')
    create_kiosk.set_defaults(handler=cmd_create_kiosk)
    rotate = commands.add_parser(
        "rotate-data-key",
        help="seal every live booking's personal data again with the first key of DATA_KEYS "
        "(resumable: a run skips what is sealed with it already)",
    )
    rotate.add_argument("--batch", type=int, default=500, help="bookings read per SCAN step (500)")
    rotate.add_argument("--new-key", metavar="ID", help="only print a fresh DATA_KEYS entry ID:base64key")
    rotate.set_defaults(handler=cmd_rotate_data_key)
    commands.add_parser("stop-embedded", help="stop the embedded Redis").set_defaults(
        handler=cmd_stop_embedded
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as exc:
        print(f"queue-service: {exc}", file=sys.stderr)
        return 2
    try:
        return args.handler(settings, args)
    except store.EmbeddedRedisError as exc:  # the operator's to fix: said, not a traceback
        print(f"queue-service: {exc}", file=sys.stderr)
        return 1
    except _UNREACHABLE as exc:  # the operator's to fix too: a traceback only hides the URL
        url = settings["REDIS_URL"] or store.embedded_url(settings["VAR_DIR"])
        where = store.sentinel_description(settings) if settings["REDIS_SENTINELS"] else masked_url(url)
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"queue-service: cannot use the data store at {where}: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl+C: the shell's code for it, and no traceback
        print(file=sys.stderr)
        return 130


# What a command meets when the data store is down, unreachable, or refuses our password.
# (The worker rides out a plain Redis outage itself; a cluster it cannot reach at start
# fails here too.)
_UNREACHABLE = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.RedisClusterException,
    redis.exceptions.ClusterDownError,
)


def masked_url(url: str) -> str:
    """``url`` with its password, in the user part or a ``password=`` parameter, as ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        name = user.partition(":")[0]
        netloc = f"{name}:***@{host}"
    query = parts.query
    if "password" in query.lower():
        query = urlencode(
            [(key, "***" if key.lower() == "password" else value) for key, value in parse_qsl(query)],
            safe="*",
        )
    # Put together by hand: urlunsplit drops the empty host of unix:///path.
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


if __name__ == "__main__":
    sys.exit(main())
