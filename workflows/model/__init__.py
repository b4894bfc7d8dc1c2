"""All tables; importing this package registers every model on `Base.metadata`."""
from .application import AppStatus, Application, Decision, DocStatus, Document, Recommendation
from .base import Base, UTCDateTime, utcnow
from .core import (
    ROLES, AuditEntry, CardTask, Conversation, DeadlineExtension, InboundCallback,
    OutboxMessage, Person, ReminderSent, StageState, WecomToken,
)

__all__ = [
    "AppStatus", "Application", "Decision", "DocStatus", "Document", "Recommendation",
    "Base", "UTCDateTime", "utcnow", "ROLES", "AuditEntry", "CardTask", "Conversation",
    "DeadlineExtension", "InboundCallback", "OutboxMessage", "Person", "ReminderSent",
    "StageState", "WecomToken",
]
