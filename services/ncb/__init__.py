"""National Central Bureau: a member country's single point of contact on the mesh."""

from interpol_offices.ncb.role import build_role

__all__ = ["build_role"]
