"""Typed SQLAlchemy models, one module per concern. Importing this package registers them all."""

from .access import ApiToken, CalendarFeed
from .audit import AuditLog
from .bulletin import Bulletin
from .links import Contribution, Dependency
from .login import LoginFailure
from .notify import JobRun, JobSetting, OutboxAttachment, OutboxMessage, ReminderSent, WorkdayOverride
from .org import Assignment, County, Department, User
from .plan import Plan, Section, Target, TargetValue, Task
from .progress import Attachment, CheckIn, ConsolidatedReport, EvidenceBlob, ExtensionRequest, Review

__all__ = [
    "ApiToken",
    "Assignment",
    "Attachment",
    "AuditLog",
    "Bulletin",
    "CalendarFeed",
    "CheckIn",
    "ConsolidatedReport",
    "Contribution",
    "County",
    "Department",
    "Dependency",
    "EvidenceBlob",
    "ExtensionRequest",
    "JobRun",
    "JobSetting",
    "LoginFailure",
    "OutboxAttachment",
    "OutboxMessage",
    "Plan",
    "ReminderSent",
    "Review",
    "Section",
    "Target",
    "TargetValue",
    "Task",
    "User",
    "WorkdayOverride",
]
