"""``syncdub jobs`` (list, show, retry, cancel, approve, reject, prune, blocklist) and ``syncdub scan`` (backfill)."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any, Callable

import click

from ..cli import AppContext, config_options, echo_rows
from ..errors import UsageError


def register(cli: click.Group) -> None:
    cli.add_command(jobs_group)
    cli.add_command(scan_cmd)


@click.group("jobs", invoke_without_command=True)
@config_options
@click.option("--state", "states", multiple=True, metavar="STATE", help="Only jobs in this state (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def jobs_group(ctx: click.Context, states, limit, as_json):
    """List jobs newest first; subcommands show, retry and cancel one, prune removes old finished ones."""
    if ctx.invoked_subcommand is not None:
        return
    from .. import jobs

    unknown = [s for s in states if s not in jobs.STATES]
    if unknown:
        raise UsageError(f"unknown state {unknown[0]!r}; one of {', '.join(jobs.STATES)}")
    store = ctx.obj.services().store
    rows = jobs.list_jobs(store, states, limit)
    # Which file was read, on stderr so --json stays parseable: a relative data_dir once
    # made `--config` from another folder read (and create) a different, empty store.
    click.echo(f"job store: {store.path}", err=True)
    echo_rows(rows, _line, as_json=as_json, data=_public,
              empty=f"no jobs{' in this state' if states else ''} in {store.path}")


def _public(job) -> dict:
    """The record without the bulky or internal fields."""
    return {k: v for k, v in {"id": job.id, **job.to_dict()}.items() if k not in ("ready_probe", "worker", "claimed_at")}


def _line(job) -> str:
    when = dt.datetime.fromtimestamp(job.updated_at).strftime("%Y-%m-%d %H:%M")
    name = os.path.basename(job.original or "") or (job.event or {}).get("title") or "?"
    lang = job.language or "-"
    return f"{job.id:>5}  {job.state:<16} {job.progress or 0:>5.1f}%  {lang:<4} {when}  {name}"


@jobs_group.command("show")
@config_options
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
@click.pass_obj
def jobs_show(app: AppContext, job_id, as_json):
    """Print one job: state, files, candidates, result, error and log."""
    from .. import jobs

    job = jobs.get(app.services().store, job_id)
    if as_json:
        click.echo(json.dumps(_public(job), indent=2))
        return
    click.echo(_line(job))
    for key in ("source", "original", "dubbed", "language", "mode", "attempts", "stage", "error"):
        if getattr(job, key) not in (None, ""):
            click.echo(f"  {key}: {getattr(job, key)}")
    for cand in job.candidates or []:
        click.echo(f"  candidate {cand['score']:.2f} {cand.get('language') or '?'} [{cand['finder']}] {cand['path']}")
    for language, entry in sorted((job.maps or {}).items()):
        timemap = job.timemap(language)
        click.echo(f"  map {language}: {entry.get('status')}" + (f", {timemap.summary()}" if timemap else "")
                   + (f" ({entry['reason']})" if entry.get("reason") and not timemap else ""))
    if job.awaiting_review():
        click.echo(f"  awaiting review: {', '.join(job.awaiting_review())} "
                   f"(syncdub jobs approve {job.id} / syncdub jobs reject {job.id})")
    if job.result:
        click.echo("  result: " + json.dumps(job.result, sort_keys=True))
    for line in job.log or []:
        click.echo(f"  | {line}")


@jobs_group.command("retry")
@config_options
@click.argument("job_id", type=int)
@click.option("--dubbed", type=click.Path(dir_okay=False), default=None,
              help="Use this dub (e.g. one of a needs_review job's candidates).")
@click.option("--language", default=None, help="Language of --dubbed when its name does not say.")
@click.pass_obj
def jobs_retry(app: AppContext, job_id, dubbed, language):
    """Queue a finished job again from the start."""
    from .. import jobs
    from ..roots import ensure_readable

    services = app.services()
    if dubbed:
        # a dub is only read: it may come from a dub root outside library.roots
        dubbed = str(ensure_readable(dubbed, services.config, "dubbed file"))
        jobs.update(services.store, job_id, dubbed=dubbed, **({"language": language} if language else {}))
    jobs.retry(services.store, job_id)
    click.echo(f"job {job_id} queued")


def _job_action(name: str, help: str, said: Callable[[int, Any], str]) -> click.Command:
    """``syncdub jobs NAME JOB_ID``: calls ``jobs.NAME(store, job_id)`` and prints ``said(job_id, its result)``."""

    @jobs_group.command(name, help=help)
    @config_options
    @click.argument("job_id", type=int)
    @click.pass_obj
    def command(app: AppContext, job_id):
        from .. import jobs

        click.echo(said(job_id, getattr(jobs, name)(app.services().store, job_id)))

    return command


jobs_cancel = _job_action("cancel", "Cancel a queued job, or stop a running one at its next step.",
                          lambda job_id, _: f"job {job_id} cancelled")
jobs_approve = _job_action(
    "approve", "Merge the time map the aligner held for review (needs_review), as stored: nothing is aligned again.",
    lambda job_id, languages: f"job {job_id}: approved the map of {', '.join(languages)}; queued to merge it")
jobs_reject = _job_action(
    "reject", "Refuse the time map held for review: the job ends rejected and the pair goes on the blocklist.",
    lambda job_id, languages: f"job {job_id}: rejected the map of {', '.join(languages)}; the pair is on the blocklist")


@jobs_group.command("prune")
@config_options
@click.pass_obj
def jobs_prune(app: AppContext):
    """Remove finished jobs past jobs.keep_days / jobs.keep_finished now (workers do it as jobs end)."""
    from .. import jobs

    services = app.services()
    removed = jobs.prune_by_settings(services.store, services.config)
    click.echo(f"pruned {removed} finished job(s); {services.store.count(jobs.TABLE)} job(s) stored")


@jobs_group.command("blocklist")
@config_options
@click.option("--original", type=click.Path(dir_okay=False), default=None, help="Only this original's pairs.")
@click.option("--clear", is_flag=True, help="Remove the listed pairs, so scans and webhooks try them again.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def jobs_blocklist(app: AppContext, original, clear, as_json):
    """List the pairs the aligner rejected, which scans and webhooks skip; --clear forgets them."""
    from .. import jobs

    store = app.services().store
    if clear:
        click.echo(f"cleared {jobs.unblock(store, original=original)} blocked pair(s)")
        return
    echo_rows(jobs.blocklist(store, original), _blocked_line, as_json=as_json, empty="no rejected pairs on the blocklist")


def _blocked_line(row: dict) -> str:
    when = dt.datetime.fromtimestamp(row.get("at") or 0).strftime("%Y-%m-%d %H:%M")
    return (f"{when}  {row.get('language') or '-':<4} job {row.get('job_id')}  {row['original']}\n"
            f"          <- {row['dubbed']}  ({row.get('reason') or 'rejected'})")


@click.command("scan")
@config_options
@click.argument("root", required=False, type=click.Path(file_okay=False))
@click.option("--dry-run", is_flag=True, help="Only show what would be queued; reads names and folders, no media.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON: [{original, dubbed, language, score}].")
@click.option("--language", "languages", multiple=True, help="Only this language (repeatable); default library.languages.")
@click.option("--force", is_flag=True, help="Queue even originals that already had a job for the language, "
              "and pairs on the blocklist (rejected before).")
@click.pass_obj
def scan_cmd(app: AppContext, root, dry_run, as_json, languages, force):
    """Find originals lacking a wanted dub under ROOT (default: every library root) and queue them."""
    from ..pipeline import scan

    services = app.services()
    report = _plan_with_bar(services, root, languages)
    if dry_run:
        scan.classify(services, report)
    else:
        scan.queue(services, report, force=force)
    if as_json:
        rows = [p.to_dict() for p in report.planned]
        click.echo(json.dumps(rows if dry_run else {"planned": rows, "queued": report.queued}, indent=2))
        return
    for pair, status in zip(report.planned, report.status):
        mark = "" if status == "new" else f" ({status})"
        click.echo(f"{pair.score:.2f} {pair.language}  {pair.original}{mark}\n          <- {pair.dubbed}")
    for amb in report.ambiguous:
        click.echo(f"ambiguous {amb['language']}  {amb['original']} ({len(amb['candidates'])} candidates)")
    if dry_run:
        would = len(report.planned) if force else report.counts()["new"]
        verb = f"would queue {would} of"
    else:
        verb = f"queued {len(report.queued)} of"
    click.echo(f"{report.originals} originals scanned; {verb} {len(report.planned)} pairs "
               f"({report.summary()}); {len(report.ambiguous)} ambiguous", err=True)


def _plan_with_bar(services, root, languages):
    """Run the plan with a tqdm bar on a terminal (stderr), silently otherwise."""
    from tqdm import tqdm

    from ..pipeline import scan

    bar = tqdm(unit="file", desc="scanning", disable=not sys.stderr.isatty(), file=sys.stderr)
    try:
        return scan.plan(services, root, languages, progress=bar.update,
                         total=lambda n: setattr(bar, "total", n) or bar.refresh())
    finally:
        bar.close()
