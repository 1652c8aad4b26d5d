"""Account services shared by the web and the CLI: create, authenticate (throttled), change password.

Logins, failed logins and password changes go to the audit log (等保: kept, and read by the auditor).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import TrackerError
from ..extensions import db
from ..models import Department, User
from ..models.org import USER_ROLES
from . import throttle
from .passwords import PasswordPolicyError, check_password


class AccountError(TrackerError):
    """An account cannot be created, or a login or password change is refused."""


def hash_password(password: str) -> str:
    # scrypt is Werkzeug's current default; say so explicitly so a Werkzeug change is a decision.
    return generate_password_hash(password, method="scrypt")


def create_user(
    *,
    email: str,
    password: str,
    role: str,
    now: datetime,
    department_name: str | None = None,
    name: str = "",
    must_change_password: bool = False,
    user_id: int | None = None,
) -> User:
    """An account with a password someone chose for it; ``must_change_password`` when that someone
    is not its owner (the CLI), so the owner replaces it at the first login."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(_("电子邮件地址无效：%(email)s", email=email))
    if role not in USER_ROLES:
        raise AccountError(_("角色应为 %(join)s 之一，而不是 %(role)s", join=" / ".join(USER_ROLES), role=role))
    try:
        check_password(password, email=email, name=name)
    except PasswordPolicyError as exc:
        raise AccountError(str(exc)) from None
    department = None
    if department_name:
        department = db.session.scalar(db.select(Department).filter_by(name=department_name))
        if department is None:
            raise AccountError(_("没有名为 %(department_name)s 的单位", department_name=department_name))
    if role == "staff" and department is None:
        raise AccountError(_("部门填报员必须属于一个单位（--department）"))
    if db.session.scalar(db.select(User).filter_by(email=email)) is not None:
        raise AccountError(_("账号已存在：%(email)s", email=email))
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        department_id=department.id if department else None,
        created_at=now,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(now=now, action="create", entity="user", entity_id=user.id, new=f"{email}:{role}", user_id=user_id)
    db.session.commit()
    return user


@cache
def _unknown_account_hash() -> str:
    # Checked against when the account is unknown or disabled, so that answer costs one scrypt too.
    return hash_password(secrets.token_hex(16))


def authenticate(email: str, password: str, *, now: datetime, client: str | None = None) -> User:
    """The user with these credentials, or ``AccountError``.

    Known and unknown accounts get the same answers in the same time; repeated failures slow down
    this account from this ``client`` (address), and this client across accounts (``throttle``).
    """
    typed = email.strip().lower()
    user = db.session.scalar(db.select(User).filter_by(email=typed))
    wait = throttle.wait(typed, client, now=now)
    if wait:
        _login_failed(user, email, now)
        raise AccountError(_("登录失败次数过多，请 %(wait)s 秒后再试。", wait=wait))
    known = user is not None and user.active
    matches = check_password_hash(user.password_hash if known else _unknown_account_hash(), password)  # type: ignore[union-attr]
    if not (known and matches):
        throttle.record_failure(typed, client, now=now)
        _login_failed(user, email, now)
        raise AccountError(_("邮箱或密码不正确。"))
    throttle.record_success(typed, client)
    user.last_login_at = now  # type: ignore[union-attr]
    audit.record(now=now, action="login", entity="user", entity_id=user.id, user_id=user.id, actor=user.email)  # type: ignore[union-attr]
    db.session.commit()
    return user  # type: ignore[return-value]


def _login_failed(user: User | None, email: str, now: datetime) -> None:
    """Log a failed login (the address as typed, so attempts on unknown accounts show too) and commit."""
    typed = email.strip().lower()[:254]
    audit.record(now=now, action="login_failed", entity="user", entity_id=user.id if user else None, actor=typed)
    db.session.commit()


def change_password(user: User, old: str, new: str, *, now: datetime) -> None:
    """Replace one's own password. Every other session of the account ends (its version rises); the
    caller logs the current one in again."""
    if not check_password_hash(user.password_hash, old):
        raise AccountError(_("原密码不正确。"))
    if new == old:
        raise AccountError(_("新密码不能与原密码相同。"))
    try:
        check_password(new, email=user.email, name=user.name)
    except PasswordPolicyError as exc:
        raise AccountError(str(exc)) from None
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record(now=now, action="update", entity="user", entity_id=user.id, field="password", user_id=user.id)
    db.session.commit()


DEMO_PASSWORD = "demo-2025"
DEMO_ACCOUNTS = [
    ("coordinator@demo.local", "coordinator", "市发展改革委", "统筹协调员（市发展改革委）"),
    ("leader@demo.local", "leader", None, "市领导"),
    ("admin@demo.local", "admin", None, "系统管理员"),
    ("security@demo.local", "security", None, "安全管理员"),
    ("auditor@demo.local", "auditor", None, "安全审计员"),
    ("fgw@demo.local", "staff", "市发展改革委", "市发展改革委填报员"),
    ("sthj@demo.local", "staff", "市生态环境局", "市生态环境局填报员"),
    ("sthj-head@demo.local", "head", "市生态环境局", "市生态环境局单位负责人"),
    ("linzhou@demo.local", "staff", "林州市人民政府", "林州市人民政府填报员"),
]


def ensure_demo_accounts(now: datetime) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet; return (email, role, department) of all."""
    out = []
    for email, role, department, name in DEMO_ACCOUNTS:
        if db.session.scalar(db.select(User).filter_by(email=email)) is None:
            create_user(email=email, password=DEMO_PASSWORD, role=role, department_name=department, name=name, now=now)
        out.append((email, role, department or ""))
    return out
