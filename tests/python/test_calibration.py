"""contactsim.calibration: the statistics it fits, the search, its bookkeeping and its errors
(the 05_calibration notebook is executed by test_notebooks.py).

Small and fast: 2% of the city for two months, two replicates, budgets of a few dozen runs.

    PYTHONPATH=build/python HDF5_USE_FILE_LOCKING=FALSE MPLBACKEND=Agg \\
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python/test_calibration.py
"""
import math
import pathlib

import numpy as np
import pytest

import contactsim
from contactsim.calibration import (DEFAULT_SCALES, DEFAULT_TARGETS, STATISTICS, CalibrationResult, calibrate,
                                    run_statistics)

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = "05_calibration"
BETA0 = "mechanisms.valence.beta0"
ETA = "mechanisms.attitude.eta_positive"
SEED = 1
UNTIL = "2020-02-29"
THREADS = 1          # small runs: one thread is fastest on a busy machine (results do not depend on it)
REPLICATES = 2


@pytest.fixture(scope="module")
def small():
    return contactsim.Scenario.load(ROOT / "scenarios" / "baseline.toml").override({"population.scale": 0.02})


def run(scenario, replicate=0):
    sim = contactsim.Simulation(scenario, seed=SEED, threads=THREADS, replicate=replicate)
    sim.run(until=UNTIL, progress=False)
    return sim


def mean_statistics(scenario, replicates=REPLICATES):
    runs = [run_statistics(run(scenario, r)) for r in range(replicates)]
    return {name: float(np.mean([s[name] for s in runs])) for name in STATISTICS}


# ------------------------------------------------------------------ run_statistics

def test_run_statistics_match_summary_and_agent_arrays(small):
    sim = run(small)
    stats = run_statistics(sim)
    assert set(stats) == set(STATISTICS)
    assert all(math.isfinite(v) for v in stats.values()), stats

    summary = sim.summary()
    assert stats["positive_negative_ratio"] == pytest.approx(
        summary["contacts_positive"].sum() / summary["contacts_negative"].sum(), rel=1e-12)
    assert 1.5 < stats["positive_negative_ratio"] < 6      # beta0 = 1.2 gives about 3 (DESIGN §9)

    # Mean outgroup warmth per resident, recomputed group by group from the agent arrays.
    warmth = sim.warmth.astype(np.float64)
    group = sim.group.astype(np.int64)
    groups = warmth.shape[1]
    outgroup = np.zeros(len(group))
    for g in range(groups):
        outgroup += np.where(group != g, warmth[:, g], 0.0)
    outgroup /= groups - 1
    assert stats["mean_outgroup_warmth"] == pytest.approx(outgroup.mean(), abs=1e-5)
    assert stats["get_on_well_share"] == pytest.approx((outgroup >= 0.5).mean(), abs=2 / len(group))

    # tests/run/test_patterns.cpp: recent intergroup contact (the two memories) against outgroup
    # warmth; the contact–prejudice correlation is its negative.
    contact = sim.agents("positive_memory").astype(np.float64) + sim.agents("negative_memory").astype(np.float64)
    r_warmth = np.corrcoef(contact, outgroup)[0, 1]
    assert stats["contact_prejudice_correlation"] == pytest.approx(-r_warmth, abs=1e-6)
    assert stats["contact_prejudice_correlation"] == pytest.approx(np.corrcoef(contact, 1 - outgroup)[0, 1],
                                                                   abs=1e-6)
    assert -1 <= stats["contact_prejudice_correlation"] < 0   # contact goes with warmth


def test_run_statistics_rejects_non_simulations():
    with pytest.raises(TypeError, match="Simulation"):
        run_statistics("not a simulation")


# ------------------------------------------------------------------ a calibration and its bookkeeping

@pytest.fixture(scope="module")
def fitted(small):
    return calibrate(small, {BETA0: (0.4, 1.8)}, replicates=REPLICATES, seed=SEED, until=UNTIL, threads=THREADS,
                     max_evaluations=10, x0={BETA0: 1.6})


def test_result_best_is_the_minimum_of_the_history(fitted):
    h = fitted.history
    assert isinstance(fitted, CalibrationResult)
    assert 2 <= len(h) <= 10 and fitted.evaluations == len(h)
    assert h.index.name == "evaluation" and list(h.index) == list(range(len(h)))
    assert h[BETA0].iloc[0] == 1.6 and fitted.initial == {BETA0: 1.6}
    assert h[BETA0].between(0.4, 1.8).all()
    assert not h[BETA0].duplicated().any(), "a cached point was evaluated twice"
    losses = h["loss"].to_numpy()
    assert np.isfinite(losses).all()
    assert fitted.loss <= fitted.initial_loss == losses[0]
    assert (fitted.loss <= losses).all()
    assert fitted.loss == losses.min()
    np.testing.assert_allclose(h["best_loss"], np.minimum.accumulate(losses))
    best_row = h.iloc[int(np.argmin(losses))]
    assert fitted.best == {BETA0: best_row[BETA0]}
    assert fitted.statistics == {name: best_row[name] for name in STATISTICS}
    assert fitted.loss < losses[0] / 4      # starting far off, the search gets much closer


def test_loss_is_the_scaled_squared_deviation(fitted):
    assert fitted.targets == {name: (target, DEFAULT_SCALES[name]) for name, target in DEFAULT_TARGETS.items()}
    for _, row in fitted.history.iterrows():
        expected = sum(((row[name] - target) / scale) ** 2 for name, (target, scale) in fitted.targets.items())
        assert row["loss"] == pytest.approx(expected, rel=1e-12)
    table = fitted.table()
    assert list(table.index) == list(DEFAULT_TARGETS)
    assert list(table.columns) == ["target", "scale", "initial", "fitted", "deviation"]
    assert (table["deviation"] ** 2).sum() == pytest.approx(fitted.loss, rel=1e-12)


def test_replicate_history_and_common_random_numbers(fitted):
    """Each mean is that of the replicate runs, and re-running the calibrated scenario with the
    same seed and replicates reproduces the statistics exactly."""
    reps = fitted.replicate_history
    assert len(reps) == REPLICATES * fitted.evaluations
    means = reps.groupby("evaluation")[list(STATISTICS)].mean()
    np.testing.assert_allclose(means.to_numpy(), fitted.history[list(STATISTICS)].to_numpy(), rtol=1e-12)
    assert fitted.scenario.to_dict()["mechanisms"]["valence"]["beta0"] == fitted.best[BETA0]
    again = mean_statistics(fitted.scenario)
    for name in STATISTICS:
        assert again[name] == pytest.approx(fitted.statistics[name], rel=1e-9), name


def test_plot_shows_loss_and_best_so_far(fitted):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = fitted.plot()
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), fitted.history["loss"])
    assert "best" in repr(fitted) or "converged" in repr(fitted)
    fig, own = plt.subplots()
    assert fitted.plot(ax=own) is own
    plt.close("all")


# ------------------------------------------------------------------ recovering a planted parameter

@pytest.fixture(scope="module")
def planted_ratio(small):
    """The positive:negative ratio at beta0 = 1.0 (replicate means): a target with a known answer."""
    return mean_statistics(small.override({BETA0: 1.0}))["positive_negative_ratio"]


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell"])
def test_recovers_a_planted_beta0(small, planted_ratio, method):
    result = calibrate(small, {BETA0: (0.4, 1.8)}, targets={"positive_negative_ratio": (planted_ratio, 0.05)},
                       replicates=REPLICATES, seed=SEED, until=UNTIL, threads=THREADS, method=method,
                       max_evaluations=16, x0={BETA0: 1.6})
    assert abs(result.best[BETA0] - 1.0) < 0.15, result.history
    assert result.statistics["positive_negative_ratio"] == pytest.approx(planted_ratio, abs=0.1)
    assert result.loss <= result.initial_loss


def test_differential_evolution_within_budget(small, planted_ratio):
    result = calibrate(small, {BETA0: (0.4, 1.8)}, targets={"positive_negative_ratio": planted_ratio},
                       replicates=1, seed=SEED, until=UNTIL, threads=THREADS, method="differential_evolution",
                       max_evaluations=14)
    assert 2 <= result.evaluations <= 14
    assert result.initial == {BETA0: pytest.approx(1.1)}          # the middle of the bounds
    assert result.loss == result.history["loss"].min() <= result.initial_loss
    assert abs(result.best[BETA0] - 1.0) < 0.4


def test_two_parameters_and_a_custom_target(small):
    targets = {"positive_negative_ratio": (3.0, 0.5), "mean_outgroup_warmth": (0.59, 0.01)}
    result = calibrate(small, {BETA0: (0.8, 1.6), ETA: (0.001, 0.008)}, targets=targets, replicates=1,
                       until=UNTIL, threads=THREADS, max_evaluations=8)
    h = result.history
    assert set(result.best) == {BETA0, ETA} and len(h) <= 8
    assert h[ETA].between(0.001, 0.008).all() and h[BETA0].between(0.8, 1.6).all()
    assert result.targets == targets
    assert list(result.table().index) == list(targets)
    assert result.loss <= result.initial_loss


# ------------------------------------------------------------------ bad arguments

def test_unknown_statistic_lists_the_known_ones(small):
    with pytest.raises(ValueError, match="unknown statistic.*'ratio'") as error:
        calibrate(small, {BETA0: (0.4, 1.8)}, targets={"ratio": 3.0})
    for name in STATISTICS:
        assert name in str(error.value)


def test_bounds_must_be_increasing(small):
    with pytest.raises(ValueError, match=r"mechanisms\.valence\.beta0.*lower bound"):
        calibrate(small, {BETA0: (1.8, 0.4)})
    with pytest.raises(ValueError, match=r"mechanisms\.valence\.beta0"):
        calibrate(small, {BETA0: (1.0, 1.0)})
    with pytest.raises(TypeError, match=r"mechanisms\.valence\.beta0"):
        calibrate(small, {BETA0: 1.0})


def test_unknown_parameter_key_raises_the_scenario_error(small):
    with pytest.raises(contactsim.ScenarioError, match=r"mechanisms\.valence\.beta_zero") as error:
        calibrate(small, {"mechanisms.valence.beta_zero": (0.4, 1.8)})
    assert "beta0" in str(error.value)                         # the error lists the keys there are
    # A bound outside the parameter's valid range fails up front too, naming the key.
    with pytest.raises(contactsim.ScenarioError, match=r"mechanisms\.valence\.beta0"):
        calibrate(small, {BETA0: (0.4, 99.0)})


def test_other_bad_arguments(small):
    ok = {BETA0: (0.4, 1.8)}
    with pytest.raises(ValueError, match="replicates"):
        calibrate(small, ok, replicates=0)
    with pytest.raises(TypeError, match="replicates"):
        calibrate(small, ok, replicates=1.5)
    with pytest.raises(TypeError, match="parameters must be a dict"):
        calibrate(small, [(BETA0, 0.4, 1.8)])
    with pytest.raises(ValueError, match="parameters is empty"):
        calibrate(small, {})
    with pytest.raises(TypeError, match="targets must be a dict"):
        calibrate(small, ok, targets=[("positive_negative_ratio", 3.0)])
    with pytest.raises(ValueError, match="scale must be a positive"):
        calibrate(small, ok, targets={"positive_negative_ratio": (3.0, 0.0)})
    with pytest.raises(ValueError, match="unknown method 'BFGS'"):
        calibrate(small, ok, method="BFGS")
    with pytest.raises(ValueError, match="outside its bounds"):
        calibrate(small, ok, x0={BETA0: 2.5})
    with pytest.raises(ValueError, match="not among the parameters"):
        calibrate(small, ok, x0={ETA: 0.004})
    with pytest.raises(ValueError, match="max_evaluations"):
        calibrate(small, ok, max_evaluations=0)
    with pytest.raises(TypeError, match="Scenario"):
        calibrate(42, ok)
