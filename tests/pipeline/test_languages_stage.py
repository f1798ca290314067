"""The languages stage: an untagged dub planned under und is named by its speech; a tag
that contradicts the speech goes into the job's log and plan, and stays."""
from __future__ import annotations

import pytest

from syncdub_companion import jobs
from syncdub_companion.pipeline.context import JobContext
from syncdub_companion.pipeline.languages import languages
from syncdub_companion.testing import make_services

pytestmark = pytest.mark.slow


@pytest.fixture
def services(tmp_path, voices):
    svc = make_services(tmp_path, {"library": {"roots": [str(voices["en_untagged"].parent)]}, "align": {"device": "cpu"}})
    yield svc
    svc.store.close()


def _run(services, voices, plan: dict):
    store = services.store
    job_id = jobs.create(store, original=str(voices["es_original"]), source="cli")
    jobs.update(store, job_id, item={"path": str(voices["es_original"])}, plan=plan)
    languages(JobContext(services, jobs.get(store, job_id), merge=None))
    job = jobs.get(store, job_id)
    return job.get("plan") if isinstance(job, dict) else job.plan, list(job.get("log") if isinstance(job, dict) else job.log)


def test_an_untagged_dub_takes_the_language_it_speaks_and_a_wrong_tag_is_reported(services, voices):
    plan, log = _run(services, voices, {
        "und": {"path": str(voices["en_untagged"]), "language": None, "score": 1.0, "finder": "job"},
        "fr": {"path": str(voices["es_tagged_eng"]), "language": "fr", "score": 0.9, "finder": "folder"}})
    assert sorted(plan) == ["en", "fr"]  # und became en; fr stays what the folder said
    assert plan["en"]["language"] == "en" and plan["en"]["language_check"]["heard"] == "en"
    check = plan["fr"]["language_check"]
    assert check["tag"] == "en" and check["heard"] == "es" and check["contradicts"]
    assert any("is tagged English (en) but its speech sounds Spanish (es) (p=" in line
               and line.endswith("the tag is kept") for line in log), log
    assert any("identified as English (en)" in line for line in log)
    # a resumed job does not listen again
    again, _ = _run(services, voices, plan)
    assert again == plan
