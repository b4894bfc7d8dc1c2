"""Tables of the expert draw (专家抽选: pool, draw, panel and pledges) and of the site visits (现场评审 schedule)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.apply.models import of_application
from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class PoolEntry(Base):
    """One expert of the provincial pool (省政府质量奖评审专家库) as imported for this edition."""

    __tablename__ = "expert_pool_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    draw_key: Mapped[str] = mapped_column(String(320))               # what the draw ranks (pool.draw_key)
    userid: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))  # the roster member, when the file names one
    name: Mapped[str] = mapped_column(String(100))
    organization: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100), default="")
    specialty: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(100), default="")
    conflict: Mapped[str] = mapped_column(Text, default="")  # a conflict the expert declared (excluded if set)
    line: Mapped[int]
    imported_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    imported_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "userid"), UniqueConstraint("edition", "draw_key"))


class ExpertDraw(Base):
    """The edition's draw: the published seed, what was excluded and why, and the order it gave."""

    __tablename__ = "expert_draw"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), unique=True)
    seed: Mapped[str] = mapped_column(String(200))
    count: Mapped[int]
    reserves: Mapped[int]
    pool_digest: Mapped[str] = mapped_column(String(64))
    excluded: Mapped[list[Any]] = mapped_column(default=list)   # [{"userid": draw key, "reasons": [...]}]
    order: Mapped[list[Any]] = mapped_column(default=list)      # eligible draw keys, ranked by HMAC
    leader: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))   # unused since the leader is engaged (leader.py)
    # Supplementary draws when the reserves ran out, in order: [{"number", "seed", "count", "pool_digest",
    # "excluded", "before" (the panel before it), "order", "drawn", "drawn_by", "drawn_at"}]
    supplements: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    drawn_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    drawn_at: Mapped[dt.datetime]


class PanelMember(Base):
    """A drawn expert or reserve and his answer to the 承诺书."""

    __tablename__ = "expert_panel_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    draw_key: Mapped[str] = mapped_column(String(320), default="", server_default="")  # the pool entry ("" leader)
    userid: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))  # None: drawn, not yet enrolled (unreachable)
    position: Mapped[int]                                              # 1-based rank in the draw's order
    kind: Mapped[str] = mapped_column(String(16))                      # expert | reserve | supplement | leader
    status: Mapped[str] = mapped_column(String(16))   # waiting | unreachable | asked | accepted | declined | replaced
    asked_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    # The engaged leader (kind `leader`): on what basis (聘书, letter), by whom, when; empty for drawn experts.
    basis: Mapped[str] = mapped_column(String(200), default="", server_default="")
    engaged_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    engaged_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("edition", "userid"),)


class SiteVisit(Base):
    """One candidate's site visit: when, who, the itinerary, and the enterprise's answer."""

    __tablename__ = "site_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int]
    starts_at: Mapped[dt.datetime]
    experts: Mapped[list[Any]] = mapped_column(default=list)
    itinerary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24))   # proposed | confirmed | change_requested
    version: Mapped[int] = mapped_column(default=1)
    proposed_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    proposed_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")       # why another slot
    preferred: Mapped[str] = mapped_column(Text, default="")    # the times the enterprise prefers

    __table_args__ = (UniqueConstraint("edition", "application_id"), of_application())
