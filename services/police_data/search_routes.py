"""NCB API: `POST /v1/searches` (an officer's frontline search) and `GET /v1/national-copy`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["police databases"])
