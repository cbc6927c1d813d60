"""contactsim.plotting: aggregate() gives the numbers a reader would compute by hand from the
h5py arrays (and the CLI's end-of-run summary); the plots draw those numbers, one line per
group or ward, with replicate bands; bad arguments fail with the valid choices listed."""
import shutil

import h5py
import matplotlib

matplotlib.use("Agg")  # before pyplot: tests never open windows

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from contactsim import plotting  # noqa: E402
from contactsim.results import contact_matrix, open_results  # noqa: E402
from test_results import OTHER_SEED, add_contact_matrix, shared_run, texts  # noqa: E402

WARD = "Lightwood North and Normacot"


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def output(small_run):
    return small_run[0]


@pytest.fixture(scope="module")
def ds(output):
    return open_results(output)


@pytest.fixture(scope="module")
def arrays(output) -> dict:
    """The raw arrays and labels, read with h5py alone."""
    with h5py.File(output, "r") as f:
        out = {name: f[f"series/{name}"][:] for name in
               ("population", "mean_warmth", "get_on_well_share", "contacts_positive", "tension",
                "segregation_dissimilarity", "segregation_theil_h")}
        for dim in ("ward", "group", "spatial_unit"):
            out[dim] = texts(f[f"series/{dim}"][:])
        out["group_label"] = texts(f["groups"]["label"])
    return out


@pytest.fixture(scope="module")
def replicate_path(cli, base_scenario, tmp_path_factory):
    """The same second replicate test_results uses (run once per session)."""
    return shared_run(cli, tmp_path_factory, base_scenario, OTHER_SEED, replicate=1, name="replicate1")


@pytest.fixture(scope="module")
def summary(small_run) -> dict:
    """The CLI's first end-of-run table: group → (residents, outgroup warmth, get-on-well share, positive)."""
    rows, in_table = {}, False
    for line in small_run[2].splitlines():
        fields = line.split()
        if fields[:3] == ["group", "residents", "outgroup"]:
            in_table = True
        elif in_table and not fields:
            break
        elif in_table and len(fields) == 7 and fields[1].isdigit():
            rows[fields[0]] = (int(fields[1]), float(fields[2]), float(fields[3]), int(fields[4]))
    assert "all" in rows and len(rows) == 7, f"could not parse the run summary:\n{small_run[2]}"
    return rows


def weighted_over_wards(values: np.ndarray, population: np.ndarray) -> np.ndarray:
    """(time, ward, group) values → (time, group) means weighted by residents."""
    return (values * population).sum(1) / population.sum(1)


def polygons(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


# ----------------------------------------------------------------------------- aggregate

def test_outgroup_warmth_is_population_weighted(ds, arrays):
    warmth, population = arrays["mean_warmth"].astype(np.float64), arrays["population"]
    groups = len(arrays["group"])
    outgroup = np.stack([np.delete(warmth[:, :, g, :], g, axis=-1).mean(-1) for g in range(groups)], axis=-1)
    expected = weighted_over_wards(outgroup, population)
    result = plotting.aggregate(ds, "mean_warmth")
    assert result.dims == ("time", "group")
    np.testing.assert_allclose(result.values, expected, rtol=1e-9)
    assert "target_group ≠ group" in result.attrs["aggregation"]
    # Toward one target group instead of all outgroups.
    asian = arrays["group"].index("asian")
    toward = plotting.aggregate(ds, "mean_warmth", target_group="asian")
    np.testing.assert_allclose(toward.values, weighted_over_wards(warmth[..., asian], population), rtol=1e-9)


def test_aggregates_agree_with_the_run_summary(ds, summary):
    """Independent check: the CLI computes the same city figures per resident at the end of the run."""
    warmth = plotting.aggregate(ds, "mean_warmth").isel(time=-1)
    well = plotting.aggregate(ds, "get_on_well_share").isel(time=-1)
    residents = plotting.aggregate(ds, "population").isel(time=-1)
    positive = plotting.aggregate(ds, "contacts_positive").sum("time")
    for group in ds["group"].values:
        n, outgroup, get_on_well, contacts = summary[str(group)]
        assert int(residents.sel(group=group)) == n, group
        assert abs(float(warmth.sel(group=group)) - outgroup) <= 0.0005 + 1e-6, group
        assert abs(float(well.sel(group=group)) - get_on_well) <= 0.0005 + 1e-6, group
        assert int(positive.sel(group=group)) == contacts, group
    city = plotting.aggregate(ds, "mean_warmth", by=None).isel(time=-1)
    assert city.dims == ()
    assert abs(float(city) - summary["all"][1]) <= 0.0005 + 1e-6


def test_shares_by_ward_are_weighted_over_groups(ds, arrays):
    share, population = arrays["get_on_well_share"].astype(np.float64), arrays["population"]
    expected = (share * population).sum(2) / population.sum(2)
    result = plotting.aggregate(ds, "get_on_well_share", by="ward")
    assert result.dims == ("time", "ward")
    np.testing.assert_allclose(result.values, expected, rtol=1e-9)


def test_counts_are_summed(ds, arrays):
    contacts = arrays["contacts_positive"]
    by_group = plotting.aggregate(ds, "contacts_positive")
    assert np.issubdtype(by_group.dtype, np.integer)
    np.testing.assert_array_equal(by_group.values, contacts.sum(axis=(1, 3)))
    by_ward = plotting.aggregate(ds, "contacts_positive", by="ward")
    np.testing.assert_array_equal(by_ward.values, contacts.sum(axis=(2, 3)))
    school = plotting.aggregate(ds, "contacts_positive", by=None, venue_type="school")
    k = list(ds["venue_type"].values).index("school")
    np.testing.assert_array_equal(school.values, contacts[..., k].sum(axis=(1, 2)))


def test_selections(ds, arrays):
    w = arrays["ward"].index(WARD)
    one_ward = plotting.aggregate(ds, "get_on_well_share", ward=WARD)
    np.testing.assert_allclose(one_ward.values, arrays["get_on_well_share"][:, w, :], rtol=1e-7)
    tension = plotting.aggregate(ds, "tension", by="ward", ward=[WARD])
    assert tension.dims == ("time", "ward") and list(tension["ward"].values) == [WARD]
    np.testing.assert_allclose(tension.values[:, 0], arrays["tension"][:, w], rtol=1e-7)
    two = plotting.aggregate(ds, "mean_warmth", group=["asian", "black"])
    assert list(two["group"].values) == ["asian", "black"]


def test_replicates_add_a_dimension(ds, replicate_path, arrays):
    result = plotting.aggregate([ds, replicate_path], "get_on_well_share")
    assert result.dims == ("time", "group", "replicate")
    expected = weighted_over_wards(arrays["get_on_well_share"].astype(np.float64), arrays["population"])
    np.testing.assert_allclose(result.isel(replicate=0).values, expected, rtol=1e-9)
    assert not np.allclose(result.isel(replicate=1).values, expected)


def test_bad_arguments_say_what_is_valid(ds):
    with pytest.raises(ValueError, match=r"unknown variable 'warmth'; available: .*mean_warmth"):
        plotting.aggregate(ds, "warmth")
    with pytest.raises(ValueError, match=r"by must be 'group', 'ward' or None; got 'venue_type'"):
        plotting.aggregate(ds, "mean_warmth", by="venue_type")
    with pytest.raises(ValueError, match=r"tension has no 'group' dimension.*\['ward', None\]"):
        plotting.aggregate(ds, "tension")
    with pytest.raises(ValueError, match=r"unknown ward 'Atlantis'; valid ward labels: .*Meir Park"):
        plotting.aggregate(ds, "mean_warmth", ward="Atlantis")
    with pytest.raises(ValueError, match=r"unknown group 'martians'; valid group labels: white_british"):
        plotting.plot_series(ds, "mean_warmth", group=["asian", "martians"])
    with pytest.raises(ValueError, match=r"band must be a share in \(0, 1\)"):
        plotting.plot_series(ds, "mean_warmth", band=95)
    with pytest.raises(ValueError, match=r"intergroup_mixing_ratio has no 'ward' dimension"):
        plotting.aggregate(ds, "intergroup_mixing_ratio", ward=WARD)


# ----------------------------------------------------------------------------- plot_series

def test_plot_series_one_line_per_group(ds, arrays):
    ax = plotting.plot_series(ds, "mean_warmth")
    lines = ax.get_lines()
    assert len(lines) == len(arrays["group"]) == 6
    assert [t.get_text() for t in ax.get_legend().get_texts()] == arrays["group_label"]
    expected = plotting.aggregate(ds, "mean_warmth")
    np.testing.assert_allclose(lines[2].get_ydata(), expected.isel(group=2).values)
    assert "thermometer/100" in ax.get_ylabel()
    assert ax.get_xlabel() and "warmth" in ax.get_title().lower()
    assert polygons(ax) == [], "no band without replicates"


def test_plot_series_by_ward_on_given_axes(ds, arrays):
    fig, given = plt.subplots()
    ax = plotting.plot_series(ds, "tension", by="ward", ax=given)
    assert ax is given
    assert len(ax.get_lines()) == len(arrays["ward"]) == 37
    assert [t.get_text() for t in ax.get_legend().get_texts()] == arrays["ward"]


def test_plot_series_band_spans_the_replicate_quantiles(output, replicate_path):
    ax = plotting.plot_series([output, replicate_path], "get_on_well_share", band=0.9)
    assert len(ax.get_lines()) == 6
    bands = polygons(ax)
    assert len(bands) == 6
    both = plotting.aggregate([output, replicate_path], "get_on_well_share").isel(group=0)
    low, high = both.quantile([0.05, 0.95], dim="replicate").values
    y = bands[0].get_paths()[0].vertices[:, 1]
    for bound in (low, high):
        assert np.isclose(y[:, None], bound[None, :]).any(axis=0).all(), "band edges are the 5% and 95% quantiles"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), both.mean("replicate").values)
    assert "2 replicates" in ax.get_title()
    assert polygons(plotting.plot_series([output, replicate_path], "get_on_well_share", band=None)) == []


# ----------------------------------------------------------------------------- heatmaps

def test_ward_group_heatmap(ds, arrays):
    ax = plotting.plot_ward_group_heatmap(ds, "get_on_well_share")
    image = ax.get_images()[0]
    np.testing.assert_array_equal(image.get_array(), arrays["get_on_well_share"][-1])
    assert [t.get_text() for t in ax.get_yticklabels()] == arrays["ward"]
    assert len(ax.figure.axes) == 2, "a colour bar"
    assert "share" in ax.figure.axes[1].get_ylabel()
    assert "2020-06-30" in ax.get_title()
    by_date = plotting.plot_ward_group_heatmap(ds, "get_on_well_share", time="2020-03-31")
    np.testing.assert_array_equal(by_date.get_images()[0].get_array(), arrays["get_on_well_share"][2])
    warmth = plotting.plot_ward_group_heatmap(ds, "mean_warmth", time=0)
    assert warmth.get_images()[0].get_array().shape == (37, 6)


def test_heatmap_bad_arguments(ds):
    with pytest.raises(ValueError, match=r"tension has no group axis"):
        plotting.plot_ward_group_heatmap(ds, "tension")
    with pytest.raises(ValueError, match=r"no record dated '2020-03-15'; records end on 2020-01-31"):
        plotting.plot_ward_group_heatmap(ds, "mean_anxiety", time="2020-03-15")
    with pytest.raises(ValueError, match=r"time index 6 out of range"):
        plotting.plot_ward_group_heatmap(ds, "mean_anxiety", time=6)


def test_contact_matrix_plot(output, tmp_path):
    path = tmp_path / "with_matrix.h5"
    shutil.copyfile(output, path)
    add_contact_matrix(path)
    ax = plotting.plot_contact_matrix(path)
    expected = contact_matrix(path, share=True).values
    np.testing.assert_allclose(ax.get_images()[0].get_array(), expected)
    texts_drawn = [t.get_text() for t in ax.texts]
    assert len(texts_drawn) == expected.size
    assert texts_drawn[1] == f"{expected[0, 1]:.2f}"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(open_results(path)["group"].values)
    counts = plotting.plot_contact_matrix(path, kind="positive", share=False, time=slice(0, 2))
    assert counts.texts[1].get_text() == f"{contact_matrix(path, 'positive', time=slice(0, 2)).values[0, 1]:,.0f}"
    assert "encounters" in counts.figure.axes[-1].get_ylabel()


def test_contact_matrix_plot_of_a_real_run(ds):
    if "contact_matrix_positive" not in ds.data_vars:
        pytest.skip("this contactsim does not write /series/contact_matrix_* yet")
    ax = plotting.plot_contact_matrix(ds)
    np.testing.assert_allclose(np.nansum(ax.get_images()[0].get_array(), axis=1), 1.0)


def test_contact_matrix_plot_needs_the_series(ds):
    if "contact_matrix_positive" in ds.data_vars:
        ds = ds.drop_vars(["contact_matrix_positive", "contact_matrix_negative"])
    with pytest.raises(ValueError, match=r"/series/contact_matrix_positive.*missing"):
        plotting.plot_contact_matrix(ds)


# ----------------------------------------------------------------------------- segregation

def test_segregation_per_group(ds, arrays):
    ax = plotting.plot_segregation(ds)
    lines = ax.get_lines()
    assert len(lines) == 6
    block = arrays["spatial_unit"].index("block")
    np.testing.assert_allclose(lines[0].get_ydata(), arrays["segregation_dissimilarity"][:, block, 0], rtol=1e-7)
    ward = arrays["spatial_unit"].index("ward")
    by_ward = plotting.plot_segregation(ds, unit="ward")
    np.testing.assert_allclose(by_ward.get_lines()[3].get_ydata(), arrays["segregation_dissimilarity"][:, ward, 3],
                               rtol=1e-7)
    assert "wards" in by_ward.get_title()


def test_theil_h_is_one_line_with_a_band(output, replicate_path, arrays):
    ax = plotting.plot_segregation(output, "theil_h")
    assert len(ax.get_lines()) == 1
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), arrays["segregation_theil_h"][:, 0], rtol=1e-7)
    banded = plotting.plot_segregation([output, replicate_path], "theil_h")
    assert len(banded.get_lines()) == 1 and len(polygons(banded)) == 1


def test_segregation_bad_arguments(ds):
    with pytest.raises(ValueError, match=r"unknown segregation index 'gini'; available: dissimilarity"):
        plotting.plot_segregation(ds, "gini")
    with pytest.raises(ValueError, match=r"unknown spatial_unit 'county'; valid spatial_unit labels: block, ward"):
        plotting.plot_segregation(ds, unit="county")
    with pytest.raises(ValueError, match=r"pass target_group="):
        plotting.plot_segregation(ds, "exposure")
    ax = plotting.plot_segregation(ds, "exposure", target_group="asian")
    assert len(ax.get_lines()) == 6


# ----------------------------------------------------------------------------- no pooling, honest figures

def two_scenarios(ds):
    """An ensemble-shaped dataset (open_ensemble's run dimensions) holding two scenarios."""
    import pandas as pd
    import xarray as xr
    return xr.concat([ds, ds], dim=pd.Index(["baseline", "cut"], name="scenario"))


def test_an_ensemble_is_never_averaged_over_scenarios(ds):
    both = two_scenarios(ds)
    for draw in (lambda: plotting.plot_series(both, "mean_warmth"),
                 lambda: plotting.aggregate(both, "get_on_well_share"),
                 lambda: plotting.plot_ward_group_heatmap(both, "get_on_well_share"),
                 lambda: plotting.plot_contact_matrix(both)):
        with pytest.raises(ValueError, match=r"holds an ensemble with 2 scenarios \(baseline, cut\); pass scenario="):
            draw()
    ax = plotting.plot_series(both, "get_on_well_share", scenario="cut")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(),
                               plotting.aggregate(ds, "get_on_well_share").isel(group=0).values)
    with pytest.raises(ValueError, match="unknown scenario 'nope'; valid: baseline, cut"):
        plotting.aggregate(both, "get_on_well_share", scenario="nope")


def test_one_replicate_is_not_called_a_mean(output):
    ax = plotting.plot_series([output], "get_on_well_share")
    assert "1 replicate" in ax.get_title() and "replicates" not in ax.get_title()


def test_warmth_titles_and_axes_say_what_is_drawn(ds):
    ax = plotting.plot_series(ds, "mean_warmth")
    assert "diagonal" not in ax.get_title(), "no diagonal on a line chart"
    assert ax.get_ylabel() == "warmth toward other groups (thermometer/100)"
    heat = plotting.plot_ward_group_heatmap(ds, "mean_warmth")
    assert "diagonal" not in heat.get_title()


def test_differences_get_a_diverging_map_centred_on_zero(ds):
    difference = ds.copy()
    difference["get_on_well_share"] = ds.get_on_well_share - ds.get_on_well_share.mean()
    image = plotting.plot_ward_group_heatmap(difference, "get_on_well_share").images[0]
    assert image.get_cmap().name == "RdBu_r"
    assert image.norm.vcenter == 0 and image.norm.vmin == pytest.approx(-image.norm.vmax)
    levels = plotting.plot_ward_group_heatmap(ds, "get_on_well_share").images[0]
    assert levels.get_cmap().name == "viridis", "levels keep a sequential map"


def test_a_partial_last_period_is_marked_not_drawn_as_a_cliff(ds):
    times = ds["time"].values.copy()
    times[-1] = times[-2] + np.timedelta64(10, "D")  # a run stopped ten days into its last month
    short = ds.assign_coords(time=times)
    ax = plotting.plot_series(short, "contacts_positive", by=None)
    solid, dotted = ax.get_lines()[0], ax.get_lines()[1]
    assert len(solid.get_xdata()) == len(times) - 1, "the solid line stops at the last whole period"
    assert dotted.get_linestyle() == ":" and len(dotted.get_xdata()) == 2
    assert "partial (10 days)" in ax.get_title()
    whole = plotting.plot_series(ds, "contacts_positive", by=None)
    assert len(whole.get_lines()) == 1 and "partial" not in whole.get_title()
    state = plotting.plot_series(short, "get_on_well_share", by=None)
    assert "partial" not in state.get_title(), "a level at the period's end is not partial"
