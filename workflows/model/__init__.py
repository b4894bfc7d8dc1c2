"""All tables; importing this package registers every model on `Base.metadata`."""
from .application import AppStatus, Application, Decision, DocStatus, Document, Recommendation
from .base import Base, UTCDateTime, utcnow
from .core import (
    ROLES, AuditEntry, CardTask, Conversation, DeadlineExtension, DirectoryName, InboundCallback,
    OutboxMessage, Person, ReminderSent, StageState, UploadedMedia, WecomToken,
)
from .review import FormalReview, Finding, ReviewStatus, SupplementItem, SupplementRequest
from .voting import Ballot, Choice, Participation, VoteConflict
from .publicity import Approval, AwardRecord, Complaint, ComplaintEvidence, Publicity
from .scoring import (
    Assignment, AssignmentProposal, ConflictDeclaration, Consensus, ReportConfirmation, ScoreSheet,
    Shortlist,
)

__all__ = [
    "AppStatus", "Application", "Decision", "DocStatus", "Document", "Recommendation",
    "Base", "UTCDateTime", "utcnow", "ROLES", "AuditEntry", "CardTask", "Conversation",
    "DeadlineExtension", "DirectoryName", "InboundCallback", "OutboxMessage", "Person", "ReminderSent",
    "StageState", "UploadedMedia", "WecomToken",
    "FormalReview", "Finding", "ReviewStatus", "SupplementItem", "SupplementRequest",
    "Ballot", "Choice", "Participation", "VoteConflict",
    "Approval", "AwardRecord", "Complaint", "ComplaintEvidence", "Publicity",
    "Assignment", "AssignmentProposal", "ConflictDeclaration", "Consensus", "ReportConfirmation",
    "ScoreSheet", "Shortlist",
]
