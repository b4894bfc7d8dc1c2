"""Chat handlers, one module per flow; `build_router` registers them all."""
from __future__ import annotations

from ..router import Router


def build_router() -> Router:
    """A router with every flow's handlers registered."""
    from .. import confirm
    from . import (application, call, committee, common, complaints, consensus, draw, experts, interest, pledges,
                   publicity, recommend, review, scoring, siteissues, supplement, visits, voting)

    router = Router()
    for module in (common, confirm, pledges, committee, call, application, recommend, review, supplement, draw, experts,
                   consensus, interest, visits, siteissues, scoring, voting, complaints, publicity):
        module.register(router)
    return router
