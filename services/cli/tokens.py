"""`interpol-mesh token issue`: bearer tokens signed with an office's key, for people and offices."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from interpol_mesh.auth import issue_token, service_roles
from interpol_mesh.clock import SystemClock
from interpol_mesh.crypto import read_private_key
from interpol_mesh.crypto.provisioning import key_file
from interpol_mesh.directory import load_directory
from interpol_mesh.errors import ConfigError, MeshError
from interpol_mesh.settings import OfficeSettings


def issue_command(settings: OfficeSettings, args: argparse.Namespace) -> str:
    office = load_directory(settings.directory_dir).get(args.office)
    signer = read_private_key(key_file(settings.key_dir, office.id), expected_office=office.id)
    ttl = timedelta(minutes=args.ttl_minutes) if args.ttl_minutes else None
    if args.subject is None or args.subject == office.id:
        if not args.audience:
            raise ConfigError("an office token needs --audience (the office whose API it calls)")
        token: str = issue_token(
            signer,
            subject=office.id,
            audience=args.audience,
            roles=service_roles(office.kind),
            now=SystemClock().now(),
            ttl=ttl,
        )
        return token
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    token = issue_token(signer, subject=args.subject, audience=office.id, roles=roles, now=SystemClock().now(), ttl=ttl)
    return token


def sign_staff_tokens(
    key_dir: Path, office_ids: Iterable[str], *, subject: str, roles: list[str], ttl: timedelta | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(office id -> staff token, office id -> why none could be signed), each signed by that office's key.

    The one loop `interpol-mesh status` (monitor tokens) and the load test (officer tokens) share:
    an office accepts only staff tokens it issued itself (`iss == aud`), so a tool that talks to a
    whole mesh signs one per office, as `interpol-mesh token issue` would.
    """
    now = SystemClock().now()
    tokens: dict[str, str] = {}
    missing: dict[str, str] = {}
    for office_id in office_ids:
        try:
            signer = read_private_key(key_file(key_dir, office_id), expected_office=office_id)
        except (OSError, MeshError, ValueError) as exc:
            missing[office_id] = str(exc)
            continue
        tokens[office_id] = issue_token(signer, subject=subject, audience=office_id, roles=roles, now=now, ttl=ttl)
    return tokens, missing
