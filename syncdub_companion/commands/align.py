"""syncdub align: print the time map of a dubbed release onto the original."""
from __future__ import annotations

import json

import click

from ..cli import AppContext, config_options


def register(cli: click.Group) -> None:
    cli.add_command(align_cmd)


@click.command("align")
@config_options
@click.argument("original", type=click.Path(dir_okay=False))
@click.argument("dubbed", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print only the time map as JSON.")
@click.option("--orig-track", type=int, default=None, help="Audio track of ORIGINAL (0-based among audio tracks).")
@click.option("--dub-track", type=int, default=None, help="Audio track of DUBBED (0-based among audio tracks).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None, help="Where speech models run.")
@click.option("--speech", type=click.Choice(["auto", "always", "never"]), default=None, help="Use speech anchors.")
@click.option("--read", type=click.Choice(["full", "probe"]), default=None,
              help="full: decode both tracks; probe: prove the map from windows first (align.read).")
@click.option("--details", is_flag=True, help="With --json: include anchors and diagnostics.")
@click.pass_obj
def align_cmd(app: AppContext, original, dubbed, as_json, orig_track, dub_track, device, speech, read, details):
    """Compute how DUBBED's timeline maps onto ORIGINAL's. Writes nothing."""
    from ..alignment import align_files

    services = app.services(read_only=True)
    result = align_files(services, original, dubbed, orig_track=orig_track, dub_track=dub_track,
                         device=device, speech=speech, read=read)
    if as_json:
        click.echo(json.dumps(result.to_dict(with_anchors=details)))
        return
    click.echo(_summary(result))


def _summary(result) -> str:
    lines = [f"verdict:    {result.verdict}  (confidence {result.confidence:.2f})",
             f"reason:     {result.reason}",
             f"speed:      {result.speed:.6f} dub s per original s"]
    for i, seg in enumerate(result.segments, 1):
        offset = seg.orig_start - seg.dub_start
        lines.append(f"segment {i:>2}: dub {_t(seg.dub_start)}-{_t(seg.dub_end)} -> "
                     f"original {_t(seg.orig_start)}-{_t(seg.orig_end)}  (offset {offset:+.3f} s)")
    return "\n".join(lines)


def _t(seconds: float) -> str:
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h)}:{int(m):02d}:{s:06.3f}"
