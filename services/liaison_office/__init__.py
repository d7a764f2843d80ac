"""Liaison office to an international organisation (AU, EU, UN, UNODC)."""

from interpol_offices.liaison_office.role import build_role

__all__ = ["build_role"]
