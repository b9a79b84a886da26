"""`virtdancer.close`: the threads an app runs beside its requests end with it."""

import pytest
from pyramid.config import Configurator

import virtdancer

from .conftest import DEMO_URI, SECRET, make_app, virtdancer_threads

APP_THREADS = ["virtdancer-console-proxy", "virtdancer-host-supervisor",
               "virtdancer-live-feed", "virtdancer-stats-sampler"]


def started_by(action):
    """The VirtDancer threads `action()` started, and what it returned."""
    before = virtdancer_threads()
    result = action()
    return virtdancer_threads() - before, result


def test_close_ends_the_connection_the_sampler_the_event_feed_and_the_console_proxy():
    threads, app = started_by(lambda: make_app(**{"virtdancer.console.listen": "127.0.0.1:0"}))
    try:
        assert sorted(thread.name for thread in threads) == APP_THREADS
    finally:
        virtdancer.close(app)
    assert not [thread.name for thread in threads if thread.is_alive()]
    virtdancer.close(app)   # a second time is harmless


@pytest.mark.parametrize("handle", ["registry", "configurator"])
def test_close_takes_the_registry_or_the_configurator(handle):
    def build():
        with Configurator(settings={"virtdancer.libvirt_uri": DEMO_URI,
                                    "virtdancer.secret": SECRET}) as config:
            config.include("virtdancer", route_prefix="/virt")
        return config

    threads, config = started_by(build)
    assert threads
    virtdancer.close(config.registry if handle == "registry" else config)
    assert not [thread.name for thread in threads if thread.is_alive()]


def test_close_of_an_app_without_virtdancer_does_nothing():
    virtdancer.close(Configurator().make_wsgi_app())
