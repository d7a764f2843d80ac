"""Errors that end in one clear line for an operator, never a traceback."""


class MeshError(Exception):
    """Base for errors whose message is meant to be shown to a person as is."""


class ConfigError(MeshError):
    """Settings or reviewed data files are wrong; the message names what and where."""


class DependencyUnavailable(MeshError):
    """A required dependency (NATS, database) cannot be reached."""


class DatabaseUnavailable(DependencyUnavailable):
    """The office's database cannot be used: the one error for start-up, preflight and `/readyz`.

    Built by `interpol_mesh.storage.database_unavailable`, so the URL is always redacted and the
    reason is always the driver's first line.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot use database {url}: {reason}")
