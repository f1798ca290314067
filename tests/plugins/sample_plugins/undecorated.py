"""A misspelt hook without the @hookimpl marker: still a syncdub_* name, so still fatal."""
from __future__ import annotations


def syncdub_job_finshed(job, services):
    return None
