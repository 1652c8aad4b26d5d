"""Deployment: the /healthz probe and refusing to start away from the checkout (docs/deploy.md)."""

from __future__ import annotations

from unittest import mock

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

import tracker
from tracker.extensions import db


def test_healthz_answers_200_without_login_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(client: FlaskClient) -> None:
    with mock.patch.object(db.session, "execute", side_effect=sa.exc.OperationalError("SELECT 1", {}, Exception())):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_an_installed_copy_away_from_the_checkout_refuses_to_start(monkeypatch, tmp_path) -> None:
    # `pip install .` copies only the package: templates/, migrations/ and seeds/ stay in the checkout.
    monkeypatch.setattr(tracker, "PROJECT_ROOT", tmp_path)
    with pytest.raises(RuntimeError, match="checkout directory"):
        tracker.create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert not (tmp_path / "instance").exists()
