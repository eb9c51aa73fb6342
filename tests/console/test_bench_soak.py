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


@pytest.mark.parametrize(("argv", "says"), [
    (["--soak-seconds", "0"], "--soak-seconds: a positive number of seconds, not 0"),
    (["--soak-seconds", "nan"], "--soak-seconds: a positive number of seconds, not nan"),
    (["--soak-seconds", "inf"], "--soak-seconds: a positive number of seconds, not inf"),
    (["--runs", "0"], "--runs: at least 1, not 0"),
    (["--gpus", "-5"], "--gpus: at least 1, not -5"),  # was the demo config's traceback
    (["--models", "many"], "--models: not a whole number: 'many'"),
])
def test_bad_bench_options_are_usage_errors(capsys, argv, says):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert says in capsys.readouterr().err


def test_pitboard_bench_passes_its_options_on_in_their_order():
    """``pitboard bench --runs 3 --skip-views``: the value stays with its option (an
    argparse REMAINDER had made it ``3 --skip-views --runs``, a usage error)."""
    from console.cli.main import parse_args

    for argv in (["bench", "--runs", "3", "--skip-views"], ["bench", "--skip-views", "--runs", "3"],
                 ["--demo", "bench", "--quick"], ["bench"]):
        _, args, extra = parse_args(argv)
        assert args.command == "bench" and [*args.bench_args, *extra] == argv[argv.index("bench") + 1:]
