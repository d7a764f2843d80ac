"""Operator authentication for the CCC console: the mesh's staff tokens, roles from the roster.

An operator signs in with a mesh staff token the CCC issued for itself (`mesh1.…`, subject = the
operator id): `interpol-mesh token issue --office ccc --subject sg.haddad --roles operator`, the
development tokens `interpol-mesh up` writes to DATA_DIR/tokens/ccc/<operator id>.token, or
POST /v1/operators/{id}/tokens. The token says who; the active roster says what they may do, at
each request, so removing someone from the roster ends their access at once and a role change
applies to tokens already issued (the token's own roles are not read). Rules: an operator acts on
cases of their own desk; a duty officer or head of desk on any case, and only they issue tokens
and add or cancel roster overrides; only a head of desk replaces the roster.

Every refusal (no token, a bad token, an office's token, someone not on the roster, another desk's
case) is answered and audited like any other office's, within the same budget (auth/deps.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from interpol_mesh.app import CtxDep
from interpol_mesh.auth import PrincipalDep, refused
from interpol_offices.ccc_router.cases import Case
from interpol_offices.ccc_router.roster import Operator
from interpol_offices.ccc_router.runtime import runtime_of

SUPERVISORS = frozenset({"duty-officer", "head-of-desk"})
TOKEN_ROLES = ["operator"]  # what a CCC staff token carries; the roster, not this, decides


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
