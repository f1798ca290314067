"""Where merged files go, who owns them, and what is refused or fails safely."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncdub_companion.errors import DiskFullError, PathNotAllowedError, UsageError
from syncdub_companion.merge import resync
from syncdub_companion.merge.cleanup import TEMP_RE


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temps_in(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if TEMP_RE.match(p.name)]


def test_beside_writes_a_multi_file_and_keeps_the_original(library, make_svc, offset_case, pal_case):
    svc = make_svc(output_mode="beside")
    original = digest(library.film)
    result = resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    multi = library.film.with_name("Film (2010).multi.mkv")
    assert result.output_path == str(multi) and multi.is_file()
    assert digest(library.film) == original
    # a second language goes into the same .multi file; the same language again is skipped
    resync(svc, str(library.film), str(pal_case[0]), language="it", timemap=pal_case[1])
    again = resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert again.status == "skipped"
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
                          "stream_tags=language", "-of", "csv=p=0", str(multi)], capture_output=True, text=True)
    assert out.stdout.split() == ["eng", "eng", "ger", "ita"]
    assert digest(library.film) == original and temps_in(library.root) == []


def test_folder_mode_mirrors_the_tree(library, make_svc, offset_case):
    mirror = library.root / "multi"
    svc = make_svc(output_mode="folder", output_folder=str(mirror))
    result = resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert result.output_path == str(mirror / "Movies" / "Film (2010)" / "Film (2010).mkv")
    assert Path(result.output_path).is_file() and library.film.is_file()


def test_replace_backs_the_original_up_first(library, make_svc, offset_case):
    backups = library.root / "backup"
    original = digest(library.film)
    svc = make_svc(backup_dir=str(backups))
    resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    kept = backups / "Movies" / "Film (2010)" / "Film (2010).mkv"
    assert digest(kept) == original and digest(library.film) != original


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another user needs root")
@pytest.mark.parametrize("mode", ["replace", "beside"])
def test_owner_group_and_mode_are_kept(library, make_svc, offset_case, mode):
    os.chown(library.film, 1234, 2345)
    os.chmod(library.film, 0o640)
    result = resync(make_svc(output_mode=mode), str(library.film), str(offset_case[0]), language=None,
                    timemap=offset_case[1])
    st = os.stat(result.output_path)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1234, 2345, 0o640)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another user needs root")
def test_puid_and_pgid_win_when_set(library, make_svc, offset_case):
    svc = make_svc(puid=4321, pgid=5432, output_mode="folder", output_folder=str(library.root / "out"))
    result = resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    for path in (Path(result.output_path), Path(result.output_path).parent):
        assert (path.stat().st_uid, path.stat().st_gid) == (4321, 5432)


def test_an_original_outside_the_roots_is_refused(tmp_path, make_svc, generated, offset_case):
    outside = tmp_path / "elsewhere" / "Film.mkv"
    outside.parent.mkdir()
    shutil.copyfile(generated.original.path, outside)
    with pytest.raises(PathNotAllowedError, match="outside the configured library roots"):
        resync(make_svc(), str(outside), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert digest(outside) == digest(generated.original.path)


def test_a_symlink_escaping_the_roots_is_refused(tmp_path, library, make_svc, generated, offset_case):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copyfile(generated.original.path, outside / "Film.mkv")
    (library.root / "Movies" / "escape.mkv").symlink_to(outside / "Film.mkv")
    (library.root / "linked").symlink_to(outside)
    with pytest.raises(PathNotAllowedError):
        resync(make_svc(), str(library.root / "Movies" / "escape.mkv"), str(offset_case[0]), language=None,
               timemap=offset_case[1])
    svc = make_svc(output_mode="folder", output_folder=str(library.root / "linked"))
    with pytest.raises(PathNotAllowedError, match="output"):
        resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert sorted(p.name for p in outside.iterdir()) == ["Film.mkv"]


def test_a_sidecar_dub_symlinked_from_outside_the_roots_is_not_read(tmp_path, library, make_svc, offset_case):
    """``Film (2010).de.mka -> /elsewhere/dub.mkv``: the link lies in the library, its target does not."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(offset_case[0], elsewhere / "dub.mkv")
    sidecar = library.film.with_name("Film (2010).de.mka")
    sidecar.symlink_to(elsewhere / "dub.mkv")
    original = digest(library.film)
    with pytest.raises(PathNotAllowedError, match="dubbed .*outside library.roots and counterparts.dub_roots"):
        resync(make_svc(), str(library.film), str(sidecar), language=None, timemap=offset_case[1])
    assert digest(library.film) == original and temps_in(library.root) == []


def test_a_dub_in_a_dub_root_outside_the_library_is_read(library, make_svc, offset_case):
    """Dub roots are read roots: the generated dubs lie outside library.roots, in one."""
    result = resync(make_svc(output_mode="beside"), str(library.film), str(offset_case[0]), language=None,
                    timemap=offset_case[1])
    assert result.status == "done"


def test_a_backup_folder_outside_the_roots_is_refused_before_any_work(tmp_path, library, make_svc, offset_case):
    original = digest(library.film)
    svc = make_svc(backup_dir=str(tmp_path / "backups"))
    with pytest.raises(PathNotAllowedError, match="backup_dir"):
        resync(svc, str(library.film), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert digest(library.film) == original and temps_in(library.root) == []
    assert not (tmp_path / "backups").exists()


# --- full disks ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 20 MB tmpfs (needs root to mount); skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Take all free space on ``disk`` but ``leave`` bytes."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler", "wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, max(free - leave, 0))


def disk_library(disk: Path, generated, make) -> tuple[Path, object]:
    film = disk / "Film.mkv"
    shutil.copyfile(generated.original.path, film)
    return film, make(roots=[str(disk)], space_margin_mb=1)


def test_too_little_space_is_a_clear_error_before_writing(small_disk, generated, make_svc, offset_case):
    film, svc = disk_library(small_disk, generated, make_svc)
    fill(small_disk, 2 << 20)
    with pytest.raises(DiskFullError) as info:
        resync(svc, str(film), str(offset_case[0]), language=None, timemap=offset_case[1])
    message = str(info.value)
    assert "not enough free space" in message and str(small_disk) in message and "need" in message
    assert digest(film) == digest(generated.original.path)
    assert sorted(p.name for p in small_disk.iterdir()) == ["Film.mkv", "filler"]


FILLING_WRAPPER = """\
#!/bin/sh
# Fills the disk right before the real {tool} writes its output ({trigger}).
case " $* " in
  *"{trigger}"*) {python} -c "import os,shutil; f=open('{disk}/filler2','wb'); \
os.posix_fallocate(f.fileno(), 0, max(shutil.disk_usage('{disk}').free - 65536, 1))" ;;
esac
exec {tool} "$@"
"""


# Fills the disk right after the real {tool} wrote the dub track: the in-kernel splice runs out.
FILLING_AFTER_WRAPPER = """\
#!/bin/sh
{tool} "$@"; code=$?
case " $* " in
  *"{trigger}"*) {python} -c "import os,shutil; f=open('{disk}/filler2','wb'); \
os.posix_fallocate(f.fileno(), 0, max(shutil.disk_usage('{disk}').free - 65536, 1))" ;;
esac
exit $code
"""


@pytest.mark.parametrize("tool,trigger,case,muxer", [("mkvmerge", "-o ", "offset", "mkvmerge"),
                                                     ("mkvmerge", ".dub.tmp --no-video", "offset", "auto"),
                                                     ("ffmpeg", "pipe:0", "pal", "auto")])
def test_a_disk_filling_up_while_writing_is_a_clear_error(small_disk, tmp_path, generated, make_svc, request,
                                                          tool, trigger, case, muxer):
    """Another program takes the space between the check and the write (mkvmerge's mux, the
    splice, the encoder)."""
    film = small_disk / "Film.mkv"
    shutil.copyfile(generated.original.path, film)
    wrapper = tmp_path / f"{tool}-filling"
    template = FILLING_AFTER_WRAPPER if muxer == "auto" and tool == "mkvmerge" else FILLING_WRAPPER
    wrapper.write_text(template.format(tool=shutil.which(tool), trigger=trigger, disk=small_disk,
                                       python=sys.executable))
    wrapper.chmod(0o755)
    svc = make_svc(roots=[str(small_disk)], muxer=muxer)
    svc.mkvmerge.executable = str(wrapper) if tool == "mkvmerge" else svc.mkvmerge.executable
    svc.ffmpeg.executable = str(wrapper) if tool == "ffmpeg" else svc.ffmpeg.executable
    dub, truth = request.getfixturevalue(f"{case}_case")
    with pytest.raises(DiskFullError, match="filled up while writing"):
        resync(svc, str(film), str(dub), language=None, timemap=truth)
    assert digest(film) == digest(generated.original.path)
    assert sorted(p.name for p in small_disk.iterdir()) == ["Film.mkv", "filler2"]


def test_a_non_matroska_original_becomes_mkv_in_replace_mode(library, make_svc, offset_case):
    mp4 = library.film.with_suffix(".mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(library.film), "-map", "0:v", "-map", "0:a:0", "-c", "copy",
                    str(mp4)], check=True)
    svc = make_svc()
    with pytest.raises(UsageError, match="already exists"):  # Film.mkv beside Film.mp4 is never overwritten
        resync(svc, str(mp4), str(offset_case[0]), language=None, timemap=offset_case[1])
    library.film.unlink()
    result = resync(svc, str(mp4), str(offset_case[0]), language=None, timemap=offset_case[1])
    assert result.output_path == str(library.film) and not mp4.exists()
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                          str(library.film)], capture_output=True, text=True).stdout.split()
    assert out == ["mpeg4", "aac", "ac3"]
