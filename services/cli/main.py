"""Entry point of `interpol-mesh`: the only place that reads the environment."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from interpol_mesh.directory import load_directory
from interpol_mesh.errors import MeshError
from interpol_mesh.settings import OfficeSettings

HELP = """\
interpol-mesh: signed police-cooperation messaging between INTERPOL offices over NATS JetStream.

Every office (196 NCBs, 7 regional bureaus, 4 liaison offices, the General Secretariat, the CCC)
is its own FastAPI service with its own keys and database. Typical use:

  interpol-mesh up                      start the default mesh (embedded NATS, SQLite under ./var)
  interpol-mesh up --ncbs all           all 196 member countries
  interpol-mesh up --topology regions   nine nats-servers: three regional clusters joined by gateways
  interpol-mesh serve ncb.fr=8101       run one office (NATS_URL, DATABASE_URL from the environment)
  interpol-mesh serve                   run the office named by OFFICE_ID on PORT (the container image)
  interpol-mesh keys init               create the development keys of every office
  interpol-mesh provision               create the streams and every office's consumer (as mesh-admin)
  interpol-mesh token issue --office gs --subject alice --roles reviewer   a bearer token for the console
  interpol-mesh directory validate      check the member directory files
  interpol-mesh audit verify --office ncb.fr   check an office's hash-chained audit log
  interpol-mesh status                  live view of a running mesh (--once --json for scripts)
  interpol-mesh load --rate 200         simulated member traffic through a full mesh; report and picture

Settings come from the environment (see README.md): NATS_URL, DATABASE_URL, DATA_DIR, HOST, PORT, LOG_LEVEL.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interpol-mesh", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser(
        "up",
        help="start the whole mesh on this machine",
        description="Start the embedded nats-server (unless NATS_URL is set), then every office as its own process; Ctrl-C stops all.",
    )
    up.add_argument(
        "--ncbs",
        default="sample",
        help="'sample' (20 NCBs covering every region and language), 'all' (196), or ISO codes like fr,de,ar",
    )
    up.add_argument(
        "--base-port", type=int, default=8100, help="first HTTP port; offices take consecutive ports (default 8100)"
    )
    up.add_argument(
        "--topology",
        choices=["single", "regions"],
        default="single",
        help="single: one embedded nats-server (default); regions: nine servers on loopback, three regional "
        "clusters joined by gateways, R3 streams placed per region, each office attached to its region",
    )
    up.add_argument(
        "--offices-per-process",
        type=int,
        default=1,
        help="serve N offices per process (each still its own app, port, keys, bus connection and database)",
    )

    serve = sub.add_parser(
        "serve",
        help="run offices in this process",
        description="Run one or more offices in this process, e.g. `serve ncb.fr=8101 ncb.de=8102`; a bare id uses "
        "PORT. Without an office, the one named by OFFICE_ID on PORT (what the container image runs).",
    )
    serve.add_argument("offices", nargs="*", metavar="OFFICE[=PORT]")

    sub.add_parser(
        "provision",
        help="create the streams and every office's consumer (as mesh-admin)",
        description="Connect to NATS_URL as mesh-admin (DATA_DIR/keys/mesh-admin.nk) and create or update the "
        "streams (STREAM_REPLICAS) and every office's durable consumer. `up` does this itself.",
    )

    keys = sub.add_parser("keys", help="signing keys", description="Manage Ed25519 signing keys.")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_sub.add_parser(
        "init", help="create missing keys for every office and the GS root; write the bootstrap key directory"
    )

    directory = sub.add_parser("directory", help="member directory", description="Inspect the member directory.")
    dir_sub = directory.add_subparsers(dest="directory_command", required=True, metavar="ACTION")
    dir_sub.add_parser("validate", help="load and validate the directory files; print counts")

    token = sub.add_parser(
        "token",
        help="API tokens",
        description="Issue bearer tokens for the offices' APIs (paste into the console's Authorize).",
    )
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    issue = token_sub.add_parser("issue", help="sign a token with an office's key")
    issue.add_argument(
        "--office", required=True, help="the office whose key signs (and, for people, where the token is valid)"
    )
    issue.add_argument("--subject", help="a person's name; omit for an office token (then --audience is required)")
    issue.add_argument(
        "--roles",
        default="officer",
        help="comma-separated: officer, reviewer, admin, operator, duty-officer, head-of-desk, monitor (/metrics)",
    )
    issue.add_argument(
        "--audience", help="office id the token is for (office tokens); people's tokens are valid at --office"
    )
    issue.add_argument("--ttl-minutes", type=float, help="lifetime (at most 5 min for office tokens, 12 h for people)")

    audit = sub.add_parser("audit", help="audit log", description="Check an office's hash-chained audit log.")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_verify = audit_sub.add_parser("verify", help="check the chain and signed heads; name the first bad record")
    audit_verify.add_argument("--office", required=True, help="office id, e.g. ncb.fr")

    from interpol_offices.cli.status_options import add_parser as add_status_parser
    from interpol_offices.loadtest.options import add_parser as add_load_parser

    add_status_parser(sub)
    add_load_parser(sub)
    return parser


def _settings() -> OfficeSettings:
    try:
        return OfficeSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise MeshError(f"setting {str(first['loc'][0]).upper()}: {first['msg']}") from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings()
        if args.command == "up":
            from interpol_offices.cli.up import up

            directory = load_directory(settings.directory_dir)
            code: int = up(
                settings, directory, ncbs=args.ncbs, base_port=args.base_port,
                per_process=max(1, args.offices_per_process), nats_url_given="NATS_URL" in os.environ,
                topology=args.topology,
            )  # fmt: skip
            return code
        if args.command == "serve":
            from interpol_mesh.event_loop import run_fast
            from interpol_offices.cli.serve import office_from_environment, parse_assignments, serve

            offices = args.offices or [office_from_environment(os.environ.get("OFFICE_ID"), settings)]
            run_fast(serve(parse_assignments(offices, settings.port), settings))  # uvloop: docs/performance.md
            return 0
        if args.command == "provision":
            from interpol_offices.cli.provision_bus import provision_bus

            print(asyncio.run(provision_bus(settings, load_directory(settings.directory_dir))))
            return 0
        if args.command == "keys":
            from interpol_offices.cli.keys import keys_init

            print(keys_init(Path(settings.data_dir), settings.directory_dir))
            return 0
        if args.command == "token":
            from interpol_offices.cli.tokens import issue_command

            print(issue_command(settings, args))
            return 0
        if args.command == "audit":
            from interpol_offices.cli.audit import audit_verify_command

            return audit_verify_command(settings, args.office)
        if args.command == "status":
            from interpol_offices.cli.status import status_command

            return status_command(settings, args)
        if args.command == "load":
            from interpol_offices.loadtest.command import run as run_load

            status: int = run_load(args, settings, load_directory(settings.directory_dir))
            return status
        if args.command == "directory":
            d = load_directory(settings.directory_dir)
            kinds = {k: len(d.of_kind(k)) for k in ("ncb", "rb", "lo", "gs", "ccc")}
            print("directory valid: " + ", ".join(f"{v} {k}" for k, v in kinds.items()) + f", {len(d.desks)} CCC desks")
            return 0
    except MeshError as exc:
        print(f"interpol-mesh: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1
