"""The bench's memory soak: its summary of RSS samples, and its bad input."""

from __future__ import annotations

import pytest

from console.cli.bench import _linear_slope, _series_summary, main


def test_summary_of_rss_samples_gives_start_end_max_and_slopes_per_hour():
    # 10 MB more every 600 s in the first half, flat in the second
    samples = [(0.0, 100.0), (600.0, 110.0), (1200.0, 120.0), (1800.0, 120.0),
               (2400.0, 120.0), (3000.0, 120.0)]
    out = _series_summary(samples)
    assert (out["start_mb"], out["end_mb"], out["max_mb"], out["samples"]) == (
        100.0, 120.0, 120.0, 6)
    assert out["slope_second_half_mb_per_hour"] == 0.0
    # least squares over all six (worked by hand): 22.3 MB per hour
    assert out["slope_mb_per_hour"] == 22.3
    assert _linear_slope([(0.0, 1.0), (10.0, 3.0)]) == pytest.approx(0.2)
    assert _linear_slope([(5.0, 1.0)]) is None
    assert _series_summary([]) == {"samples": 0}


def test_a_soak_of_no_time_is_refused_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--soak-seconds", "0"])
    assert exc.value.code == 2
    assert "--soak-seconds must be positive" in capsys.readouterr().err
