"""``syncdub resync ORIGINAL`` when the counterpart plugins find dubs in several languages:
the dubs are chosen as a job's counterparts stage chooses them (``counterparts.choose_dubs``:
a nameless dub's language from its tag or speech, the wanted languages, ambiguity within a
language, the blocklist unless --force), each is aligned (through the aligner's front
door), then every aligned one goes into the file in one write, with one rescan. A dub that
is rejected, held for review, ambiguous within its language, blocked or failing is reported
and the others go on."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import click

from ..counterparts import choose_dubs
from ..errors import AlignmentRejected, SyncDubError, UsageError
from ..media import Candidate, MediaItem
from ..plugins import call_each


@dataclass
class Choice:
    """What :func:`find_dubs` chose: a dub per language, and the languages left out and why."""

    chosen: dict[str, Candidate] = field(default_factory=dict)
    not_added: dict[str, str] = field(default_factory=dict)

    @property
    def several(self) -> bool:
        """More than one language, or a dub the blocklist took out (the several-dubs report says why)."""
        return len({*self.chosen, *self.not_added}) > 1 or any("rejected before" in t for t in self.not_added.values())


def find_dubs(services, original: str, force: bool = False) -> Choice:
    """The dubs to add to ``original``, chosen as the service chooses them."""
    item = MediaItem(path=str(Path(original).expanduser().resolve()))
    _, decision, blocked = choose_dubs(services, item, force=force)
    not_added = {lang: "several dubs match about equally: " + ", ".join(f"{c.path} ({c.score:.2f})" for c in cands)
                 + "; give one as DUBBED" for lang, cands in decision.ambiguous.items()}
    for lang, (cand, row) in blocked.items():
        not_added[lang] = (f"rejected before (job {row.get('job_id')}: {row.get('reason')}): {cand.path}; "
                           "`syncdub jobs blocklist --clear` or --force tries it again")
    return Choice(dict(decision.chosen), not_added)


def resync_several(services, original: str, choice: Choice, *, mode, force, dry_run, as_json, progress) -> None:
    """Align each chosen language's dub, then merge every aligned one in one write; report each."""
    from ..merge import align_pair, skipped_result
    from ..merge.multi import Dub, resync_many

    chosen, not_added = choice.chosen, dict(choice.not_added)
    results, dubs = {}, {}
    for lang, cand in sorted(chosen.items()):
        if not as_json:
            click.echo(f"dub {lang}: {cand.path} ({cand.finder}, score {cand.score:.2f})", err=True)
        try:
            plan, timemap = align_pair(services, original, cand.path, language=lang, mode=mode, force=force,
                                       progress=progress)
        except SyncDubError as exc:
            not_added[lang] = f"failed ({exc})"
            continue
        if timemap is None:
            results[lang] = skipped_result(plan)
        elif not timemap.aligned:
            verdict = "held for review" if timemap.verdict == "review" else "rejected"
            not_added[lang] = f"{verdict} ({timemap.reason})"
        else:
            dubs[lang] = Dub(cand.path, lang, timemap)
    if dubs and not dry_run:
        results.update(resync_many(services, original, dubs, mode=mode, force=force, progress=progress,
                                   on_wait=lambda why: click.echo(why, err=True)))
    _report(services, original, results, dubs if dry_run else {}, not_added, as_json)


def _report(services, original: str, results: dict, planned: dict, not_added: dict, as_json: bool) -> None:
    outputs = sorted({r.output_path for r in results.values() if r.status == "done"})
    if outputs:
        _rescan(services, original, outputs)
    if as_json:
        click.echo(json.dumps({"languages": {k: r.to_dict() for k, r in sorted(results.items())},
                               "planned": {k: d.timemap.summary() for k, d in sorted(planned.items())},
                               "not_added": not_added}, indent=2, ensure_ascii=False))
    else:
        for lang, result in sorted(results.items()):
            click.echo(f"{lang} {result.status}: {result.message}")
        for lang, dub in sorted(planned.items()):
            click.echo(f"{lang} planned (dry run, nothing written): {dub.timemap.summary()}")
        for lang, why in sorted(not_added.items()):
            click.echo(f"{lang} not added: {why}")
    if outputs or planned or any(r.status == "skipped" for r in results.values()):
        return
    why = "; ".join(f"{lang} {text}" for lang, text in sorted(not_added.items()))
    if any(text.startswith("rejected") for text in not_added.values()):
        raise AlignmentRejected(f"no dub added to {original}: {why}")
    raise (UsageError if all("DUBBED" in t for t in not_added.values()) else SyncDubError)(
        f"no dub added to {original}: {why}")


def _rescan(services, original: str, outputs: list[str]) -> None:
    """One rescan for the one write; the file is written either way, so a failure is only a note."""
    def skipped(why: str) -> None:
        click.echo(f"note: rescan failed: {why}", err=True)

    try:
        call_each(services.hook.syncdub_library_changed, paths=outputs, item=MediaItem(path=str(original)),
                  services=services, on_skip=skipped)
    except Exception as exc:  # noqa: BLE001 - only transient errors get here; nothing retries a CLI run
        skipped(f"{exc}; rescan the library in the media server")
