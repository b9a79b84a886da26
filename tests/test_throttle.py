"""Throttling of failed logins: exact under concurrency, bounded in memory, fair to the victim.

And a users file that is being rewritten neither locks anybody out nor counts against them.
"""

import logging
import threading

import pytest
import webtest
from pyramid.interfaces import ISecurityPolicy

from virtdancer.security.passwords import hash_password
from virtdancer.security.throttle import LoginThrottle, LoginThrottled

from .conftest import close_app, make_app


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def client_of(app, user, password, address):
    client = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": address})
    client.authorization = ("Basic", (user, password))
    return client


def all_at_once(count, attempt):
    """Run `attempt(i)` in `count` threads released together; their results, in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


# -- finding 8: check and count are one step -----------------------------------------------

def test_concurrent_guesses_from_one_address_get_at_most_the_limit_through(app):
    statuses = all_at_once(20, lambda i: client_of(app, "viewer", f"guess{i}", "192.0.2.30")
                           .get("/vm", expect_errors=True).status_int)
    assert statuses.count(401) == 5
    assert statuses.count(429) == 15


def test_concurrent_guesses_from_many_addresses_stop_at_the_per_name_limit():
    app = make_app(**{"virtdancer.login.max_failures_per_name": "5"})
    try:
        statuses = all_at_once(20, lambda i: client_of(app, "viewer", "wrong", f"192.0.2.{i}")
                               .get("/vm", expect_errors=True).status_int)
        assert statuses.count(401) <= 5
        assert statuses.count(401) + statuses.count(429) == 20
    finally:
        close_app(app)


def test_concurrent_good_logins_are_not_throttled(app):
    statuses = all_at_once(12, lambda i: client_of(app, "admin", "admin", "192.0.2.31")
                           .get("/vm", expect_errors=True).status_int)
    assert statuses == [200] * 12


# -- finding 9: a guesser cannot lock the user out ------------------------------------------

def test_the_user_keeps_working_from_an_address_they_logged_in_from():
    app = make_app(**{"virtdancer.login.max_failures_per_name": "10"})
    try:
        client_of(app, "viewer", "viewer", "198.51.100.1").get("/vm")
        for i in range(10):
            client_of(app, "viewer", "wrong", f"203.0.113.{i}").get("/vm", status=401)
        # Guesses from ten addresses: the name is throttled for new addresses...
        client_of(app, "viewer", "viewer", "198.51.100.2").get("/vm", status=429)
        # ...but not where the user logged in before, nor for other users.
        client_of(app, "viewer", "viewer", "198.51.100.1").get("/vm")
        client_of(app, "admin", "admin", "198.51.100.2").get("/vm")
    finally:
        close_app(app)


def test_the_scraper_keeps_working_while_its_user_is_guessed_elsewhere(app):
    for _ in range(5):
        client_of(app, "viewer", "wrong", "203.0.113.50").get("/vm", status=401)
    client_of(app, "viewer", "wrong", "203.0.113.50").get("/vm", status=429)
    client_of(app, "viewer", "viewer", "10.0.0.9").get("/metrics")


def with_clock(app):
    """Give the app's authenticator, throttle and users file one clock that the test moves."""
    clock = Clock()
    authenticator = app.registry.getUtility(ISecurityPolicy).authenticator
    authenticator.clock = authenticator.throttle.clock = authenticator.users.clock = clock
    authenticator.throttle._last_sweep = clock.now
    return clock


def test_a_trusted_address_keeps_working_while_guesses_go_on_for_windows():
    """The scraper at its own address renews its trust with every request, whichever path its
    password takes (remembered, or checked again once the memory of it expired)."""
    app = make_app(**{"virtdancer.login.max_failures_per_name": "10"})
    try:
        clock = with_clock(app)
        scraper = client_of(app, "viewer", "viewer", "10.0.0.9")
        scraper.get("/metrics")
        guesses = 0
        for step in range(24):                       # 12 minutes, past two windows and more
            clock.now += 30
            for _ in range(2):
                client_of(app, "viewer", "wrong", f"203.0.113.{guesses % 250}").get(
                    "/vm", expect_errors=True)
                guesses += 1
            assert scraper.get("/metrics", expect_errors=True).status_int == 200, step
        # The guesses did throttle the name: from a new address even the right password waits.
        client_of(app, "viewer", "viewer", "198.51.100.77").get("/vm", status=429)
    finally:
        close_app(app)


def test_guesses_at_other_names_from_a_shared_address_do_not_lock_out_its_users(app):
    """20 failures from one address (a NAT) stop new names there, not a user who logged in
    there before."""
    client_of(app, "admin", "admin", "192.0.2.60").get("/vm")
    for i in range(20):
        client_of(app, f"guess{i}", "wrong", "192.0.2.60").get("/vm", status=401)
    client_of(app, "viewer", "viewer", "192.0.2.60").get("/vm", status=429)
    client_of(app, "admin", "admin", "192.0.2.60").get("/vm")


def test_ipv6_addresses_count_by_their_64_network():
    throttle = LoginThrottle(per_user=3, clock=Clock())
    for host in range(3):
        with throttle.attempt("ann", f"2001:db8:1:2::{host + 1:x}") as attempt:
            attempt.failed()
    with pytest.raises(LoginThrottled):
        with throttle.attempt("ann", "2001:db8:1:2:ffff::9"):
            pass
    with throttle.attempt("ann", "2001:db8:1:3::1") as attempt:   # another /64
        attempt.failed()


def test_when_the_table_is_full_the_pairs_are_forgotten_first():
    """Pairs go before addresses, names last: the name's counter stops spread-out guessing."""
    clock = Clock()
    throttle = LoginThrottle(per_name=3, per_address=10**9, max_entries=60, clock=clock)
    for i in range(3):
        with throttle.attempt("admin", f"192.0.2.{i}") as attempt:
            attempt.failed()
    for i in range(50):           # newer failures: 25 names, twice each, from 50 addresses
        clock.now += 0.01
        with throttle.attempt(f"filler-{i // 2}", f"198.51.100.{i}") as attempt:
            attempt.failed()
    assert throttle.entries() <= 60
    with pytest.raises(LoginThrottled):
        throttle.check("admin", "203.0.113.1")


# -- finding 3: memory is bounded, long names are refused and not logged whole --------------

def test_a_basic_user_name_over_256_characters_is_refused_unchecked(app, caplog):
    throttle = app.registry.getUtility(ISecurityPolicy).authenticator.throttle
    response = client_of(app, "n" * 100_000, "x", "192.0.2.40").get("/vm", status=400)
    assert response.json["message"] == "the user name is longer than 256 characters"
    assert len(response.body) < 500
    assert throttle.entries() == 0
    client_of(app, "n" * 256, "x", "192.0.2.40").get("/vm", status=401)
    assert throttle.entries() > 0


def test_names_in_log_lines_are_cut_short(app, caplog):
    caplog.set_level(logging.WARNING)
    client_of(app, "m" * 256, "x", "192.0.2.41").get("/vm", status=401)
    [line] = [record.getMessage() for record in caplog.records
              if "failed login" in record.getMessage()]
    assert len(line) < 120 and "m" * 64 + "…" in line


def test_expired_failures_are_swept():
    clock = Clock()
    throttle = LoginThrottle(per_address=10**9, window=300, clock=clock)
    for round_ in range(3):
        for i in range(200):
            with throttle.attempt(f"name-{round_}-{i}", f"192.0.2.{i % 10}") as attempt:
                attempt.failed()
            if i % 10 == 9:
                clock.now += 0.01
        clock.now += 1
    assert throttle.entries() > 600
    clock.now += 301
    with throttle.attempt("late", "192.0.2.99") as attempt:
        attempt.failed()
    assert throttle.entries() == 3      # the late attempt's keys only


def test_the_table_never_grows_beyond_its_cap():
    throttle = LoginThrottle(per_address=10**9, max_entries=1000, clock=Clock())
    for i in range(5000):
        with throttle.attempt(f"name-{i}", "192.0.2.1") as attempt:
            attempt.failed()
    assert throttle.entries() <= 1000


def test_an_attempt_that_ends_without_an_outcome_counts_for_nothing():
    throttle = LoginThrottle(per_user=1, clock=Clock())
    with pytest.raises(RuntimeError):
        with throttle.attempt("ann", "192.0.2.1"):
            raise RuntimeError("the check broke")
    with throttle.attempt("ann", "192.0.2.1") as attempt:
        attempt.failed()
    with pytest.raises(LoginThrottled):
        with throttle.attempt("ann", "192.0.2.1"):
            pass


# -- finding 6: a users file half-saved ------------------------------------------------------

@pytest.fixture
def users_file(tmp_path):
    path = tmp_path / "users.ini"
    path.write_text(f"[ann]\npassword = {hash_password('pw')}\nrole = viewer\nvms = all\n")
    return path


@pytest.mark.parametrize("break_it", ["empty", "garbage", "directory"])
def test_a_users_file_broken_at_run_time_keeps_the_last_good_users(users_file, break_it):
    app = make_app(**{"virtdancer.users_file": str(users_file),
                      "virtdancer.login.max_failures_per_user": "3"})
    try:
        good = users_file.read_text()
        client_of(app, "ann", "pw", "192.0.2.50").get("/vm")
        if break_it == "empty":
            users_file.write_text("")
        elif break_it == "garbage":
            users_file.write_text("[ann\npassword")
        else:
            users_file.unlink()
            users_file.mkdir()
        # The users read before still log in, with a fresh password check too.
        client_of(app, "ann", "pw", "192.0.2.51").get("/vm")
        # Failures meanwhile are not held against the name (nor the address).
        for _ in range(5):
            client_of(app, "bob", "pw", "192.0.2.52").get("/vm", status=401)
        if break_it == "directory":
            users_file.rmdir()
        users_file.write_text(good + f"[bob]\npassword = {hash_password('pw')}\n"
                                     "role = viewer\nvms = all\n")
        client_of(app, "bob", "pw", "192.0.2.52").get("/vm")
    finally:
        close_app(app)


def test_a_users_file_broken_for_more_than_a_minute_counts_failures_again(users_file):
    app = make_app(**{"virtdancer.users_file": str(users_file),
                      "virtdancer.login.max_failures_per_user": "3"})
    try:
        clock = with_clock(app)
        users_file.write_text("")
        for _ in range(4):
            client_of(app, "admin", "guess", "192.0.2.53").get("/vm", status=401)
        clock.now += 61                 # no edit takes that long: a broken file, not an edit
        for _ in range(3):
            client_of(app, "admin", "guess", "192.0.2.53").get("/vm", status=401)
        client_of(app, "admin", "guess", "192.0.2.53").get("/vm", status=429)
        client_of(app, "ann", "pw", "192.0.2.54").get("/vm")
    finally:
        close_app(app)
