"""Operator authentication for the CCC console: the mesh's staff tokens, roles from the roster.

An operator signs in with a mesh staff token the CCC issued for itself (`mesh1.…`, subject = the
operator id): `interpol-mesh token issue --office ccc --subject sg.haddad --roles operator`, the
development tokens `interpol-mesh up` writes to DATA_DIR/tokens/ccc/<operator id>.token, or
POST /v1/operators/{id}/tokens. The token says who; the active roster says what they may do, at
each request, so removing someone from the roster ends their access at once and a role change
applies to tokens already issued (the token's own roles are not read). Rules: an operator acts on
cases of their own desk; a duty officer or head of desk on any case, and only they add or cancel
roster overrides; only a head of desk replaces the roster.

Tokens through the API follow rank (operator < duty officer < head of desk): a caller issues or
revokes tokens only for someone of strictly lower rank, so nobody mints a token worth more than
their own, nor one for themselves or a peer (A issuing for B who issues for A would renew both
for ever). A head of desk's token comes only from the CLI, which needs the CCC's private key.
A staff token is stored nowhere, so revocation is a per-operator cut-off (`ccc_token_cutoffs`):
tokens of that operator issued before it are refused, compared to the second of the token's
`iat` (a token issued in the second of the revocation is refused too: issue a new one after it).
Anyone may revoke their own tokens.

Every refusal (no token, a bad token, an office's token, someone not on the roster, another desk's
case) is answered and audited like any other office's, within the same budget (auth/deps.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.app import CtxDep
from interpol_mesh.auth import PrincipalDep, refused
from interpol_mesh.clock import utc
from interpol_mesh.storage import insert_ignoring_duplicates
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.cases import Case
from interpol_offices.ccc_router.roster import Operator, Role
from interpol_offices.ccc_router.runtime import runtime_of

SUPERVISORS = frozenset({"duty-officer", "head-of-desk"})
TOKEN_ROLES = ["operator"]  # what a CCC staff token carries; the roster, not this, decides
RANK: dict[Role, int] = {"operator": 0, "duty-officer": 1, "head-of-desk": 2}


def outranks(me: Operator, other: Operator) -> bool:
    """Strictly higher rank: who may issue (or revoke) tokens for whom through the API."""
    return RANK[me.role] > RANK[other.role]


async def tokens_not_before(conn: AsyncConnection, operator_id: str) -> datetime | None:
    cutoff = await conn.scalar(
        sa.select(t.token_cutoffs.c.not_before).where(t.token_cutoffs.c.operator_id == operator_id)
    )
    return None if cutoff is None else utc(cutoff)


async def revoke_tokens(conn: AsyncConnection, operator_id: str, at: datetime, by: str, reason: str) -> None:
    """Set (or move) the operator's cut-off to `at`: one row per operator, created if absent."""
    cutoffs = t.token_cutoffs
    values = {"not_before": at, "revoked_by": by, "reason": reason}
    await conn.execute(insert_ignoring_duplicates(cutoffs, conn.dialect.name).values(operator_id=operator_id, **values))
    await conn.execute(cutoffs.update().where(cutoffs.c.operator_id == operator_id).values(**values))


def _revoked(issued_at: datetime, not_before: datetime | None) -> bool:
    # Claims carry whole seconds: a token of the revocation's own second may predate it, so it goes too.
    return not_before is not None and int(issued_at.timestamp()) <= int(not_before.timestamp())


async def current_operator(request: Request, ctx: CtxDep, principal: PrincipalDep) -> Operator:
    """The roster entry of the token's subject; the token itself was verified by `authenticate`."""
    if principal.is_office:
        raise await refused(
            request, ctx, 403, "office-token",
            f"{principal.subject} calls with an office token; the CCC console is for its roster's operators",
            who=principal.subject,
        )  # fmt: skip
    operator = runtime_of(ctx).roster.operator(principal.subject)
    if operator is None:
        raise await refused(
            request, ctx, 401, "not-on-roster",
            f"{principal.subject} is not (or no longer) on the CCC's active roster", who=principal.subject,
        )  # fmt: skip
    async with ctx.engine.connect() as conn:
        not_before = await tokens_not_before(conn, operator.id)
    if _revoked(principal.issued_at, not_before):
        raise await refused(
            request, ctx, 401, "token-revoked",
            f"tokens of {operator.id} issued before {not_before} were revoked; ask for a new one", who=operator.id,
        )  # fmt: skip
    return operator


OperatorDep = Annotated[Operator, Depends(current_operator)]


def is_supervisor(operator: Operator) -> bool:
    return operator.role in SUPERVISORS


def may_act_on(operator: Operator, case: Case) -> tuple[bool, str]:
    if is_supervisor(operator):
        return True, f"{operator.role} may act on any desk's case"
    if case.desk == operator.desk:
        return True, "case is at the operator's desk"
    return False, (
        f"case {case.case_id} is at {case.desk}; {operator.id} is an operator of {operator.desk} "
        "(only a duty officer or head of desk acts on another desk's case)"
    )


async def current_supervisor(request: Request, ctx: CtxDep, me: OperatorDep) -> Operator:
    if not is_supervisor(me):
        raise await refused(
            request, ctx, 403, "forbidden",
            f"{request.method} {request.url.path} needs a duty officer or head of desk; {me.id} is an operator",
            who=me.id,
        )  # fmt: skip
    return me


async def current_head_of_desk(request: Request, ctx: CtxDep, me: OperatorDep) -> Operator:
    if me.role != "head-of-desk":
        raise await refused(
            request, ctx, 403, "forbidden", f"changing the roster needs a head of desk; {me.id} is {me.role}", who=me.id
        )
    return me


SupervisorDep = Annotated[Operator, Depends(current_supervisor)]
HeadOfDeskDep = Annotated[Operator, Depends(current_head_of_desk)]
