"""Chat handlers, one module per flow; `build_router` registers them all."""
from __future__ import annotations

from ..router import Router


def build_router() -> Router:
    """A router with every flow's handlers registered."""
    from . import application, common, recommend

    router = Router()
    for module in (common, application, recommend):
        module.register(router)
    return router
