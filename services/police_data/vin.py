"""Vehicle identification numbers (ISO 3779; check digit of 49 CFR 565 where one applies)."""

from __future__ import annotations


def vin_key(vin: str) -> str:
    """The form stored and searched: upper case, no spaces or dashes."""
    raise NotImplementedError


def check_vin(vin: str, *, field: str = "vin") -> str:
    """The VIN's key once valid (17 characters, no I/O/Q, the check digit where the region uses one); FieldError otherwise."""
    raise NotImplementedError
