"""Operator authentication for the CCC console: opaque bearer tokens, roles from the roster.

Tokens are random (256 bits), shown once, and stored only as SHA-256 hashes, so a database
dump grants nothing. Who the bearer is and what they may do come from the active roster at
each request: removing someone from the roster ends their access at once. Rules:
an operator acts on cases of their own desk; a duty officer or head of desk on any case;
only they issue tokens for others and change the roster.

Development seed: at start-up every roster operator without a working token gets one, written
to DATA_DIR/ccc/operator-tokens.json (mode 0600, next to the office's private key, which is
equally sensitive). Production would hand tokens out with POST /v1/operators/{id}/tokens and
delete that file. Mesh staff tokens signed with the CCC's key (`interpol-mesh token issue --office ccc --subject
<operator id>`) are accepted too, so operators can use the one mesh-wide token mechanism.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.app import CtxDep
from interpol_mesh.auth.tokens import PREFIX as MESH_TOKEN_PREFIX
from interpol_mesh.auth.tokens import TokenRejected, verify_token
from interpol_mesh.clock import utc
from interpol_mesh.messaging import OfficeContext
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.cases import Case
from interpol_offices.ccc_router.roster import Operator
from interpol_offices.ccc_router.runtime import runtime_of

SUPERVISORS = frozenset({"duty-officer", "head-of-desk"})
TOKEN_PREFIX = "ccc_"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OperatorToken",
    description="An operator's CCC token (`ccc_...`). Development tokens are in DATA_DIR/ccc/operator-tokens.json; "
    "a duty officer or head of desk issues new ones with POST /v1/operators/{operator_id}/tokens.",
)


@dataclass(frozen=True)
class Principal:
    """The authenticated operator making this request."""

    operator: Operator

    @property
    def id(self) -> str:
        return self.operator.id

    @property
    def supervisor(self) -> bool:
        return self.operator.role in SUPERVISORS

    def may_act_on(self, case: Case) -> tuple[bool, str]:
        if self.supervisor:
            return True, f"{self.operator.role} may act on any desk's case"
        if case.desk == self.operator.desk:
            return True, "case is at the operator's desk"
        return False, (
            f"case {case.case_id} is at {case.desk}; {self.id} is an operator of {self.operator.desk} "
            "(only a duty officer or head of desk acts on another desk's case)"
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    conn: AsyncConnection,
    operator_id: str,
    *,
    issued_by: str,
    now: datetime,
    label: str = "",
    ttl: timedelta | None = None,
) -> tuple[str, datetime | None]:
    """Create a token; only its hash is stored. Returns the token (shown once) and its expiry."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now + ttl if ttl is not None else None
    await conn.execute(
        t.operator_tokens.insert().values(
            token_hash=hash_token(token), operator_id=operator_id, label=(label or "token")[:80],
            issued_at=now, issued_by=issued_by, expires_at=expires,
        )
    )  # fmt: skip
    return token, expires


async def _valid_hash(conn: AsyncConnection, token_hash: str, now: datetime) -> str | None:
    tok = t.operator_tokens
    row = (await conn.execute(sa.select(tok).where(tok.c.token_hash == token_hash))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and utc(row.expires_at) <= now:
        return None
    return str(row.operator_id)


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": 'Bearer realm="ccc"'})


async def current_operator(
    ctx: CtxDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> Principal:
    if credentials is None:
        raise _unauthorised("missing bearer token: send `Authorization: Bearer ccc_...` (console: Authorize)")
    token = credentials.credentials
    if token.startswith(f"{MESH_TOKEN_PREFIX}."):
        # A mesh staff token signed with the CCC's own key (`interpol-mesh token issue --office ccc
        # --subject <operator id>`): the subject is the operator; the roster still decides the role.
        try:
            principal = verify_token(token, keys=ctx.keyring.current, audience=ctx.office.id, now=ctx.clock.now())
        except TokenRejected as exc:
            raise _unauthorised(f"invalid mesh token: {exc.reason}") from None
        operator_id: str | None = principal.subject
    else:
        async with ctx.engine.connect() as conn:
            operator_id = await _valid_hash(conn, hash_token(token), ctx.clock.now())
    if operator_id is None:
        raise _unauthorised("invalid, expired or revoked token")
    operator = runtime_of(ctx).roster.operator(operator_id)
    if operator is None:
        raise _unauthorised(f"token belongs to {operator_id}, who is no longer on the roster")
    return Principal(operator)


OperatorDep = Annotated[Principal, Depends(current_operator)]


def require_case_access(principal: Principal, case: Case) -> None:
    allowed, why = principal.may_act_on(case)
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN, why)


def require_supervisor(principal: Principal, action: str) -> None:
    if not principal.supervisor:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"{action} needs a duty officer or head of desk; {principal.id} is an operator"
        )


def tokens_file(ctx: OfficeContext) -> Path:
    return ctx.settings.data_dir / "ccc" / "operator-tokens.json"


async def seed_dev_tokens(ctx: OfficeContext) -> Path:
    """Make sure every roster operator has a working token listed in the dev tokens file."""
    path = tokens_file(ctx)
    known: dict[str, str] = {}
    if path.exists():
        known = json.loads(path.read_text(encoding="utf-8"))
    now = ctx.clock.now()
    changed = False
    async with ctx.transaction() as uow:
        conn = uow.conn
        for op in runtime_of(ctx).roster.operators:
            token = known.get(op.id)
            if token is not None and await _valid_hash(conn, hash_token(token), now) == op.id:
                continue
            known[op.id], _ = await issue_token(conn, op.id, issued_by="dev-seed", now=now, label="development seed")
            changed = True
    if changed or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(known, handle, indent=2, sort_keys=True)
        tmp.replace(path)
    return path


def read_dev_tokens(data_dir: Path) -> dict[str, str]:
    """Tests and the bench read the seeded tokens from here."""
    data: dict[str, str] = json.loads((data_dir / "ccc" / "operator-tokens.json").read_text(encoding="utf-8"))
    return data
