"""`?since=<Unix time>` on the `?history=1` endpoints: a chart asks for its whole history once,
then only for what is new."""

import contextlib
import threading

import pytest

from virtdancer.resources.stats import series

from .conftest import DB_1, WEB_1, WEB_2
from .test_stats import admin, sampler_of, stats_app, tenant, wait_for_rounds  # noqa: F401

HISTORIES = ["/stats/cpu", "/stats/mem", f"/vm/{WEB_1}/stats", f"/vm/{WEB_1}/stats/cpu",
             f"/hosts/default/vm/{WEB_2}/stats"]


@contextlib.contextmanager
def between_rounds(sampler, timeout=10):
    """Hold the sampler's thread before its next round while the block runs: the history it
    reads does not grow between two requests (a round comes every 0.2 s, and a loaded machine
    takes longer than that over a request)."""
    sample_once = sampler.sample_once
    held, go_on = threading.Event(), threading.Event()

    def next_round():
        held.set()
        go_on.wait(timeout)
        return sample_once()

    sampler.sample_once = next_round
    try:
        assert held.wait(timeout), "the sampler took no round"
        yield
    finally:
        del sampler.sample_once      # the class's again
        go_on.set()


@pytest.mark.parametrize("path", HISTORIES)
def test_since_answers_only_the_newer_samples(admin, stats_app, path):  # noqa: F811
    wait_for_rounds(sampler_of(stats_app), 4)
    with between_rounds(sampler_of(stats_app)):
        check_since(admin, path)


def check_since(admin, path):  # noqa: F811
    whole = admin.get(f"{path}?history=1").json
    times = [sample["time"] for sample in whole["samples"]]
    assert len(times) >= 3, times
    middle = times[len(times) // 2]
    newer = admin.get(f"{path}?history=1&since={middle!r}").json
    assert newer["interval"] == whole["interval"]
    newer_times = [sample["time"] for sample in newer["samples"]]
    assert newer_times and all(time > middle for time in newer_times), (middle, newer_times)
    # The same samples as in the whole history, none left out.
    assert newer["samples"][:len(times) - len(times) // 2 - 1] == \
        whole["samples"][len(times) // 2 + 1:len(times)]
    # Up to date: nothing at all, in the same shape.
    latest = max(newer_times)
    assert admin.get(f"{path}?history=1&since={latest!r}").json == \
        {"interval": whole["interval"], "samples": []}


def test_since_before_the_first_sample_is_the_whole_history(admin):  # noqa: F811
    whole = admin.get("/stats/cpu?history=1").json
    assert whole["samples"]
    again = admin.get("/stats/cpu?history=1&since=0").json
    assert [s["time"] for s in again["samples"]][:len(whole["samples"])] == \
        [s["time"] for s in whole["samples"]]


# An empty one too (schemathesis found it answered as if left out).
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "yesterday", "1e300", ""])
def test_a_since_that_is_no_time_is_a_400(admin, value):  # noqa: F811
    answer = admin.get(f"/stats/cpu?history=1&since={value}", status=400).json
    assert answer["errors"][0]["name"] == "since", answer


def test_a_hidden_vm_is_a_404_with_since_as_without(tenant):  # noqa: F811
    tenant.get(f"/vm/{DB_1}/stats?history=1", status=404)
    tenant.get(f"/vm/{DB_1}/stats?history=1&since=0", status=404)


def test_series_leaves_out_the_rounds_up_to_since_without_picking_them():
    picked = []

    def pick(value):
        picked.append(value)
        return {"value": value}

    class Sampler:
        interval = 2.0

    rounds = [(10.0, 1), (12.0, 2), (14.0, None), (16.0, 4)]
    answer = series(Sampler(), rounds, pick, since=12.0)
    assert answer == {"interval": 2.0, "samples": [{"time": 16.0, "value": 4}]}
    assert picked == [4]   # the older rounds cost nothing
