"""Fixtures shared by every ring of VirtDancer's tests."""

from pathlib import Path

import pytest
import webtest

from virtdancer import main
from virtdancer.interfaces import IConsole, IHypervisor

DEMO_URI = "test:///virtdancer:demo/fleet.xml"
DEMO_USERS = str(Path(__file__).resolve().parents[1] / "virtdancer" / "demo" / "users.ini")
SECRET = "a-test-secret-that-is-long-enough-0123456789abcdef"

# The demo fleet (virtdancer/demo/fleet.xml), as the tests expect to find it.
WEB_1 = "6f1c3a52-2d4e-4b8a-9e61-0a7c5d2f8b11"
WEB_2 = "8a4e9b07-71c3-4f2d-b5a8-3e9d6c1f4a22"
DB_1 = "c3d7f0e8-5b26-4a91-8c4f-7d2e1b9a6c33"
BUILD_1 = "e9b2c6a4-0f83-4d57-a1e3-5c8f2d7b9e44"


def make_app(**settings):
    """A standalone VirtDancer WSGI app (demo users); close it with `close_app`."""
    settings.setdefault("virtdancer.libvirt_uri", DEMO_URI)
    settings.setdefault("virtdancer.users_file", DEMO_USERS)
    settings.setdefault("virtdancer.secret", SECRET)
    settings.setdefault("virtdancer.session.secure", "false")
    return main({}, **settings)


def close_app(app):
    console = app.registry.queryUtility(IConsole)
    if console is not None:
        console.close()
    app.registry.getUtility(IHypervisor).close()


@pytest.fixture
def app_settings():
    """Settings of the app under test; override in a module to change them."""
    return {"virtdancer.libvirt_uri": DEMO_URI}


@pytest.fixture
def app(app_settings):
    """VirtDancer on a fresh copy of the demo fleet (the test driver keeps it per connection)."""
    wsgi_app = make_app(**app_settings)
    yield wsgi_app
    close_app(wsgi_app)


@pytest.fixture
def testapp(app):
    """A client authenticated as the demo admin with HTTP Basic, as a script would be."""
    client = webtest.TestApp(app)
    client.authorization = ("Basic", ("admin", "admin"))
    return client


@pytest.fixture
def anonymous(app):
    return webtest.TestApp(app)


@pytest.fixture
def hypervisor(app):
    return app.registry.getUtility(IHypervisor)
