"""Fixtures for the web tests; the helpers live in web_site.py so tests can import them by a unique name."""
from web_site import *  # noqa: F401,F403  (fixtures: site, user)
