"""/healthz: a login-free probe for the reverse proxy and monitoring (docs/deploy.md)."""

from __future__ import annotations

from unittest import mock

import sqlalchemy as sa
from flask.testing import FlaskClient

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
