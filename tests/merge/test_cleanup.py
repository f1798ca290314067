"""A merge killed at any moment leaves the original alone, and its temps go on the next start."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from pathlib import Path

from merge_media import write_truth_setup
from syncdub_companion.merge import cleanup_leftovers, journal_dir, resync
from syncdub_companion.merge.cleanup import TEMP_RE, TempSet

REPO = Path(__file__).resolve().parents[2]
SYNCDUB = "from syncdub_companion.cli import main; main()"  # the console script, from this checkout

# Starts the real mkvmerge; once the final temp file has bytes in it, freezes mkvmerge
# mid-write (SIGSTOP) and signals the test, which then kills the whole process group.
FREEZING_MKVMERGE = """\
#!/bin/sh
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
case "$out" in
  *.dub.tmp|*.probe2.tmp|"") exec {mkvmerge} "$@" ;;
esac
{mkvmerge} "$@" &
pid=$!
while [ ! -s "$out" ]; do :; done
kill -STOP $pid
touch {mark}
wait $pid
"""


# The in-kernel splice runs inside the service's own process: it freezes itself (SIGSTOP) right
# after its first copy into the temp file, and the test then kills the whole process group.
FREEZING_SPLICE = """\
import os, signal
copy = os.copy_file_range
def copy_then_freeze(*args):
    done = copy(*args)
    open({mark!r}, "w").close()
    os.kill(os.getpid(), signal.SIGSTOP)
    return done
os.copy_file_range = copy_then_freeze
from syncdub_companion.cli import main; main()
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if TEMP_RE.match(p.name)]


@pytest.mark.parametrize("muxer", ["mkvmerge", "splice"])
def test_kill_9_during_the_mux_leaves_the_original_and_the_next_start_cleans_up(
        tmp_path, library, generated, offset_case, make_svc, muxer):
    dub, truth = offset_case
    mark = tmp_path / "frozen"
    if muxer == "mkvmerge":
        wrapper = tmp_path / "mkvmerge-freezing"
        wrapper.write_text(FREEZING_MKVMERGE.format(mkvmerge=shutil.which("mkvmerge"), mark=mark))
        wrapper.chmod(0o755)
        config, env = write_truth_setup(tmp_path / "setup", library.root, truth, dub.parent, mkvmerge=wrapper)
        env["SYNCDUB__LIBRARY__MUXER"] = "mkvmerge"
        script = SYNCDUB
    else:
        config, env = write_truth_setup(tmp_path / "setup", library.root, truth, dub.parent)
        script = FREEZING_SPLICE.format(mark=str(mark))
    before = digest(library.film)
    proc = subprocess.Popen([sys.executable, "-c", script, "--config", str(config),
                             "resync", str(library.film), str(dub)], cwd=REPO, env={**os.environ, **env},
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not mark.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.time() < deadline, f"{muxer} never started writing"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    folder = library.film.parent
    assert digest(library.film) == before
    assert len(temps(folder)) >= 1  # the half-written merge (and the dub track) are still there
    svc = make_svc()
    svc.config.data["server"]["data_dir"] = str(tmp_path / "setup" / "data")  # the killed run's journal
    removed = cleanup_leftovers(journal_dir(svc), at_startup=True)
    assert temps(folder) == []
    assert len(removed) >= 1 and list(journal_dir(svc).iterdir()) == []
    assert sorted(p.name for p in folder.iterdir()) == ["Film (2010).mkv"]
    assert digest(library.film) == before


def test_cleanup_spares_running_merges_and_other_files(tmp_path):
    folder, journal = tmp_path / "films", tmp_path / "journal"
    folder.mkdir()
    keep = [folder / "Film.mkv", folder / ".Film.mkv.part", folder / ".Film.mkv.syncdub-12-zz.tmp"]
    for path in keep:
        path.write_text("user data")
    dead = subprocess.Popen(["true"])
    dead.wait()
    with TempSet(folder / "Film.mkv", journal) as mine:
        mine.path().write_text("half a merge")
        mine.path("dub").write_text("a dub track")
        # another file's merge: two merges of one file never overlap (its merge lock), and
        # entering a TempSet removes every other temp of its own file (the next test)
        stale = TempSet(folder / "Other.mkv", journal)
        stale.pid = dead.pid  # a merge whose process is gone
        stale.journal = journal / f"{dead.pid}-{stale.token}.json"
        stale.__enter__()
        stale.path().write_text("left by a crash")
        removed = cleanup_leftovers(journal)
        assert removed == [stale.path()]
        assert mine.path().exists() and mine.path("dub").exists()  # ours, still running
    assert sorted(folder.iterdir()) == sorted(keep)  # leaving the TempSet removed our temps
    assert list(journal.iterdir()) == []


def test_entering_a_tempset_removes_other_temps_of_its_file_only(tmp_path):
    """What a worker killed on another machine left beside the file (its journal and pid
    mean nothing here) goes when the next merge of that file starts; other files' stay."""
    folder = tmp_path / "films"
    folder.mkdir()
    remote = folder / ".Film.mkv.syncdub-4242-0badc0de.tmp"
    remote_part = folder / ".Film.mkv.syncdub-4242-0badc0de.dub.tmp"
    other = folder / ".Other.mkv.syncdub-4242-0badc0de.tmp"
    lookalike = folder / ".Film.mkv.syncdub-notatemp.tmp"
    for path in (remote, remote_part, other, lookalike):
        path.write_text("x")
    with TempSet(folder / "Film.mkv", tmp_path / "journal") as mine:
        mine.path().write_text("this merge")
        assert not remote.exists() and not remote_part.exists()
        assert other.exists() and lookalike.exists() and mine.path().exists()


def test_a_new_resync_also_cleans_what_a_dead_one_left(tmp_path, library, make_svc, offset_case):
    svc = make_svc()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = TempSet(library.film, journal_dir(svc))
    stale.pid = dead.pid
    stale.journal = journal_dir(svc) / f"{dead.pid}-{stale.token}.json"
    stale.__enter__()
    stale.path().write_bytes(b"\0" * 1000)
    resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert temps(library.film.parent) == []
