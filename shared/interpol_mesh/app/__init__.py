"""HTTP side of an office: the app factory, health, directory and the offline console."""

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.app.factory import create_app

__all__ = ["CtxDep", "create_app"]
