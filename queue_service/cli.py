"""The ``queue-service`` command line (SPEC §4)."""

from __future__ import annotations

import argparse
import sys

from config import load_settings
from queue_service import store


def _data_store(settings):
    url = settings["REDIS_URL"] or store.ensure_embedded(settings["VAR_DIR"])
    return store.connect(url, cluster=settings["REDIS_CLUSTER"])


def cmd_serve(settings, args) -> int:
    """Serve the web app with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from queue_service import create_app

    if not settings["REDIS_URL"]:
        store.ensure_embedded(settings["VAR_DIR"])  # before forking, so workers share one server
    host, port = args.host, args.port or settings["PORT"]

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", settings["WEB_CONCURRENCY"])
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", settings["WEB_THREADS"])
            self.cfg.set("accesslog", "-")
            # One control socket per user would clash between several servers on one host.
            self.cfg.set("control_socket_disable", True)
            self.cfg.set("forwarded_allow_ips", "*" if settings["TRUSTED_PROXY_COUNT"] else "")
            self.cfg.set("when_ready", lambda _server: print(
                f"Antrian is serving at http://{'localhost' if host == '0.0.0.0' else host}:{port}/",
                flush=True))

        def load(self):
            return create_app()

    Server().run()
    return 0


def cmd_worker(settings, args) -> int:
    """Run the background job worker."""
    from workers.worker import run_worker

    return 0 if run_worker(settings, burst=args.burst) else 1


def cmd_seed_demo(settings, _args) -> int:
    """Load the demo catalog where missing."""
    from queue_service import demo

    added = demo.seed(_data_store(settings))
    print(f"demo catalog: {added} entries added "
          f"({len(demo.AREAS)} areas, {len(demo.BRANCHES)} branches, {len(demo.SERVICES)} services)")
    return 0


def cmd_stop_embedded(settings, _args) -> int:
    """Stop the embedded Redis."""
    stopped = store.stop_embedded(settings["VAR_DIR"])
    print("embedded Redis stopped" if stopped else "embedded Redis was not running")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="queue-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web app (gunicorn)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
    serve.set_defaults(handler=cmd_serve)
    worker = commands.add_parser("worker", help="run the background job worker")
    worker.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    worker.set_defaults(handler=cmd_worker)
    commands.add_parser("seed-demo", help="load the demo catalog (idempotent)").set_defaults(
        handler=cmd_seed_demo)
    commands.add_parser("stop-embedded", help="stop the embedded Redis").set_defaults(
        handler=cmd_stop_embedded)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as exc:
        print(f"queue-service: {exc}", file=sys.stderr)
        return 2
    return args.handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
