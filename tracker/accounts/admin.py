"""What the system administrator does to accounts on the users page: create (the person sets the
password from an emailed link), disable and re-enable, change role and department. Every step is in
the audit log.

三员分立: the system administrator manages the business accounts (staff, coordinators, leaders) and
other system administrators; the security administrator and auditor accounts are made at
installation with ``flask users create`` and are not changed here, so that the administrator who
manages accounts cannot make themselves (or anyone) the one who reads the audit log. Nobody disables
their own account or changes their own role.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..models import Department, OutboxMessage, User
from ..models.org import USER_ROLES
from .links import send_link
from .service import AccountError, hash_password
from .sessions import end_sessions, revoke_api_tokens

__all__ = ["MANAGED_ROLES", "change_account", "invite_user", "list_users", "reset_password", "set_active"]

MANAGED_ROLES = ("staff", "head", "coordinator", "leader", "admin")


@dataclass
class NewAccount:
    email: str
    name: str
    role: str
    department_id: int | None


def list_users() -> list[User]:
    return list(
        db.session.scalars(
            db.select(User).options(selectinload(User.department)).order_by(User.role, User.department_id, User.email)
        )
    )


def _department(department_id: int | None, role: str) -> Department | None:
    department = db.session.get(Department, department_id) if department_id else None
    if department_id and (department is None or not department.active):
        raise AccountError(_("没有这个单位，或它已停用。"))
    if role == "staff" and department is None:
        raise AccountError(_("部门填报员必须属于一个单位。"))
    if role == "head" and department is None:
        raise AccountError(_("单位负责人必须属于一个单位。"))
    return department


def _managed(user: User, by: User) -> None:
    if user.role not in MANAGED_ROLES:
        raise AccountError(_("安全管理员和安全审计员账号在安装时由命令行创建，不在此管理（三员分立）。"))
    if user.id == by.id:
        raise AccountError(_("不能停用自己的账号或修改自己的角色。"))


def invite_user(data: NewAccount, *, now: datetime, by: User) -> tuple[User, OutboxMessage]:
    """Create the account with a password nobody knows and queue the set-password mail."""
    email = data.email.strip().lower()
    if data.role not in MANAGED_ROLES:
        raise AccountError(_("这里只能创建部门填报员、单位负责人、统筹协调、领导和管理员账号。"))
    department = _department(data.department_id, data.role)
    if db.session.scalar(db.select(User.id).filter_by(email=email)) is not None:
        raise AccountError(_("账号已存在：%(email)s", email=email))
    user = User(
        email=email,
        name=data.name.strip(),
        password_hash=hash_password(secrets.token_urlsafe(32)),
        role=data.role,
        department_id=department.id if department else None,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(now=now, action="create", entity="user", entity_id=user.id, new=f"{email}:{data.role}", user_id=by.id)
    message = send_link(user, "set", now=now, by_id=by.id)
    db.session.commit()
    return user, message


def set_active(user: User, active: bool, *, now: datetime, by: User) -> None:
    """Disable (its sessions end and its API tokens are revoked) or re-enable an account."""
    _managed(user, by)
    if user.active == active:
        return
    audit.update_fields(user, {"active": active}, now=now, entity="user", user_id=by.id)
    if not active:
        end_sessions(user, now=now, by_id=by.id, reason="disabled")
        revoke_api_tokens(user, now=now, by_id=by.id)
    db.session.commit()


def change_account(user: User, *, role: str, department_id: int | None, now: datetime, by: User) -> int:
    """Change an account's role and department; return how many fields changed."""
    _managed(user, by)
    if role not in MANAGED_ROLES:
        raise AccountError(_("角色应为 %(join)s 之一。", join=" / ".join(_(USER_ROLES[r]) for r in MANAGED_ROLES)))
    department = _department(department_id, role)
    changed = audit.update_fields(
        user,
        {"role": role, "department_id": department.id if department else None},
        now=now,
        entity="user",
        user_id=by.id,
    )
    if changed:
        # What the account may do changed: its open sessions start again with the new rights.
        end_sessions(user, now=now, by_id=by.id, reason="role_changed")
    db.session.commit()
    return changed


def reset_password(user: User, *, now: datetime, by: User) -> OutboxMessage:
    """An administrator's reset: the old password stops working, every session ends, and the person
    chooses a new one from the emailed link (the administrator never sets or sees it)."""
    _managed(user, by)
    if not user.active:
        raise AccountError(_("账号已停用，请先重新启用。"))
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    end_sessions(user, now=now, by_id=by.id, reason="reset_by_admin")
    message = send_link(user, "reset", now=now, by_id=by.id)
    db.session.commit()
    return message
