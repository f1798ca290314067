from __future__ import annotations

import pytest
from hookutil import TOKEN

from syncdub_companion.testing import make_services
from syncdub_companion.web.app import create_app


@pytest.fixture
def hook_services(tmp_path):
    svc = make_services(tmp_path, {"webhooks": {"token": TOKEN}})
    yield svc
    svc.store.close()


@pytest.fixture
def client(hook_services):
    return create_app(hook_services).test_client()
