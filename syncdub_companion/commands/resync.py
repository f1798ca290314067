"""``syncdub resync``: align, merge, verify and publish one file from the command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import langid
from ..cli import AppContext, config_options
from ..counterparts import collect
from ..errors import UsageError
from ..media import Candidate, MediaItem
from ..plugins import call_each
from ..roots import ensure_readable
from .resync_several import find_dubs, resync_several


def register(cli: click.Group) -> None:
    cli.add_command(resync_cmd)


@click.command("resync")
@config_options
@click.argument("original", type=click.Path(dir_okay=False))
@click.argument("dubbed", required=False, type=click.Path(dir_okay=False))
@click.option("--lang", "language", default=None, metavar="CODE",
              help="Language of the dub (ISO 639-1/639-2, e.g. de or ger); default: the dub's tag, else the "
                   "language its speech is identified as.")
@click.option("--mode", type=click.Choice(["replace", "beside", "folder"]), default=None,
              help="Where the merged file goes; default: library.output_mode.")
@click.option("--force", is_flag=True, help="Replace an existing synced track of this language.")
@click.option("--dry-run", is_flag=True, help="Align and print the plan; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def resync_cmd(app: AppContext, original, dubbed, language, mode, force, dry_run, as_json):
    """Sync the dub from DUBBED into ORIGINAL (a library file).

    Without DUBBED, the counterpart plugins are asked for one; when they know dubs in several
    languages (and no --lang), each is aligned and all are added in one write.
    """
    from ..merge import resync

    services = app.services()
    if dubbed is None and language is None:
        choice = find_dubs(services, original, force)
        if choice.several:
            with _ProgressBar(enabled=sys.stderr.isatty() and not as_json) as bar:
                resync_several(services, original, choice, mode=mode, force=force, dry_run=dry_run,
                               as_json=as_json, progress=bar)
            return
        if choice.chosen:
            [found] = choice.chosen.values()
            dubbed, language = found.path, found.language  # None: the track's tag, else its speech (below)
            if not as_json:
                click.echo(f"dub: {dubbed} ({found.finder}, score {found.score:.2f})", err=True)
    if dubbed is None:
        found = find_dub(services, original, language)
        dubbed, language = found.path, language or found.language
        if not as_json:
            click.echo(f"dub: {dubbed} ({found.finder}, score {found.score:.2f})", err=True)
    if language is None and Path(dubbed).expanduser().is_file():
        # the track's tag, checked by ear; an untagged track by its speech alone
        found = langid.check(services, ensure_readable(Path(dubbed).expanduser(), services.config, "dubbed"))
        language = found.language
        if found.note() and not as_json:
            click.echo(f"note: {found.note()}", err=True)
    with _ProgressBar(enabled=sys.stderr.isatty() and not as_json) as bar:
        # Another merge of this file (a job, another resync) finishes first; this one then
        # reads the file as that merge left it.
        result = resync(services, original, dubbed, language=language, mode=mode, force=force,
                        progress=bar, dry_run=dry_run, on_wait=lambda why: click.echo(why, err=True))
    if result.status == "done":
        _rescan(services, result)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif result.status == "planned":
        click.echo("\n".join(result.plan.describe()))
    else:
        click.echo(f"{result.status}: {result.message}")
        for note in result.plan.notes:
            click.echo(f"note: {note}")


def _rescan(services, result) -> None:
    """Tell the media servers; the file is written either way, so a failure is only a note."""
    def skipped(why: str) -> None:
        click.echo(f"note: rescan failed: {why}", err=True)

    try:
        call_each(services.hook.syncdub_library_changed, paths=[result.output_path],
                  item=MediaItem(path=str(result.plan.original)), services=services, on_skip=skipped)
    except Exception as exc:  # noqa: BLE001 - only transient errors get here; nothing retries a CLI run
        skipped(f"{exc}; rescan the library in the media server")


def find_dub(services, original: str, language: str | None) -> Candidate:
    """The best counterpart the plugins know for ``original``; UsageError when none or unsure."""
    item = MediaItem(path=str(Path(original).expanduser().resolve()))
    config = services.config
    found = [c for c in collect(services, item) if c.score >= config.get("counterparts.min_score")]
    if language:
        from ..merge.language import same_language

        found = [c for c in found if c.language is None or same_language(c.language, language)]
    if not found:
        raise UsageError(f"no dubbed counterpart found for {original}: give the dub as DUBBED "
                         "(syncdub resync ORIGINAL DUBBED)")
    found.sort(key=lambda c: c.score, reverse=True)
    if len(found) > 1 and found[0].score - found[1].score < config.get("counterparts.ambiguity_margin"):
        names = ", ".join(f"{c.path} ({c.score:.2f})" for c in found[:3])
        raise UsageError(f"several counterparts match {original} about equally: {names}; give one as DUBBED")
    return found[0]


class _ProgressBar:
    """A tqdm bar on stderr when it is a terminal; a no-op callable otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __enter__(self) -> "_ProgressBar":
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=100, unit="%", bar_format="{desc:<11} {bar} {n:.0f}% [{elapsed}]",
                            file=sys.stderr, leave=False)
        return self

    def __call__(self, percent: float, stage: str) -> None:
        if self.bar is not None:
            self.bar.set_description_str(stage)
            self.bar.update(percent - self.bar.n)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
