"""FastAPI dependencies: who is calling (401 if unknown) and may they call this route (403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from interpol_mesh.audit import AuditEvent
from interpol_mesh.auth.refusals import RefusalBudget
from interpol_mesh.auth.tokens import Principal, TokenRejected, verify_token
from interpol_mesh.messaging import OfficeContext
from interpol_mesh.observability.labels import RefusalCode
from interpol_mesh.request_context import CtxDep

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="meshToken",
    description="`mesh1.…` token signed with an office key: `interpol-mesh token issue --office gs --subject alice --roles reviewer`",
)

OFFICER = "officer"
REVIEWER = "reviewer"
ADMIN = "admin"
MONITOR = "monitor"  # reads /metrics: operational figures, which are police information too
ANY_OFFICE = frozenset({"office:ncb", "office:rb", "office:lo", "office:gs", "office:ccc"})


async def _audit_refusal(ctx: CtxDep, request: Request, result: str, who: str | None, code: RefusalCode) -> None:
    """Count the refusal (`token_refusals_total{reason=code}`, every one) and audit it (within the budget)."""
    ctx.metrics.token_refusals.labels(code).inc()
    budget = getattr(request.app.state, "refusal_budget", None)
    if budget is None:  # one per running office (its app), so meshes in one process do not share it
        budget = request.app.state.refusal_budget = RefusalBudget()
    write, note = budget.admit(ctx.clock.now())
    if not write:
        return
    try:
        async with ctx.transaction() as uow:
            uow.audit(
                AuditEvent(
                    event="auth-failure", result=result[:40], sender=who,
                    detail=f"{request.method} {request.url.path}{note}"[:2000],
                ),
            )  # fmt: skip
    except Exception:  # the refusal stands even if the audit store is away; the log line remains
        pass


_CACHE_LIMIT = 4096
_verified_tokens: dict[tuple[str, str, int], Principal] = {}


def _verified(token: str, ctx: OfficeContext) -> Principal:
    """Verify once per token and key-directory version; a cached token is still checked for expiry.

    A new directory version (rotation, revocation) changes the key, so nothing stale is reused.
    """
    now = ctx.clock.now()
    key = (token, ctx.office.id, ctx.keyring.current.version)
    cached = _verified_tokens.get(key)
    if cached is not None and cached.expires_at > now:
        record = ctx.keyring.current.record(cached.key_id)
        if record is not None and record.problem_at(now) is None:
            return cached
    principal = verify_token(token, keys=ctx.keyring.current, audience=ctx.office.id, now=now)
    if len(_verified_tokens) >= _CACHE_LIMIT:
        _verified_tokens.clear()
    _verified_tokens[key] = principal
    return principal


async def authenticate(
    request: Request, ctx: CtxDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        await _audit_refusal(ctx, request, "no-token", None, "missing" if credentials is None else "malformed")
        raise HTTPException(
            401, "authentication required: Authorization: Bearer <mesh token>", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        principal = _verified(credentials.credentials, ctx)
    except TokenRejected as exc:
        await _audit_refusal(ctx, request, "bad-token", None, exc.code)
        raise HTTPException(401, f"invalid token: {exc.reason}", headers={"WWW-Authenticate": "Bearer"}) from None
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits principals holding any of `roles` (office roles: `office:<kind>`)."""
    wanted = frozenset(roles)

    async def check(request: Request, ctx: CtxDep, principal: PrincipalDep) -> Principal:
        if not principal.has_any(wanted):
            await _audit_refusal(ctx, request, "forbidden", principal.subject, "forbidden-role")
            raise HTTPException(403, f"{principal.subject} may not do this (needs one of: {', '.join(sorted(wanted))})")
        return principal

    check.__name__ = f"require_{'_or_'.join(sorted(r.replace(':', '_').replace('-', '_') for r in wanted))}"
    return check


def requires(*roles: str) -> Any:
    """`dependencies=[requires("officer")]` on a router or route."""
    return Depends(require(*roles))


async def refused(
    request: Request, ctx: OfficeContext, status: int, result: str, detail: str, *, who: str | None = None
) -> HTTPException:
    """Audit a refusal a role decides itself (the CCC's roster), within the same budget; raise what it returns.

    A 401 carries `WWW-Authenticate: Bearer`, as from `authenticate`.
    """
    await _audit_refusal(ctx, request, result, who, "role-refused")
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status, detail, headers=headers)
