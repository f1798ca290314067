"""A knotted map (a tape dub's) rendered by the merge: no click, dip or pitch step at the knots."""
from __future__ import annotations

from benchmarks.render_artifacts import run

# A tape whose speed crosses 1 within the render: its knots' speeds lie within 1/4000 of 1,
# where no small fraction reaches them (merge/pcm.py); played at the nearest one, the
# crossfades dipped the 2.5 kHz tone by 3.3 dB and its pitch jumped 10.7 cents there.
CROSSING_ONE = ((0.0008, 60.0, -0.6),)


def test_knots_render_without_clicks_dips_or_pitch_steps():
    knotted = run(seconds=12.0, knot_step=1.0, terms=CROSSING_ONE)["knotted_map"]
    assert knotted["knots"] >= 10
    assert knotted["step_ratio"] < 1.05                 # no sample step larger than the tones' own
    assert knotted["hf_db_at_knots"] < -80              # nothing above 8 kHz where the tones have none
    for tone in ("440Hz", "2500Hz"):
        assert knotted[tone]["dip_db_at_knots"] > -0.5  # the crossfades add two copies in phase
        assert knotted[tone]["cents_max_at_knots"] < 3.0
