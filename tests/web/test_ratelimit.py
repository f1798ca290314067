"""The login rate limiter's memory stays bounded (web/ratelimit.py), alone and behind /login."""
from __future__ import annotations

from web_site import csrf_of

from syncdub_companion.web.ratelimit import LoginRateLimiter


def test_asking_about_unknown_names_stores_nothing():
    limiter = LoginRateLimiter()
    for i in range(1000):
        assert limiter.wait_seconds("10.0.0.1", f"nobody-{i}", now=100) == 0
    assert len(limiter) == 0


def test_keys_past_max_keys_are_evicted_stalest_first():
    limiter = LoginRateLimiter(per_client=1000, per_user=3, window=300, max_keys=50)
    for i in range(5000):
        limiter.failed(f"10.0.{i // 250}.{i % 250}", f"name-{i}", now=1000 + i * 0.001)
    assert len(limiter) == 50
    limiter.failed("10.9.9.9", "admin", now=1010)
    limiter.failed("10.9.9.9", "admin", now=1010)
    limiter.failed("10.9.9.9", "admin", now=1010)
    assert limiter.wait_seconds("10.1.1.1", "admin", now=1011) > 0  # the newest key survived


def test_expired_keys_are_dropped_on_the_next_failure():
    limiter = LoginRateLimiter(window=60)
    limiter.failed("1.1.1.1", "alice", now=0)
    assert len(limiter) == 2
    limiter.failed("2.2.2.2", "bob", now=61)
    assert sorted(k[0] for k in limiter.keys()) == ["c", "u"] and len(limiter) == 2


def test_a_huge_username_is_not_kept_raw():
    limiter = LoginRateLimiter()
    limiter.failed("1.2.3.4", "x" * 100_000, now=5)
    assert all(len(key) < 80 for key in limiter.keys())
    assert limiter.wait_seconds("9.9.9.9", "x" * 100_000, now=6) == 0  # same digest, one failure so far


def test_one_key_keeps_no_more_failures_than_its_limit():
    limiter = LoginRateLimiter(per_client=5, per_user=20, window=300)
    for i in range(500):
        limiter.failed("1.2.3.4", "admin", now=i * 0.1)
    assert limiter.wait_seconds("1.2.3.4", "someone", now=50) > 0
    assert all(len(times) <= 20 for times in limiter._failures.values())


def test_login_flood_with_new_names_is_answered_429_and_adds_nothing(site):
    client = site.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    statuses = [client.post("/login", data={"username": f"user{i}-" + "n" * 2000, "password": "wrong password",
                                            "csrf_token": token}).status_code for i in range(200)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    limiter = site.app.extensions["syncdub_login_limiter"]
    assert len(limiter) <= 6  # one address and the five names that really failed
