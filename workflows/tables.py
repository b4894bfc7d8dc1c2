"""Every table of the award. Import this (not a stage's models) before `Base.metadata` is used: Alembic, create_all.

Several editions can live in one database (docs/editions.md): every table whose rows belong to an
edition has an ``edition`` column, or a non-null foreign key to a table that has one (a ballot's papers,
a review's findings); the rest are the deployment's own (``SHARED_TABLES``).  ``edition_filter`` is the
one place that turns this into a WHERE clause (the archive uses it).
"""
from typing import Any

from sqlalchemy import Table, select

from workflows.apply import models as apply_models
from workflows.call import models as call_models
from workflows.committee import models as committee_models
from workflows.core import broadcast_models
from workflows.core import models as core_models
from workflows.core.base import Base
from workflows.publicity import models as publicity_models
from workflows.review import models as review_models
from workflows.scoring import draw_models as scoring_draw_models
from workflows.scoring import models as scoring_models
from workflows.voting import models as voting_models

STAGE_MODELS = (core_models, broadcast_models, committee_models, call_models, apply_models, review_models, scoring_models,
                scoring_draw_models, voting_models, publicity_models)

# The deployment's tables, not one edition's: the roster, the audit chain (verified as one chain), and
# the messaging state kept per member, card or file (conversations, callbacks, the outbox, card tasks,
# confirmations waiting for a member's 确认, the token, WeCom media ids, directory names), and the public
# complaint page's rate-limit log (keyed hashes of addresses and phones).  Whatever they point at is found
# through an edition's rows.
SHARED_TABLES = frozenset({"person", "audit_entry", "conversation", "inbound_callback", "outbox_message",
                           "card_task", "confirmation", "wecom_token", "uploaded_media", "directory_name",
                           "complaint_attempt"})


def edition_filter(table: Table, edition: str) -> Any:
    """The WHERE clause selecting one edition's rows of `table`; None for a shared table (all rows)."""
    if "edition" in table.c:
        return table.c.edition == edition
    for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
        parent = fk.column.table
        if "edition" in parent.c and not fk.parent.nullable:
            return fk.parent.in_(select(fk.column).where(parent.c.edition == edition))
    return None


__all__ = ["Base", "SHARED_TABLES", "STAGE_MODELS", "edition_filter"]
