"""Freshness from the watches themselves: a cut watch that cannot come back, or one slow
to come back, makes the cluster source stale within a few seconds, with the reason; it
is fresh again once the watch streams again -- in the backend and in the console. So does
a watch that stays connected but silent: neither an event nor a bookmark for a few
bookmark intervals (the server sends them, as the real apiserver does)."""

from __future__ import annotations

import pytest

from backends.domain.errors import BackendError
from console.app import make_app
from console.config import load_settings
from tests.console.conftest import wait_for

from .helpers import NS, cluster, eventually

pytestmark = pytest.mark.integration


def streaming(apiserver, c) -> bool:
    """Every cache of ``c`` has its watch open on the server."""
    return apiserver.open_watches >= sum(len(caches) for caches in c.caches.values())


def stale_reason(c) -> str | None:
    try:
        c.read()
    except BackendError as exc:
        return str(exc)
    return None


def test_a_cut_watch_that_cannot_resume_goes_stale_with_the_reason(apiserver):
    c = cluster(apiserver, stale_after_s=1.0)
    try:
        assert c.read().services
        eventually(lambda: streaming(apiserver, c))
        rule = apiserver.inject("GET", r"/deployments", 500, times=None,
                                query={"watch": "true"})
        apiserver.drop_watches()
        # stale first with the cut itself, then with what the reconnects get (the 500)
        why = eventually(lambda: (w := stale_reason(c)) and "500" in w and w, timeout=8)
        assert "deployments watch of context 'test-admin'" in why
        rule.times = 0  # the API server answers watches again
        eventually(lambda: stale_reason(c) is None, timeout=8)
        assert c.read().services
    finally:
        c.close()


def test_a_watch_slow_to_come_back_goes_stale_after_the_threshold(apiserver):
    c = cluster(apiserver, stale_after_s=1.0)
    try:
        assert c.read().services
        eventually(lambda: streaming(apiserver, c))
        apiserver.inject("GET", r"/deployments", None, times=1, delay_s=4.0,
                         query={"watch": "true"})
        apiserver.drop_watches()
        why = eventually(lambda: stale_reason(c), timeout=4)
        assert "down for" in why and "reconnecting the watch" in why
        eventually(lambda: stale_reason(c) is None, timeout=10)  # the slow one answered
    finally:
        c.close()


def test_a_watch_that_never_starts_streaming_goes_stale(apiserver):
    apiserver.inject("GET", r"/deployments", None, times=None, delay_s=3.0,
                     query={"watch": "true"})
    c = cluster(apiserver, stale_after_s=1.0)
    try:
        why = eventually(lambda: stale_reason(c), timeout=5)
        assert "not streaming yet" in why or "reconnecting" in why
    finally:
        apiserver.injections.clear()
        c.close()


def test_a_quiet_healthy_watch_stays_fresh(apiserver):
    c = cluster(apiserver, stale_after_s=0.5, watch_timeout_s=1)  # watches end each second
    try:
        assert c.read().services
        eventually(lambda: streaming(apiserver, c))
        import time

        end = time.monotonic() + 3.0
        while time.monotonic() < end:  # nothing changes; every watch ends and resumes
            assert stale_reason(c) is None
            time.sleep(0.1)
    finally:
        c.close()


async def test_the_console_shows_the_cluster_stale_then_fresh(apiserver, tmp_path):
    settings = load_settings(
        refresh=0.3, audit={"path": str(tmp_path / "audit.db")},
        kubernetes={"kubeconfig": str(apiserver.kubeconfig), "contexts": ["test-admin"],
                    "namespaces": [NS], "stale_after_s": 1.0, "backoff_initial_s": 0.1,
                    "backoff_max_s": 0.3})
    app = make_app(settings)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.state.cluster is not None
                       and app.state.status["cluster"].ok, timeout=20)
        rule = apiserver.inject("GET", r"/deployments", 503, times=None,
                                query={"watch": "true"})
        apiserver.drop_watches()
        # stale first with the cut itself, then with what the reconnects get (the 503)
        await wait_for(pilot, lambda: not app.state.status["cluster"].ok
                       and "503" in (app.state.status["cluster"].error or ""), timeout=8)
        status = app.state.status["cluster"]
        assert "deployments watch" in (status.error or "")
        assert app.state.cluster is not None and app.state.cluster.services  # kept
        rule.times = 0
        await wait_for(pilot, lambda: app.state.status["cluster"].ok, timeout=10)


def silent_reason(c) -> str | None:
    why = stale_reason(c)
    return why if why is not None and "silent for" in why else None


def test_a_connected_but_silent_watch_goes_stale_and_recovers(apiserver):
    apiserver.bookmark_interval_s = 0.2
    # a bookmark due every 0.2 s: silent for 3 of them (0.6 s) is stale; watches that last
    # longer than the test, so only the silence can end the stream
    c = cluster(apiserver, bookmark_interval_s=0.2, stale_after_s=1.0, watch_timeout_s=600)
    try:
        assert c.read().services
        eventually(lambda: streaming(apiserver, c))
        deployments = c.caches["deployments"][0]
        eventually(lambda: deployments.bookmarks >= 2)  # the server sends them: armed
        assert stale_reason(c) is None
        apiserver.silence_watches("deployments")
        why = eventually(lambda: silent_reason(c), timeout=6)
        assert "deployments watch of context 'test-admin' silent for" in why
        assert "neither an event nor a bookmark" in why
        apiserver.silence_watches(None)  # events and bookmarks flow again
        eventually(lambda: stale_reason(c) is None, timeout=10)
        assert c.read().services
    finally:
        c.close()


def test_a_silent_watch_is_given_up_and_watched_again(apiserver):
    apiserver.bookmark_interval_s = 0.2
    c = cluster(apiserver, bookmark_interval_s=0.2, stale_after_s=1.0, watch_timeout_s=600)
    try:
        assert c.read().services
        deployments = c.caches["deployments"][0]
        eventually(lambda: deployments.bookmarks >= 2)
        watches = deployments.watches
        apiserver.silence_watches("deployments")
        # the stream's read timeout (twice the silence that makes it stale) ends it: the
        # cache watches again, and stays stale while nothing comes through
        # (each read asks the caches to give up a stream silent that long)
        eventually(lambda: stale_reason(c) and deployments.watches > watches, timeout=8)
        assert "silent for" in (stale_reason(c) or "")
        apiserver.silence_watches(None)
        eventually(lambda: stale_reason(c) is None, timeout=10)
    finally:
        apiserver.silence_watches(None)
        c.close()


def test_a_server_that_sends_no_bookmark_is_never_called_silent(apiserver):
    apiserver.bookmark_interval_s = None  # only the one right before the deadline
    c = cluster(apiserver, bookmark_interval_s=0.1, stale_after_s=1.0, watch_timeout_s=600)
    try:
        assert c.read().services
        eventually(lambda: streaming(apiserver, c))
        import time

        end = time.monotonic() + 2.0  # twenty "bookmark intervals" of a quiet namespace
        while time.monotonic() < end:
            assert stale_reason(c) is None
            time.sleep(0.1)
        assert c.caches["deployments"][0].bookmarks == 0
    finally:
        c.close()


async def test_the_console_shows_a_silent_watch_stale_then_fresh(apiserver, tmp_path):
    apiserver.bookmark_interval_s = 0.2
    settings = load_settings(
        refresh=0.3, audit={"path": str(tmp_path / "audit.db")},
        kubernetes={"kubeconfig": str(apiserver.kubeconfig), "contexts": ["test-admin"],
                    "namespaces": [NS], "stale_after_s": 1.0, "bookmark_interval_s": 0.2,
                    "watch_timeout_s": 600, "backoff_initial_s": 0.1, "backoff_max_s": 0.3})
    app = make_app(settings)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.state.cluster is not None
                       and app.state.status["cluster"].ok, timeout=20)
        cluster_backend = app.backends.cluster
        await wait_for(pilot, lambda: all(cache.bookmarks >= 1 for cache in
                                          cluster_backend.caches["deployments"]), timeout=10)
        apiserver.silence_watches("deployments")
        await wait_for(pilot, lambda: not app.state.status["cluster"].ok, timeout=8)
        status = app.state.status["cluster"]
        assert "deployments watch" in (status.error or "")
        assert "silent for" in (status.error or "")
        assert app.state.cluster is not None and app.state.cluster.services  # kept
        apiserver.silence_watches(None)
        await wait_for(pilot, lambda: app.state.status["cluster"].ok, timeout=10)
