"""Dependencies as Annotated aliases that read the lifespan state, never module globals."""

from interpol_mesh.request_context import CtxDep, get_ctx

__all__ = ["CtxDep", "get_ctx"]
