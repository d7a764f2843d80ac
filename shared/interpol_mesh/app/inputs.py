"""The base of every API request body: JSON is read as written, never coerced.

Pydantic's default (lax) mode turns `false` into 0, `1` into True and `"5"` into 5, so a client's
mistake (`{"overlap_hours": false}`) silently becomes a different, valid request. Strict mode
refuses those with a 422. FastAPI validates the parsed JSON in Python mode, where strict mode
would also refuse the strings JSON carries for times: such fields use the wire's own `Timestamp`
(interpol_mesh.messages.common), which takes RFC 3339 text only, so an API time is read exactly as
the signed envelope will carry it.

Strictness is per model: a nested model keeps its own configuration (the wire models in
interpol_mesh.messages have theirs).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interpol_mesh.envelope.header import BCP47, LANGUAGE_TAG_MAX


class ApiInput(BaseModel):
    model_config = ConfigDict(strict=True)


def language_field(example: str) -> Any:
    """An optional BCP 47 tag, refused here if the signed header would refuse it (pattern, length)."""
    return Field(
        None,
        pattern=BCP47,
        max_length=LANGUAGE_TAG_MAX,
        description="BCP 47 tag; default: this office's working language",
        examples=[example],
    )
