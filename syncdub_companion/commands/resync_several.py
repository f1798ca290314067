"""``syncdub resync ORIGINAL`` when the counterpart plugins find dubs in several languages:
each is aligned (through the aligner's front door), then every aligned one goes into the
file in one write, with one rescan. A dub that is rejected, held for review, ambiguous
within its language or failing is reported and the others go on."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from ..counterparts import collect, decide
from ..errors import AlignmentRejected, SyncDubError, UsageError
from ..languages import alpha2_code
from ..media import Candidate, MediaItem
from ..plugins import call_each


def find_dubs(services, original: str) -> tuple[dict[str, Candidate], dict[str, list[Candidate]]]:
    """The counterparts per language, ambiguity judged within a language: (chosen, ambiguous)."""
    item = MediaItem(path=str(Path(original).expanduser().resolve()))
    config = services.config
    # one spelling per language (a finder may say "ger", another "de")
    found = [replace(c, language=alpha2_code(c.language) or c.language) for c in collect(services, item)
             if c.score >= config.get("counterparts.min_score")]
    languages = sorted({c.language for c in found if c.language})
    decision = decide(found, languages, config.get("counterparts.min_score"), config.get("counterparts.ambiguity_margin"))
    return decision.chosen, decision.ambiguous


def several_languages(services, original: str) -> bool:
    """True when the plugins know dubs of more than one language for ``original``."""
    item = MediaItem(path=str(Path(original).expanduser().resolve()))
    minimum = services.config.get("counterparts.min_score")
    return len({alpha2_code(c.language) or c.language for c in collect(services, item)
                if c.language and c.score >= minimum}) > 1


def resync_several(services, original: str, *, mode, force, dry_run, as_json, progress) -> None:
    """Align each language's dub, then merge every aligned one in one write; report each."""
    from ..merge import align_pair, skipped_result
    from ..merge.multi import Dub, resync_many

    chosen, ambiguous = find_dubs(services, original)
    not_added = {lang: "several dubs match about equally: " + ", ".join(f"{c.path} ({c.score:.2f})" for c in cands)
                 + "; give one as DUBBED" for lang, cands in ambiguous.items()}
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
