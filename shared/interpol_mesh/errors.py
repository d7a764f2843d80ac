"""Errors that end in one clear line for an operator, never a traceback."""


class MeshError(Exception):
    """Base for errors whose message is meant to be shown to a person as is."""


class ConfigError(MeshError):
    """Settings or reviewed data files are wrong; the message names what and where."""


class DependencyUnavailable(MeshError):
    """A required dependency (NATS, database) cannot be reached."""
