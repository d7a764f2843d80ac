"""Document numbers and plates as stored and searched: one normal form, so exact search is exact."""

from __future__ import annotations


def document_key(number: str) -> str:
    """Upper case, without spaces, dashes, dots or '<' filler."""
    raise NotImplementedError


def plate_key(plate: str) -> str:
    """Upper case letters and digits only (plates are written with spaces and dashes at will)."""
    raise NotImplementedError
