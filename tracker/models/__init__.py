"""Typed SQLAlchemy models, one module per concern. Importing this package registers them all."""

from .access import ApiToken, CalendarFeed
from .audit import AuditLog
from .bulletin import Bulletin
from .instructions import Instruction, InstructionAnswer
from .links import Contribution, Dependency
from .login import LoginFailure
from .notify import JobRun, JobSetting, OutboxAttachment, OutboxMessage, ReminderSent, WorkdayOverride
from .org import Assignment, County, Department, LeaderPortfolio, User
from .plan import CarryOver, Plan, Section, Target, TargetValue, Task
from .progress import Attachment, CheckIn, ConsolidatedReport, ExtensionRequest, Review

__all__ = [
    "ApiToken",
    "Assignment",
    "Attachment",
    "AuditLog",
    "Bulletin",
    "CalendarFeed",
    "CarryOver",
    "CheckIn",
    "ConsolidatedReport",
    "Contribution",
    "County",
    "Department",
    "Dependency",
    "ExtensionRequest",
    "Instruction",
    "InstructionAnswer",
    "JobRun",
    "JobSetting",
    "LeaderPortfolio",
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
