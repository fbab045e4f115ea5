"""The `harvest` command: run the platform (`up`), one process (`serve`), the Celery worker, and the
administrative bootstrap (`admin create-user|token|revoke`), and the guided `demo`."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from harvest.common.settings import PROCESS_NAMES


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harvest", description=__doc__)
    sub = parser.add_subparsers(dest="command")

    up = sub.add_parser("up", help="run every process on this host with embedded defaults")
    up.add_argument("--without", action="append", default=[], choices=PROCESS_NAMES,
                    help="leave a process out (repeatable)")
    up.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for health")
    up.add_argument("--demo", action="store_true",
                    help="on a new home, seed the demo project (`harvest demo`) once everything is ready")
    up.set_defaults(handler=_cmd_up)

    serve = sub.add_parser("serve", help="run one process in the foreground")
    serve.add_argument("name", choices=PROCESS_NAMES, nargs="?", help="default: $HARVEST_PROCESS")
    serve.set_defaults(handler=_cmd_serve)

    worker = sub.add_parser("worker", help="run the Celery worker (same as `serve worker`)")
    worker.set_defaults(handler=lambda _args: _serve("worker"))

    demo = sub.add_parser("demo", help="run the whole loop on real MNIST digits against a running platform")
    demo.add_argument("--images-per-class", type=int, default=100)
    demo.add_argument("--labels-per-class", type=int, default=4)
    demo.add_argument("--steps", type=int, default=600, help="training steps of the quick preset")
    demo.add_argument("--if-new", action="store_true", help="do nothing when the demo project already exists")
    demo.set_defaults(handler=_cmd_demo)
    probe = sub.add_parser("probe", help="container health check: exit 0 when the local process is ready")
    probe.add_argument("name", choices=PROCESS_NAMES, nargs="?", help="default: $HARVEST_PROCESS")
    probe.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer")
    probe.set_defaults(handler=_cmd_probe)
    health = sub.add_parser("health", help="print the health of every service")
    health.set_defaults(handler=_cmd_health)

    admin = sub.add_parser("admin", help="bootstrap users and tokens directly in the labels database")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser("create-user", help="create a user")
    create.add_argument("username")
    create.add_argument("--role", default="annotator", help="admin, expert or annotator")
    create.add_argument("--password-stdin", action="store_true", help="read a password from standard input")
    create.set_defaults(handler=_cmd_create_user)
    token = admin_sub.add_parser("token", help="issue a token for a user and print it")
    token.add_argument("username")
    token.add_argument("--ttl-days", type=float, default=30.0)
    token.add_argument("--description", default="issued with harvest admin token")
    token.set_defaults(handler=_cmd_token)
    revoke = admin_sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=_cmd_revoke)
    return parser


def _process_name(args: argparse.Namespace) -> str | None:
    from harvest.common.settings import ProcessSettings

    name = args.name or ProcessSettings().process
    if name is None:
        print(f"harvest {args.command}: name a process ({', '.join(PROCESS_NAMES)}) or set HARVEST_PROCESS",
              file=sys.stderr)
    return name


def _cmd_serve(args: argparse.Namespace) -> int:
    name = _process_name(args)
    return 2 if name is None else _serve(name)


def _serve(name: str) -> int:
    """Run one process: each has a module with a `main()` (a service's is its `__main__`).

    Processes that sign or verify tokens check the secret first, so a deployment with the example value
    (or none, where one is required) stops at once with the fix, not later with every call UNAUTHENTICATED.
    """
    if name != "ui":
        from harvest.common.settings import AuthSettings

        problem = AuthSettings().startup_problem()
        if problem:
            print(f"harvest serve {name}: refusing to start: {problem}", file=sys.stderr)
            return 2
    module = importlib.import_module({"worker": "harvest.scheduler.worker"}.get(name, f"harvest.{name}.__main__"))
    return int(module.main() or 0)


def _cmd_probe(args: argparse.Namespace) -> int:
    from harvest.common.probe import probe

    name = _process_name(args)
    if name is None:
        return 2
    result = probe(name, timeout_s=args.timeout)
    print(result.detail, file=sys.stdout if result.healthy else sys.stderr)
    return 0 if result.healthy else 1


def _cmd_health(_args: argparse.Namespace) -> int:
    from harvest.client import HarvestClient

    with HarvestClient.from_settings() as client:
        statuses = client.health()
    for service, status in statuses.items():
        print(f"{service:10s} {status}")
    return 0 if all(s == "SERVING" for s in statuses.values()) else 1


def _users():  # type: ignore[no-untyped-def]
    """The labels user directory on the configured database (migrated on first use)."""
    from harvest.common.auth import TokenSigner
    from harvest.common.home import ensure_home, load_auth_settings
    from harvest.common.settings import DatabaseSettings, HomeSettings
    from harvest.labels.db import make_engine, migrate, session_factory
    from harvest.labels.users import UserDirectory

    home = ensure_home(HomeSettings().home)
    url = DatabaseSettings().resolved_url(home)
    migrate(url)
    return UserDirectory(session_factory(make_engine(url)), TokenSigner(load_auth_settings(home)))


def _cmd_create_user(args: argparse.Namespace) -> int:
    from harvest.common.auth import Role
    from harvest.common.errors import HarvestError

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    try:
        user = _users().create_user(args.username, Role.parse(args.role), password)
    except (HarvestError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created user {user.username} ({user.role})")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from harvest.common.errors import HarvestError

    try:
        token, principal = _users().issue_token(args.username, ttl_s=int(args.ttl_days * 86400),
                                                description=args.description)
    except HarvestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(token)
    expires = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(principal.expires_at))
    print(f"token id {principal.token_id}, expires {expires}", file=sys.stderr)
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    from harvest.common.errors import HarvestError

    try:
        _users().revoke_token(args.token_id)
    except HarvestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"revoked {args.token_id}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    import grpc

    from harvest.client import HarvestClient
    from harvest.common.home import ensure_home
    from harvest.common.settings import EndpointSettings, HomeSettings
    from harvest.demo import DEMO_MARKER, DemoOptions, find_demo_project, run_demo

    home = ensure_home(HomeSettings().home)
    with HarvestClient.from_settings() as client:
        try:
            if args.if_new and find_demo_project(client) is not None:
                print("harvest demo: the demo project exists already")
                return 0
            with tempfile.TemporaryDirectory(prefix="harvest-demo-") as folder:
                result = run_demo(client, Path(folder), DemoOptions(args.images_per_class, args.labels_per_class,
                                                                    args.steps),
                                  say=lambda text: print(f"harvest demo: {text}", flush=True))
        except grpc.RpcError as exc:
            print(f"harvest demo: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    (home / DEMO_MARKER).write_text(result.project_id + "\n")
    endpoints = EndpointSettings()
    accuracy = "unknown" if result.accuracy is None else f"{100 * result.accuracy:.1f}%"
    print(f"harvest demo: done. {result.labeled} labels -> validation accuracy {accuracy} (job {result.job_id}, "
          f"{result.state}). Open http://{endpoints.connect_host}:{endpoints.ui_port} and pick {result.project_id}.")
    return 0 if result.state == "SUCCEEDED" else 1


def _cmd_up(args: argparse.Namespace) -> int:
    from harvest.stack import Platform

    platform = Platform.from_settings(without=set(args.without), demo=args.demo)

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        platform.request_stop()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    return platform.run(ready_timeout_s=args.ready_timeout)


if __name__ == "__main__":
    sys.exit(main())
