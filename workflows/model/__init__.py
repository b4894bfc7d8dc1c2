"""All tables; importing this package registers every model on `Base.metadata`."""
from .application import AppStatus, Application, Document
from .base import Base, UTCDateTime, utcnow
from .core import (
    ROLES, AuditEntry, CardTask, Conversation, DeadlineExtension, InboundCallback,
    OutboxMessage, Person, ReminderSent, StageState, WecomToken,
)
from .publicity import Approval, AwardRecord, Complaint, ComplaintEvidence, Publicity

__all__ = [
    "AppStatus", "Application", "Document",
    "Base", "UTCDateTime", "utcnow", "ROLES", "AuditEntry", "CardTask", "Conversation",
    "DeadlineExtension", "InboundCallback", "OutboxMessage", "Person", "ReminderSent",
    "StageState", "WecomToken",
    "Approval", "AwardRecord", "Complaint", "ComplaintEvidence", "Publicity",
]
