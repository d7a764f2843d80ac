"""Command and Coordination Centre router: 24/7 intake, language-tagged dispatch and escalation."""

from interpol_offices.ccc_router.role import build_role

__all__ = ["build_role"]
