"""API authentication: office-key-signed bearer tokens for offices and people, and route policies."""

from interpol_mesh.auth.deps import (
    ADMIN,
    ANY_OFFICE,
    OFFICER,
    REVIEWER,
    PrincipalDep,
    authenticate,
    refused,
    require,
    requires,
)
from interpol_mesh.auth.tokens import Principal, TokenRejected, issue_token, service_roles, verify_token

__all__ = [
    "ADMIN",
    "ANY_OFFICE",
    "OFFICER",
    "REVIEWER",
    "Principal",
    "PrincipalDep",
    "TokenRejected",
    "authenticate",
    "issue_token",
    "refused",
    "require",
    "requires",
    "service_roles",
    "verify_token",
]
