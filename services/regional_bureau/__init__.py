"""Regional bureau."""

from interpol_offices.regional_bureau.role import build_role

__all__ = ["build_role"]
