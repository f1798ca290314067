"""A well-behaved plugin: its own settings section and a notification hook.

    [hello]
    greeting = "hi"
    url = ""
    password = ""
"""
from __future__ import annotations

from syncdub_companion import hookimpl
from syncdub_companion.settings import Setting

CALLS: list[dict] = []


@hookimpl
def syncdub_register_settings():
    return [
        Setting("hello.greeting", "hi", "What the hello plugin says."),
        Setting("hello.url", "", "Where hello lives.", "url"),
        Setting("hello.password", "", "Hello's password.", secret=True),
    ]


@hookimpl
def syncdub_job_finished(job, services):
    CALLS.append(job)
