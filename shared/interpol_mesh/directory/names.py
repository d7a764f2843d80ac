"""Every name an office id takes outside the directory, from one function.

The id itself (`ncb.fr`, `lo.new-york`) names the office's files (keys, NKey seeds, SQLite
databases, console tokens, logs). Two places cannot take it as is: a NATS subject, where a dot
separates tokens, and names that must be plain identifiers (PostgreSQL schemas, JetStream durable
consumers), where neither a dot nor a hyphen is allowed. Each gets one derived form, here.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Literal

NameForm = Literal["file", "subject", "identifier"]


def office_name(office_id: str, form: NameForm) -> str:
    """The office id in `form`.

    - `file`: the id as is (`lo.new-york` -> `lo.new-york`), for `<id>.key`, `<id>.nk`, `<id>.sqlite`.
    - `subject`: one NATS subject token (`ncb.fr` -> `ncb_fr`, `lo.new-york` -> `lo_new-york`); the
      first underscore maps back to the dot (`office_of_subject_token`), since ids never hold one.
    - `identifier`: `[a-z0-9_]` only (`lo.new-york` -> `lo_new_york`), for schemas and durable names.
    """
    if form == "file":
        return office_id
    token = office_id.replace(".", "_")
    if form == "subject":
        return token
    return token.replace("-", "_")


def office_of_subject_token(token: str, known: Container[str]) -> str | None:
    """The office id a subject token names, if it is one of `known`; the inverse of the `subject` form."""
    for office_id in (token, token.replace("_", ".", 1)):
        if office_id in known:
            return office_id
    return None
