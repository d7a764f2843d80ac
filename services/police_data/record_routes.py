"""NCB API: contribute, update and cancel the office's own records (`record-change` to the GS)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["police databases"])
