"""END TO END in a real browser: `syncdub serve` driven by Debian's Chromium through playwright-core.

The service runs as it would for a user (its own process, a config file with a login set
by `syncdub user set`, a library root in a temp folder, the real worker pool, merge and
aligner). tests/browser/e2e.mjs then logs in, saves a bad setting and sees the inline
error, saves a good one, queues a manual re-sync of a generated pair, watches the job
reach done on the jobs list, and opens the job to see its time-map plot. Screenshots go
to tests/artifacts/browser/.

Needs /usr/bin/chromium, node with tests/browser/node_modules (npm install), ffmpeg and
mkvmerge; `bash dev.sh test` installs them.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from syncdub_companion.testing import make_movie_with_dub

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "browser-test-password"
# The parts of the service this test drives, beyond the pages: without them a job cannot run.
REQUIRED = {"syncdub_companion.pipeline.worker": "WorkerPool", "syncdub_companion.merge": "resync",
            "plugins.aligner": "syncdub_align"}


def _missing_parts() -> list[str]:
    missing = []
    for module, name in REQUIRED.items():
        try:
            if not hasattr(importlib.import_module(module), name):
                missing.append(f"{module}.{name}")
        except ImportError:
            missing.append(module)
    return missing


def _missing_tools() -> list[str]:
    missing = [str(CHROMIUM)] if not CHROMIUM.exists() else []
    missing += [t for t in ("node", "ffmpeg", "mkvmerge") if shutil.which(t) is None]
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        missing.append("tests/browser/node_modules/playwright-core (run npm install in tests/browser)")
    return missing


pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(bool(_missing_tools()), reason=f"missing: {', '.join(_missing_tools())}")]


def make_pair(folder: Path, work: Path, seconds: float = 60.0, offset: float = 1.5) -> tuple[Path, Path]:
    """An original MKV (video + English) and a German .mka whose shared bed starts ``offset`` s later."""
    return make_movie_with_dub(folder, work, seconds, offset)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(tmp: Path, port: int, root: Path) -> Path:
    from syncdub_companion.testing import cache_dir

    config = tmp / "config.toml"
    config.write_text(f'''# browser end-to-end config
[server]
host = "127.0.0.1"
port = {port}
data_dir = "{tmp / 'data'}"

[library]
roots = ["{root}"]
languages = ["de"]

[align]
speech = "never"  # the generated pair has no real speech; its bed is the evidence

[speech]
model_dir = "{cache_dir() / 'models'}"

[jobs]
stable_seconds = 30  # the browser sets this to 0 through the settings page
''')
    return config


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "syncdub_companion.cli", *map(str, args)]


def _wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"syncdub serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("syncdub serve did not answer /healthz")


@pytest.fixture
def service(tmp_path):
    """`syncdub serve` in its own process over a temp config, with a login set by the CLI."""
    missing = _missing_parts()
    if missing:
        pytest.skip("the job cannot run yet; missing: " + ", ".join(missing))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "library"
    original, dub = make_pair(root / "Movies" / "Film (2010)", tmp_path / "gen")
    port = _free_port()
    config = _write_config(tmp_path, port, root)
    env = {**os.environ, "PYTHONPATH": str(REPO), "SYNCDUB_CONFIG": str(config)}
    subprocess.run(_cli("user", "set", "admin", "--password", PASSWORD, "--config", config),
                   check=True, capture_output=True, env=env, cwd=tmp_path)
    log = open(ARTIFACTS / "serve.log", "w")
    proc = subprocess.Popen(_cli("serve", "--config", config), stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield {"base": base, "root": root, "original": original, "dub": dub, "config": config, "proc": proc}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_login_settings_resync_and_plot_in_chromium(service, tmp_path):
    original, dub = service["original"], service["dub"]
    args = {"base": service["base"], "username": "admin", "password": PASSWORD, "root": str(service["root"]),
            "folder": ["Movies", "Film (2010)"], "original": original.name, "dub": dub.name,
            "artifacts": str(ARTIFACTS), "profile": str(tmp_path / "chromium-profile"), "jobTimeoutMs": 240000}
    run = subprocess.run(["node", str(HERE / "e2e.mjs"), json.dumps(args)], cwd=HERE, capture_output=True,
                         text=True, timeout=420)
    seen = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
    assert run.returncode == 0, f"{seen.get('error')}\n{run.stderr[-3000:]}\nserve.log: {ARTIFACTS / 'serve.log'}"

    assert seen["inlineError"] == "must be an integer"
    assert seen["saved"].startswith("Jobs settings saved")
    assert "stable_seconds = 0" in service["config"].read_text()
    assert "# browser end-to-end config" in service["config"].read_text()  # the comment survived
    assert seen["finalState"] == "done"
    assert seen["verdict"] == "aligned" and float(seen["confidence"]) > 0.5
    assert seen["plot"]["src"].startswith(f"/jobs/{seen['jobId']}/plot.svg?language=de")
    assert seen["plot"]["width"] > 300
    # the only failed load is the refused save itself (the form comes back with status 400)
    assert all("status of 400" in e and e.endswith("/settings/jobs") for e in seen["consoleErrors"]), seen["consoleErrors"]
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(original)],
                                      capture_output=True, check=True).stdout)
    languages = [s.get("tags", {}).get("language") for s in probe["streams"] if s["codec_type"] == "audio"]
    assert languages == ["eng", "ger"]  # the dub really went into the library file
    assert seen["libraryRow"].split() == ["de", "1", "0", "0"]  # our track, found by its tag
    assert seen["webhookUrl"] == f"{service['base']}/webhooks/plex"  # no token configured: none shown
    for name in ("00-login", "01-jobs-after-login", "02-settings-inline-error", "03-settings-saved", "05-jobs-done",
                 "06-job-detail", "07-job-plot", "08-library"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 5000, name
