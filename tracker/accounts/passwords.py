"""The password policy (等保 2.0 level 2): long enough, not the account's name, not a known-leaked
common password. One rule, asked by every place a password is chosen: the CLI, the set-password
link, the reset link and the password change."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from ..errors import TrackerError

__all__ = ["MIN_PASSWORD", "PasswordPolicyError", "check_password", "common_passwords"]

MIN_PASSWORD = 8
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


class PasswordPolicyError(TrackerError):
    """The chosen password breaks the policy; the message says which rule."""


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def problem(password: str, *, email: str, name: str = "") -> str | None:
    """Which rule ``password`` breaks (a key), or None.

    >>> problem("short", email="li@x.cn")
    'length'
    >>> problem("wangli-2024", email="wangli@x.cn")
    'name'
    >>> problem("Password123", email="li@x.cn")
    'common'
    >>> problem("风起安阳-2025", email="li@x.cn") is None
    True
    """
    if len(password) < MIN_PASSWORD:
        return "length"
    lowered = password.lower()
    names = {email.strip().lower(), email.strip().lower().partition("@")[0], name.strip().lower()}
    if any(n and len(n) >= 3 and n in lowered for n in names):
        return "name"
    if lowered in common_passwords():
        return "common"
    return None


def check_password(password: str, *, email: str, name: str = "") -> None:
    """Raise ``PasswordPolicyError`` naming the broken rule; return quietly when the password is fine."""
    rule = problem(password, email=email, name=name)
    if rule == "length":
        raise PasswordPolicyError(_("密码至少 %(n)s 位。", n=MIN_PASSWORD))
    if rule == "name":
        raise PasswordPolicyError(_("密码不能包含账号名或姓名。"))
    if rule == "common":
        raise PasswordPolicyError(_("这是已泄露的常见密码，请换一个。"))
