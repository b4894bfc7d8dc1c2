"""Broadcasts: one notice written by the secretariat to a filtered group, and to whom it went (one row each)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .models import MEMBER_ID_MAX


class Broadcast(Base):
    """A notice to a group chosen by a filter (`audience` and its `filters`), as written and confirmed."""

    __tablename__ = "broadcast"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    audience: Mapped[str] = mapped_column(String(32))
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    created_at: Mapped[dt.datetime]
    recipients: Mapped[int]


class BroadcastRecipient(Base):
    """One member a broadcast went to, and the outbox row that carries it (its delivery status)."""

    __tablename__ = "broadcast_recipient"
    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id"), index=True)
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    label: Mapped[str] = mapped_column(String(200))
    outbox_id: Mapped[int | None]
