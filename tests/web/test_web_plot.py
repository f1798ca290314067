"""The time-map plot: segments, cuts and anchors drawn, residuals measured, rejected maps too."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from test_web_jobs import cut_map

from syncdub_companion.align.timemap import Anchor, Segment, TimeMap
from syncdub_companion.web import plot


def test_cuts_are_where_segments_do_not_join():
    assert plot.cuts_of(cut_map()) == [(31.5, 35.5, 30.0, 30.0)]
    one = TimeMap("aligned", 0.9, "", 1.0, [Segment(0, 10, 2, 12)])
    assert plot.cuts_of(one) == []


def test_residual_is_the_anchors_distance_from_the_map_in_ms():
    tm = cut_map()
    assert abs(plot.residual_ms(tm, 10.0, 11.504) - 4.0) < 1e-6
    assert plot.residual_ms(tm, 75.0, 80.0) is None  # outside every segment


def test_render_is_valid_svg_and_deterministic():
    first = plot.render_svg(cut_map())
    ET.fromstring(first)
    assert first == plot.render_svg(cut_map())
    assert b"1 cut(s)" in first and b"confidence 0.87" in first


def test_rejected_map_with_only_anchors_still_renders():
    tm = TimeMap("rejected", 0.1, "not the same content", 1.0, [], [Anchor(1, 5, 0.3, "speech")])
    svg = plot.render_svg(tm).decode()
    assert "rejected: not the same content" in svg
    assert "no anchors inside the segments" in svg


def test_a_review_map_is_headed_held_for_review_not_rejected():
    tm = TimeMap("review", 0.34, "weak audio, speech off", 1.0, cut_map().segments, cut_map().anchors)
    svg = plot.render_svg(tm).decode()
    assert "held for review: weak audio, speech off" in svg and "rejected" not in svg


def test_unknown_anchor_kinds_get_distinct_colours():
    seen: dict[str, str] = {}
    colours = {plot.kind_colour(k, seen) for k in ("chroma", "onset", "audio")}
    assert len(colours) == 3


def test_map_stored_without_anchors_says_so():
    tm = TimeMap("aligned", 0.9, "", 1.0, [Segment(0, 10, 2, 12)])
    assert "no anchors were stored with this map" in plot.render_svg(tm).decode()
