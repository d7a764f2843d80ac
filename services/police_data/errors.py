"""The one error of bad police-data input: it names the field, so the API's 422 can too."""

from __future__ import annotations


class FieldError(ValueError):
    """Input refused for one field: `field` is its dotted path (e.g. `mrz.line2.document_number_check`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
