"""Fixtures shared by every ring of VirtDancer's tests."""

import logging
import threading
import time
from collections import Counter
from pathlib import Path

import libvirt
import pytest
import webtest
from pyramid.response import Response
from pyramid.router import Router

import virtdancer
from virtdancer import main
from virtdancer.interfaces import IHypervisor

from . import contract

# Every answer of every VirtDancer app built by a test is checked against the OpenAPI document.
contract.install()

DEMO_URI = "test:///virtdancer:demo/fleet.xml"
LAB_URI = "test:///virtdancer:demo/lab.xml"      # the demo's second host
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
    # Tests change the users file and ask at once, faster than VirtDancer looks at it.
    settings.setdefault("virtdancer.users_file.check_interval", "0")
    return main({}, **settings)


def close_app(app):
    """Stop the threads of an app (or of a Configurator's) with `virtdancer.close`."""
    virtdancer.close(app)


class HostRoot:
    """A host portal's own root factory (for VirtDancer included in a host app), which
    VirtDancer must not replace."""

    __name__ = ""
    __parent__ = None

    def __init__(self, request):
        self.request = request


def host_home(context, request):
    """A host portal's own home view; it names the root it was given."""
    return Response(f"portal home, root is {type(context).__name__}")


def virtdancer_routers(app):
    """The VirtDancer applications inside a WSGI app made of URL maps and filters (as
    `pyramid.paster.get_app` loads examples/portal.ini, say)."""
    if isinstance(app, Router):
        if app.registry.queryUtility(IHypervisor) is not None:
            yield app
    elif hasattr(app, "applications"):   # a URL map
        for _, mapped in app.applications:
            yield from virtdancer_routers(mapped)
    elif hasattr(app, "app"):            # a filter, such as the access log
        yield from virtdancer_routers(app.app)


def close_all(app):
    """`close_app` for every VirtDancer inside a WSGI app."""
    for router in virtdancer_routers(app):
        close_app(router)


# -- no VirtDancer thread outlives its test ---------------------------------------------------

# An app dropped without `virtdancer.close` keeps its connection supervisor, sampler and console
# proxy running under every later test: they hold libvirt connections and ports, and log there.
THREAD_PREFIX = "virtdancer-"
# libvirt's event loop is registered once per process and runs until it ends (see
# virtdancer/hypervisor/eventloop.py): it belongs to no app.
PROCESS_THREADS = {"virtdancer-libvirt-events"}
# How long a closed app's threads may take to end: they are joined, but with a timeout.
THREAD_GRACE = 2.0

# Threads a check has already blamed on a test: the wider scopes do not blame them again.
_reported_threads = set()


def virtdancer_threads():
    return {thread for thread in threading.enumerate()
            if thread.name.startswith(THREAD_PREFIX) and thread.name not in PROCESS_THREADS}


def threads_left(before):
    """VirtDancer threads started since `before` (a set of threads) and still alive after
    `THREAD_GRACE` seconds, but for those reported already."""
    deadline = time.monotonic() + THREAD_GRACE
    while True:
        left = virtdancer_threads() - before - _reported_threads
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def check_no_thread_left(before, owner):
    left = threads_left(before)
    if left:
        _reported_threads.update(left)
        names = ", ".join(sorted(thread.name for thread in left))
        pytest.fail(f"{owner} left VirtDancer threads running ({names}): close every app it "
                    f"builds with virtdancer.close (close_app, close_all)", pytrace=False)


# A fixture of a wider scope (a module's app) legitimately keeps its threads across the tests
# that use it: each scope checks only the threads started within it, once it has ended and its
# fixtures are torn down. Wider-scoped fixtures are set up before narrower ones, so a module's
# app is already running when a test's check takes its baseline.

@pytest.fixture(autouse=True, scope="session")
def no_thread_left_by_the_session():
    before = virtdancer_threads()
    yield
    check_no_thread_left(before, "the test session")


@pytest.fixture(autouse=True, scope="module")
def no_thread_left_by_the_module(request):
    before = virtdancer_threads()
    yield
    check_no_thread_left(before, f"module {request.module.__name__}")


@pytest.fixture(autouse=True)
def no_breach_of_the_contract():
    contract.take_breaches()
    yield
    breaches = contract.take_breaches()
    assert not breaches, "answers outside the OpenAPI document:\n" + "\n".join(breaches[:20])


@pytest.fixture(autouse=True)
def no_thread_left_by_the_test():
    before = virtdancer_threads()
    yield
    check_no_thread_left(before, "this test")


# -- no log handler outlives the stream it writes to ----------------------------------------

def handlers_on_closed_streams():
    """(logger, handler) pairs whose handler writes to a closed stream."""
    loggers = [logging.root, *logging.root.manager.loggerDict.values()]
    return [(logger, handler)
            for logger in loggers for handler in getattr(logger, "handlers", ())
            if getattr(getattr(handler, "stream", None), "closed", False)]


@pytest.fixture(autouse=True)
def no_handler_left_on_a_closed_stream():
    """A test that configures logging (the CLI does, from an INI file) on its captured stderr
    must undo it: later records, from any thread, would hit the closed stream and print
    "--- Logging error ---" with a traceback."""
    yield
    left = handlers_on_closed_streams()
    for logger, handler in left:
        logger.removeHandler(handler)   # blame this test, not every later one
    if left:
        pytest.fail("this test left log handlers on closed streams: "
                    + "; ".join(f"{logger.name}: {handler!r}" for logger, handler in left),
                    pytrace=False)


class Server:
    """A WSGI app served by waitress on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, app, path="/", **adjustments):
        """`adjustments`: waitress settings, such as an INI file's [server:main] has."""
        import waitress

        adjustments = {"threads": 8, "ident": "virtdancer-tests", **adjustments}
        self.server = waitress.create_server(app, host="127.0.0.1", port=0, **adjustments)
        self.origin = f"http://127.0.0.1:{self.server.effective_port}"
        self.url = self.origin + path
        self.thread = threading.Thread(target=self.server.run, name="tests-waitress",
                                       daemon=True)
        self.thread.start()

    def close(self):
        from waitress import wasyncore

        server = self.server
        # Close every socket from inside the loop thread, so that the loop sees an empty map
        # and returns (as benchmarks/list_vms.py does); from here if it does not answer.
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            pass
        self.thread.join(timeout=5)
        if self.thread.is_alive():
            wasyncore.close_all(server._map, ignore_all=True)
            self.thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=5)


class LibvirtCalls:
    """Counts the libvirt calls that go to libvirtd, by "class.method" name.

    Every public method of `libvirt.virConnect` and `libvirt.virDomain` is wrapped (with
    `monkeypatch`, so the wrappers go at the end of the test), except `LOCAL_METHODS`, which
    answer from the object itself. `this_thread_only` counts only the calls of the thread that
    made the counter (the test's), not those of an app's background sampler thread.

    `calls(action)` runs `action()` and returns the `Counter` of the calls it made;
    `calls_and_result(action)` returns that `Counter` and what `action()` returned.
    """

    # Methods of libvirt-python that answer from the object itself, without asking libvirtd.
    LOCAL_METHODS = frozenset({"name", "UUIDString", "UUID", "ID", "connect"})

    def __init__(self, monkeypatch, *, this_thread_only=False):
        self.counts = Counter()
        self.thread = threading.get_ident() if this_thread_only else None
        for cls in (libvirt.virConnect, libvirt.virDomain):
            for name, method in list(vars(cls).items()):
                if name.startswith("_") or name in self.LOCAL_METHODS or not callable(method):
                    continue
                monkeypatch.setattr(cls, name, self._counted(f"{cls.__name__}.{name}", method))

    def _counted(self, qualified_name, method):
        def wrapper(*args, **kwargs):
            if self.thread is None or threading.get_ident() == self.thread:
                self.counts[qualified_name] += 1
            return method(*args, **kwargs)
        return wrapper

    def calls_and_result(self, action):
        self.counts.clear()
        result = action()
        return Counter(self.counts), result

    def calls(self, action):
        return self.calls_and_result(action)[0]


@pytest.fixture
def libvirt_calls(monkeypatch):
    """A `LibvirtCalls` that counts the calls of every thread."""
    return LibvirtCalls(monkeypatch)


@pytest.fixture
def this_threads_libvirt_calls(monkeypatch):
    """A `LibvirtCalls` that counts the test thread's calls only, not a sampler thread's."""
    return LibvirtCalls(monkeypatch, this_thread_only=True)


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
