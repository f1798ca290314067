"""END TO END in a real browser: `syncdub serve` driven by Debian's Chromium through playwright-core.

The service runs as it would for a user (its own process, a config file with a login set
by `syncdub user set`, a library root in a temp folder, the real worker pool, merge and
aligner). tests/browser/e2e.mjs then logs in and sees the set-up banner (the config names a
dub folder that is not mounted), saves a bad setting and sees the inline error, saves a
good one, types a bare dub folder and sees the field's format, saves it properly and sees
the banner go, queues a manual re-sync of a generated pair, watches the job reach done on
the jobs list, opens the job to see its time-map plot, plays a listening clip in the page's
own <audio> element, queues a weak pair whose map the real aligner holds for review, plays
its dub clip and approves it (merged as stored), and syncs a film from the wanted list; the
merge's notification reaches a json:// receiver on 127.0.0.1 through Apprise.
Every page is screenshotted into tests/artifacts/browser/.

Needs /usr/bin/chromium, node with tests/browser/node_modules (npm install), ffmpeg and
mkvmerge; `bash dev.sh test` installs them.
"""
from __future__ import annotations

import http.server
import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
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


def _write_config(tmp: Path, port: int, root: Path, notify_url: str) -> Path:
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

[counterparts]
dub_roots = {{ de = "{tmp / 'downloads' / 'not-mounted'}" }}  # the banner says so; the browser fixes it

[notify]
urls = ["{notify_url}"]

[align]
speech = "never"  # the generated pair has no real speech; its bed is the evidence
# kept, not rejected: the weak pair's map (half of its dub shares the film's bed), which
# without speech the aligner holds for review
min_coverage = 0.3
min_confidence = 0.3

[speech]
model_dir = "{cache_dir() / 'models'}"

[jobs]
stable_seconds = 30  # the browser sets this to 0 through the settings page
''')
    return config


def make_weak_pair(folder: Path, work: Path, seconds: float = 60.0, offset: float = 1.5,
                   shared: float = 0.5, tail: float = 15.0) -> tuple[Path, Path]:
    """A film whose dub shares only its first ``shared`` part with the film's bed; the rest,
    ``tail`` seconds longer than the film, is another bed: the aligner's map covers about
    half of the dub (confidence about 0.5), a weak map held for review.

    The dub runs longer than the film so that the foreign stretch is not one of equal
    length on both timelines: those the aligner carries on the map's line (a swapped song
    or ending), which turned this pair aligned at 100 % once continuity reached the file's
    edges."""
    import numpy as np

    from syncdub_companion.testing import MOVIE_RATE, _bed, _voice, _wav

    folder.mkdir(parents=True)
    work.mkdir()
    bed = _bed(seconds, 1)
    _wav(work / "en.wav", bed + _voice(seconds, 2))
    dub_seconds = offset + seconds + tail
    dub_bed = np.concatenate([_bed(offset, 7) * 0.5, bed, np.zeros(int(round(tail * MOVIE_RATE)), dtype=bed.dtype)])
    cut = int((offset + shared * seconds) * MOVIE_RATE)
    foreign = _bed(dub_seconds, 9)
    dub_bed[cut:] = foreign[cut:len(dub_bed)]
    _wav(work / "de.wav", dub_bed + _voice(dub_seconds, 3)[:len(dub_bed)])
    original, dub = folder / f"{folder.name}.mkv", folder / f"{folder.name}.de.mka"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(work / "en.wav"), "-c:a", "aac", "-b:a", "96k",
                    "-metadata:s:a:0", "language=eng", str(original)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(work / "de.wav"), "-c:a", "ac3", "-b:a", "192k",
                    "-metadata:s:a:0", "language=ger", str(dub)], check=True)
    return original, dub


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


class NotifyReceiver(http.server.ThreadingHTTPServer):
    """Apprise's json:// target posts here: every notification the service sends."""

    def __init__(self):
        self.posts: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                outer.posts.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def _other_film(folder: Path) -> Path:
    """A second original with English audio only: the wanted list shows it lacking de."""
    folder.mkdir(parents=True)
    path = folder / "Other (2011).mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.5",
                    "-metadata:s:a:0", "language=eng", "-c:a", "pcm_s16le", str(path)], check=True)
    return path


@pytest.fixture
def service(tmp_path):
    """`syncdub serve` in its own process over a temp config, with a login set by the CLI."""
    missing = _missing_parts()
    if missing:
        pytest.skip("the job cannot run yet; missing: " + ", ".join(missing))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "library"
    original, dub = make_pair(root / "Movies" / "Film (2010)", tmp_path / "gen")
    other = _other_film(root / "Movies" / "Other (2011)")
    weak, weak_dub = make_weak_pair(root / "Movies" / "Weak (2012)", tmp_path / "gen-weak")
    (tmp_path / "downloads" / "de").mkdir(parents=True)
    receiver = NotifyReceiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = _free_port()
    config = _write_config(tmp_path, port, root, f"json://127.0.0.1:{receiver.server_address[1]}/syncdub")
    env = {**os.environ, "PYTHONPATH": str(REPO), "SYNCDUB_CONFIG": str(config)}
    subprocess.run(_cli("user", "set", "admin", "--password", PASSWORD, "--config", config),
                   check=True, capture_output=True, env=env, cwd=tmp_path)
    log = open(ARTIFACTS / "serve.log", "w")
    proc = subprocess.Popen(_cli("serve", "--config", config), stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield {"base": base, "root": root, "original": original, "dub": dub, "config": config, "proc": proc,
               "other": other, "dub_folder": tmp_path / "downloads" / "de", "notified": receiver.posts,
               "weak": weak, "weak_dub": weak_dub}
    finally:
        receiver.shutdown()
        receiver.server_close()
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
            "dubFolder": str(service["dub_folder"]), "wantedName": service["other"].name,
            "artifacts": str(ARTIFACTS), "profile": str(tmp_path / "chromium-profile"), "jobTimeoutMs": 240000,
            "weakFolder": ["Movies", "Weak (2012)"], "weakOriginal": service["weak"].name,
            "weakDub": service["weak_dub"].name}
    run = subprocess.run(["node", str(HERE / "e2e.mjs"), json.dumps(args)], cwd=HERE, capture_output=True,
                         text=True, timeout=600)
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
    # the only failed loads are the two refused saves (each form comes back with status 400)
    assert all("status of 400" in e and e.endswith(("/settings/jobs", "/settings/counterparts"))
               for e in seen["consoleErrors"]), seen["consoleErrors"]
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(original)],
                                      capture_output=True, check=True).stdout)
    languages = [s.get("tags", {}).get("language") for s in probe["streams"] if s["codec_type"] == "audio"]
    assert languages == ["eng", "ger"]  # the dub really went into the library file
    # our tracks (the film's and, once approved, the weak pair's), found by their tag; Other lacks de
    assert seen["libraryRow"].split() == ["de", "2", "0", "1"]
    assert seen["webhookUrl"] == f"{service['base']}/webhooks/plex"  # no token configured: none shown
    # issue 16: the banner names the unusable dub folder; the field says its format; saving a real one clears it
    assert seen["bannerBefore"].startswith(f"counterparts.dub_roots.de is ignored: {service['dub_folder'].parent / 'not-mounted'} does not exist.")
    assert seen["dubFormatError"] == (f"line 1 ('{service['dub_folder']}') is not language = folder: "
                                      f"write it as de = {service['dub_folder']}")
    assert seen["bannerAfter"] == 0
    assert seen["notifyBadge"] == "1 set"
    # the wanted list: the merged film has de now; the other lacks it, and Sync queued its job
    assert seen["wantedBefore"] == [service["other"].name]
    assert seen["wantedFlash"].startswith("Job ") and seen["wantedFlash"].endswith(f"queued for {service['other'].name}.")
    assert "notify" in seen["pluginNames"]
    # the merge's notification reached the receiver through Apprise's json:// target
    done = [p for p in service["notified"] if p["title"] == f"SyncDub: done – {original.name}"]
    assert done and done[0]["type"] == "success" and done[0]["message"].startswith(f"Job {seen['jobId']} done: added de")
    # issue 18: the job page plays its listening clips in the browser's own <audio> element
    assert seen["clipCount"] == 9  # a 60 s film: 3 moments, each original, dub and both
    played = seen["played"]
    assert played["src"] == f"/jobs/{seen['jobId']}/clips/de/0/mix.m4a" and played["error"] is None
    assert abs(played["duration"] - 8.0) < 0.1 and (played["ended"] or played["currentTime"] > 1.0), played
    # the weak pair's map was held for review by the real aligner, heard, then approved and merged
    assert seen["reviewState"] == "needs review" and seen["reviewVerdict"] == "review"
    assert seen["reviewPlayed"]["error"] is None and seen["reviewPlayed"]["duration"] > 7.9, seen["reviewPlayed"]
    assert seen["approvedFlash"].startswith(f"Job {seen['reviewJobId']}") and seen["approvedState"] == "done"
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(service["weak"])],
                                      capture_output=True, check=True).stdout)
    assert [s.get("tags", {}).get("language") for s in probe["streams"] if s["codec_type"] == "audio"] == ["eng", "ger"]
    for name in ("00-login", "01-jobs-after-login", "02-settings-inline-error", "03-settings-saved", "05-jobs-done",
                 "06-job-detail", "07-job-plot", "08-library", "10-settings-dub-format-error", "11-settings-dub-saved",
                 "12-settings-notify", "13-wanted", "14-wanted-synced", "15-plugins", "16-resync-roots",
                 "17-job-listen", "18-jobs-review", "19-job-review", "20-jobs-approved"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 5000, name
