"""General Secretariat (Lyon): root of trust for keys, reviews and publishes notices."""

from interpol_offices.general_secretariat.role import build_role

__all__ = ["build_role"]
