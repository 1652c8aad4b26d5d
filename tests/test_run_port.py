"""`make run` on another PORT says where it really serves, and reminder links follow that port
unless BASE_URL says otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tracker.config import from_environment

ROOT = Path(__file__).resolve().parent.parent


def test_reminder_links_follow_the_port_unless_base_url_is_set(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "5001")
    assert from_environment(str(tmp_path))["BASE_URL"] == "http://127.0.0.1:5001"
    monkeypatch.delenv("PORT")
    assert from_environment(str(tmp_path))["BASE_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "5001")
    monkeypatch.setenv("BASE_URL", "https://tracker.example.gov.cn")
    assert from_environment(str(tmp_path))["BASE_URL"] == "https://tracker.example.gov.cn"


@pytest.mark.parametrize("target", ["run", "demo"])
def test_make_run_on_another_port_prints_and_serves_that_port(target: str) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is needed to check the Makefile")
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "BASE_URL", "MAKEFLAGS", "MAKELEVEL"}}
    env["PORT"] = "5001"
    # -n: print the recipe without running it; -o: take the installed venv and catalogue as up to date
    plan = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "-o", "tracker/translations/en/LC_MESSAGES/messages.mo", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "http://127.0.0.1:5001" in plan and "--port 5001" in plan
    assert "127.0.0.1:5000" not in plan
