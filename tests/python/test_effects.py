"""contactsim.effects: paired effects over time agree with the run files read by hand; the
window starts at the first day a counterfactual differs; traps (a policy after the run's end,
a counterfactual that changes nothing, too few venues or residents) warn and are flagged; the
effect plots draw those numbers."""
import pathlib
import shutil
import warnings

import h5py
import matplotlib

matplotlib.use("Agg")  # before pyplot: tests never open windows

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import contactsim  # noqa: E402
from contactsim import plotting  # noqa: E402
from contactsim.effects import FEW_VENUES, EffectWarning, _few_venues, contrast  # noqa: E402
from conftest import iso_dates, run_cli, small_ensemble_spec  # noqa: E402

REPLICATES = 3
SCALE = 0.02
CLOSED_ON = "2020-03-10"   # inside the third monthly record (March)
WARD = "Lightwood North and Normacot"


def close_centres(date: str) -> str:
    return f'{{ "timeline" = [ {{ kind = "close", date = {date}, venue_type = "community_centre" }} ] }}'


COUNTERFACTUALS = """[[counterfactuals]]
name = "closed"
overrides = {closed}

[[counterfactuals]]
name = "late"
overrides = {late}

[[counterfactuals]]
name = "nothing"
overrides = {{ "timeline" = [ {{ kind = "budget", date = 2020-02-10, venue_type = "community_centre", change = 0.0 }} ] }}
"""


@pytest.fixture(scope="module")
def master(cli, source_dir, tmp_path_factory) -> pathlib.Path:
    """Baseline; centres closed on CLOSED_ON; closed after the runs end; a 0% budget change."""
    directory = tmp_path_factory.mktemp("effects")
    spec = directory / "spec.toml"
    body = COUNTERFACTUALS.format(closed=close_centres(CLOSED_ON), late=close_centres("2021-04-01"))
    spec.write_text(small_ensemble_spec("effects test", source_dir / "scenarios/stoke_on_trent.toml", seed=11,
                                        replicates=REPLICATES, until="2020-04-30", scale=SCALE, body=body),
                    encoding="utf-8")
    run_cli(cli, "ensemble", spec, "-o", directory / "out", "-q")
    return directory / "out" / "ensemble.h5"


@pytest.fixture(scope="module")
def table(master) -> pd.DataFrame:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = contactsim.effects(master)
    frame.attrs["warnings"] = [str(w.message) for w in caught if issubclass(w.category, EffectWarning)]
    return frame


def run_arrays(master: pathlib.Path, scenario: str, name: str) -> list[np.ndarray]:
    """/series/<name> of each replicate of `scenario`, read with h5py."""
    runs = master.parent / "runs"
    out = []
    for r in range(REPLICATES):
        with h5py.File(runs / f"{scenario}_r{r:03d}.h5", "r") as f:
            out.append(f[f"series/{name}"][()].astype(np.float64))
    return out


def record_dates(master: pathlib.Path) -> list[str]:
    with h5py.File(master.parent / "runs/baseline_r000.h5", "r") as f:
        return iso_dates(f["series/time"])


def row(frame, scenario, metric, ward="all", group="all", time=None) -> pd.Series:
    rows = frame[(frame.scenario == scenario) & (frame.metric == metric) & (frame.ward == ward) & (frame.group == group)]
    if time is not None:
        rows = rows[rows.time == pd.Timestamp(time)]
    assert len(rows) >= 1, (scenario, metric, ward, group, time)
    return rows.sort_values("time").iloc[-1]


def t_interval(d: np.ndarray) -> tuple[float, float, float]:
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return d.mean(), d.mean() - half, d.mean() + half


# ----------------------------------------------------------------------------- numbers

def test_the_window_opens_at_the_record_holding_the_first_difference(table, master):
    dates = record_dates(master)
    closed = table[table.scenario == "closed"]
    march = next(d for d in dates if d >= CLOSED_ON)
    assert set(closed.window_start) == {pd.Timestamp(march)}
    assert sorted(closed.time.unique()) == [pd.Timestamp(d) for d in dates if d >= march]


def test_count_effects_are_paired_differences_per_resident_since_the_first_difference(table, master):
    dates = record_dates(master)
    first = next(k for k, d in enumerate(dates) if d >= CLOSED_ON)
    base = run_arrays(master, "baseline", "contacts_positive")
    cut = run_arrays(master, "closed", "contacts_positive")
    base_pop = run_arrays(master, "baseline", "population")
    cut_pop = run_arrays(master, "closed", "population")
    last = len(dates) - 1
    per_resident = [c[first:].sum() / cp[last].sum() - b[first:].sum() / bp[last].sum()
                    for b, c, bp, cp in zip(base, cut, base_pop, cut_pop)]
    mean, low, high = t_interval(np.array(per_resident))
    got = row(table, "closed", "contacts_positive")
    assert got.difference == pytest.approx(mean, rel=1e-9)
    assert (got.ci_low, got.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
    assert got.sd == pytest.approx(np.std(per_resident, ddof=1), rel=1e-9) and got.n == REPLICATES
    assert got.difference < 0, "closing the centres removes their encounters"
    # Scaled to the real city: the encounters lost, divided by the population scale.
    real = [(c[first:].sum() - b[first:].sum()) / SCALE for b, c in zip(base, cut)]
    assert got.difference_real == pytest.approx(np.mean(real), rel=1e-9)
    assert got.units == "encounters per resident" and got.method == "paired"


def test_level_effects_and_the_baselines_own_change_in_one_ward(table, master):
    dates = record_dates(master)
    first = next(k for k, d in enumerate(dates) if d >= CLOSED_ON)
    with h5py.File(master.parent / "runs/baseline_r000.h5", "r") as f:
        w = [x.decode() for x in f["series/ward"][()]].index(WARD)
        groups = [x.decode() for x in f["series/group"][()]]
    g = groups.index("asian")
    base = run_arrays(master, "baseline", "get_on_well_share")
    cut = run_arrays(master, "closed", "get_on_well_share")
    last = len(dates) - 1
    d = np.array([c[last, w, g] - b[last, w, g] for b, c in zip(base, cut)])
    got = row(table, "closed", "get_on_well_share", ward=WARD, group="asian")
    assert got.difference == pytest.approx(d.mean(), abs=1e-7)
    change = np.mean([b[last, w, g] - b[first - 1, w, g] for b in base])
    assert got.baseline_change == pytest.approx(change, abs=1e-7)
    assert got.baseline_level == pytest.approx(np.mean([b[last, w, g] for b in base]), abs=1e-7)


def test_windows_end_and_whole(master):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EffectWarning)
        end = contactsim.effects(master, metrics=["contacts_positive"], window="end", by="ward")
        whole = contactsim.effects(master, metrics=["contacts_positive"], window="whole", by=())
    dates = record_dates(master)
    assert set(end.time) == {pd.Timestamp(dates[-1])} and set(end.group) == {"all"}
    assert set(whole.ward) == {"all"} and set(whole.window_start) == {pd.Timestamp(dates[0])}
    # Before the closure the paired runs are identical, so counting from the start adds nothing.
    city_end = row(end, "closed", "contacts_positive")
    city_whole = row(whole, "closed", "contacts_positive")
    assert city_end.difference < 0 and city_whole.difference == pytest.approx(city_end.difference, rel=1e-12)


def test_bad_arguments_say_what_is_valid(master):
    with pytest.raises(ValueError, match="window: expected one of after_first_difference, end, whole"):
        contactsim.effects(master, window="later")
    with pytest.raises(ValueError, match="unknown metric 'happiness'; expected one of: outgroup_warmth"):
        contactsim.effects(master, metrics=["happiness"])
    with pytest.raises(ValueError, match=r"by: expected a subset of \('ward', 'group'\)"):
        contactsim.effects(master, by=("venue_type",))


# ----------------------------------------------------------------------------- traps

def test_a_policy_after_the_runs_end_warns_and_is_flagged(table):
    assert any("'late' differs from the baseline only from 2021-04-01, after the runs' last record" in w
               for w in table.attrs["warnings"]), table.attrs["warnings"]
    late = table[table.scenario == "late"]
    assert late.after_end.all() and late.flagged.all()
    assert not table[table.scenario == "closed"].after_end.any()


def test_a_counterfactual_that_changes_nothing_warns_and_is_flagged(table):
    assert any("'nothing' never differs from the baseline" in w for w in table.attrs["warnings"])
    nothing = table[table.scenario == "nothing"]
    assert nothing.no_difference.all() and (nothing.difference == 0).all()
    assert not table[(table.scenario == "closed") & (table.metric == "contacts_positive")
                     & (table.ward == "all")].no_difference.any()


def test_wards_with_few_changed_venues_are_flagged(table, master):
    with h5py.File(master.parent / "runs/baseline_r000.h5", "r") as f:
        venues = pd.DataFrame({k: [v.decode() for v in f["venues"][k]] for k in ("type", "ward")})
    centres = venues[venues.type == "community_centre"].ward.value_counts()
    closed = table[(table.scenario == "closed") & (table.ward != "all")]
    expected = {ward: centres.get(ward, 0) < FEW_VENUES for ward in closed.ward.unique()}
    assert any(expected.values()), "at 2% of the city some ward has fewer than three centres"
    assert closed.groupby("ward").few_venues.all().to_dict() == expected
    assert any("'closed' changes fewer than 3 venues in" in w for w in table.attrs["warnings"])


def test_cells_with_few_residents_are_flagged(table):
    small = table[table.residents < 30]
    assert len(small) and small.few_residents.all() and not table[table.residents >= 30].few_residents.any()
    assert any("fewer than 30 simulated residents" in w for w in table.attrs["warnings"])


def test_python_compare_warns_about_the_same_traps(master):
    with pytest.warns(EffectWarning) as caught:
        frame = contactsim.compare(master, metrics=["contacts_positive"])
    messages = " ".join(str(w.message) for w in caught)
    assert "'late' differs from the baseline only from 2021-04-01" in messages
    assert "'nothing' never differs from the baseline" in messages
    assert frame[frame.scenario == "late"].after_end.all()
    assert frame[frame.scenario == "nothing"].no_difference.all()
    assert not frame[frame.scenario == "closed"].after_end.any()


def test_contrast_finds_the_earliest_differing_item():
    base = '[simulation]\nstart = 2020-01-01\nseed = 1\n[[timeline]]\nkind = "festival"\ndate = 2020-06-01\n'
    cut = base + '[[timeline]]\nkind = "close"\ndate = 2021-04-01\nvenue_type = "park"\n' \
                 '[[timeline]]\nkind = "close"\ndate = 2020-09-01\nvenue_type = "market"\n'
    assert str(contrast(base, cut).first_difference) == "2020-09-01"
    assert contrast(base, base.replace("seed = 1", "seed = 2")).first_difference is None
    shy = base + '[mechanisms.valence]\nbeta0 = 1.0\n'
    assert str(contrast(base, shy).first_difference) == "2020-01-01", "a setting differs from the start"


# ----------------------------------------------------------------------------- figures

@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_effects_draws_each_scenarios_ribbon_per_ward(table):
    wards = ["all", WARD]
    axes = plotting.plot_effects(table, "contacts_positive", facet="ward", facets=wards,
                                 scenarios=["closed"])
    assert [ax.get_title() for ax in axes] == wards
    city = table[(table.scenario == "closed") & (table.metric == "contacts_positive") & (table.ward == "all")
                 & (table.group == "all")].sort_values("time")
    line = axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), city.difference.values)
    assert "encounters per resident" in axes[0].get_ylabel()
    assert "mean of 3 replicates" in axes[0].figure._suptitle.get_text()


def test_forest_plot_shows_every_ward_with_its_interval(table):
    ax = plotting.forest_plot(table, "contacts_positive", scenario="closed")
    rows = table[(table.scenario == "closed") & (table.metric == "contacts_positive") & (table.group == "all")]
    last = rows[rows.time == rows.time.max()]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(plotting.CITY_LABEL if w == "all" else w for w in last.ward)
    assert labels[-1] == plotting.CITY_LABEL, "the city on top"
    assert "encounters per resident" in ax.get_xlabel()
    assert any(line.get_xdata()[0] == 0 for line in ax.get_lines()), "a zero line"


def test_plot_effects_refuses_an_unknown_metric(table):
    with pytest.raises(ValueError, match="no rows for metric 'happiness'"):
        plotting.plot_effects(table, "happiness")


def test_the_cli_compare_prints_the_same_warnings(cli, master):
    result = run_cli(cli, "compare", master, "--metric", "contacts_positive")
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any(line.startswith("warning: late: differs from the baseline only from 2021-04-01, after the runs' "
                               "last record (2020-04-30)") for line in lines), result.stderr
    assert any(line.startswith("warning: nothing: never differs from the baseline") for line in lines), result.stderr
    assert not any(line.startswith("warning: closed") for line in lines), "a real effect is not warned about"
    assert "contacts_positive" in result.stdout, "the comparison is still printed"


def test_effects_agree_with_the_cli_compare_where_they_measure_the_same(master):
    """compare (C++) takes levels at the last record and counts over the whole run: effects with
    window="whole" at the last record, its real-scale counts times the scale, are those numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EffectWarning)
        fx = contactsim.effects(master, metrics=["get_on_well_share", "contacts_positive"], window="whole")
        cmp = contactsim.compare(master, metrics=["get_on_well_share", "contacts_positive"])
    for ward, group in [("all", "all"), (WARD, "all"), (WARD, "asian")]:
        expected = cmp[(cmp.scenario == "closed") & (cmp.ward == ward) & (cmp.group == group)].set_index("metric")
        share = row(fx, "closed", "get_on_well_share", ward, group)
        assert share.difference == pytest.approx(expected.loc["get_on_well_share", "difference"], abs=1e-9)
        count = row(fx, "closed", "contacts_positive", ward, group)
        assert count.difference_real * SCALE == pytest.approx(expected.loc["contacts_positive", "difference"], rel=1e-9)
        assert count.ci_low < count.difference < count.ci_high or count.sd == 0


def test_few_venues_counts_the_venues_each_item_selects():
    venues = pd.DataFrame({"name": ["a", "b", "c", "d"], "type": ["park", "park", "park", "market"],
                           "ward": ["W1", "W1", "W1", "W2"]})
    wards = ["W1", "W2", "all"]
    every_park = [{"kind": "close", "venue_type": "park"}]
    assert _few_venues(venues, every_park, wards) == {"W1": False, "W2": True, "all": False}
    parks_of_w2 = [{"kind": "budget", "venue_type": "park", "ward": "W2", "change": -0.4}]
    assert _few_venues(venues, parks_of_w2, wards) == {"W1": False, "W2": True, "all": False}
    one_market = [{"kind": "close", "venue": "d"}]
    assert _few_venues(venues, one_market, wards) == {"W1": False, "W2": True, "all": False}
    assert _few_venues(venues, [{"kind": "festival", "ward": "W1"}], wards) == {w: False for w in wards}


def test_run_ensemble_warns_when_a_counterfactual_cannot_differ(master, tmp_path):
    """Said when the ensemble is written, not only when someone compares it."""
    copy = tmp_path / "out"
    shutil.copytree(master.parent, copy)  # every run complete: the runner only rewrites the master
    with pytest.warns(EffectWarning, match="'late' differs from the baseline only from 2021-04-01") as caught:
        contactsim.run_ensemble(master.parent.parent / "spec.toml", copy)
    assert not any("'closed'" in str(w.message) for w in caught)


def test_describe_ensemble_accepts_the_master_file(master, tmp_path):
    described = contactsim.describe_ensemble(master)
    assert described["scenarios"] == ["baseline", "closed", "late", "nothing"]
    assert len(described["runs"]) == 4 * REPLICATES
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(ValueError, match=f"{other}: an HDF5 file but not an ensemble master file"):
        contactsim.describe_ensemble(other)
