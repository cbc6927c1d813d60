"""contactsim.results: the HDF5 output read into xarray/pandas agrees with h5py's reading of
the same files; replicates combine; the contact matrix is summed and normalised correctly;
bad inputs fail with messages that name the file and what was expected."""
import pathlib
import shutil

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from conftest import SEED, THREADS, UNTIL, run_scenario
from contactsim.results import concat_replicates, contact_matrix, open_results, read_events, read_table

SMALL = """\
extends = "{base}"

[simulation]
replicate = {replicate}

[population]
scale = 0.05

[record]
interval = "month"
"""
OTHER_SEED = SEED + 1
LABEL_DIMS = ("ward", "group", "target_group", "venue_type", "spatial_unit")


# ----------------------------------------------------------------------------- helpers

def run_small(cli, directory: pathlib.Path, base: pathlib.Path, seed: int, replicate: int = 0,
              name: str = "run") -> pathlib.Path:
    """Run `base` at scale 0.05, monthly records, to UNTIL; return the output path."""
    _, output = run_scenario(cli, directory, name, SMALL.format(base=base.as_posix(), replicate=replicate), "--until",
                             UNTIL, "--threads", THREADS, "--seed", seed, "--quiet", "--force")
    return output


_RUNS: dict = {}


def shared_run(cli, tmp_path_factory, base: pathlib.Path, seed: int, replicate: int = 0,
               name: str = "run") -> pathlib.Path:
    """run_small once per session for each (base, seed, replicate), so test files share runs."""
    key = (str(base), seed, replicate)
    if key not in _RUNS:
        _RUNS[key] = run_small(cli, tmp_path_factory.mktemp(name), base, seed, replicate, name)
    return _RUNS[key]


def text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def texts(values) -> list[str]:
    return [text(v) for v in values]


def series_names(f: h5py.File) -> list[str]:
    """Every /series dataset that is a series, not a dimension scale."""
    return sorted(name for name, d in f["series"].items() if text(d.attrs.get("CLASS", b"")) != "DIMENSION_SCALE")


def drop_series(path: pathlib.Path, names) -> None:
    """Delete series from a file, detaching their dimension scales first."""
    with h5py.File(path, "r+") as f:
        for name in names:
            if f"series/{name}" not in f:
                continue
            d = f[f"series/{name}"]
            for axis in d.dims:
                for scale in list(axis.values()):
                    axis.detach_scale(scale)
            del f[f"series/{name}"]


def add_contact_matrix(path: pathlib.Path, seed: int = 1, extra_records: int = 1) -> dict[str, np.ndarray]:
    """Write synthetic contact_matrix_positive/negative series into an output, as the recorder
    lays series out, with `extra_records` beyond /series/time (as a crash mid-write leaves).

    Returns the arrays written (including the extra records)."""
    rng = np.random.default_rng(seed)
    drop_series(path, ["contact_matrix_positive", "contact_matrix_negative"])
    written = {}
    with h5py.File(path, "r+") as f:
        series = f["series"]
        records, groups = series["time"].shape[0], series["group"].shape[0]
        for kind in ("positive", "negative"):
            values = rng.integers(0, 1000, size=(records + extra_records, groups, groups), dtype=np.int64)
            values[:, np.arange(groups), np.arange(groups)] = 0  # intergroup only
            d = series.create_dataset(f"contact_matrix_{kind}", data=values, maxshape=(None, groups, groups))
            d.attrs["description"] = f"synthetic {kind} contact matrix"
            d.attrs["units"] = "encounters"
            d.attrs["dimensions"] = "time,group,target_group"
            for axis, scale in enumerate(("time", "group", "target_group")):
                d.dims[axis].attach_scale(series[scale])
            written[kind] = values
    return written


def open_file_count() -> int:
    return h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def output(small_run) -> pathlib.Path:
    return small_run[0]


@pytest.fixture(scope="module")
def ds(output) -> xr.Dataset:
    return open_results(output)


@pytest.fixture(scope="module")
def h5(output):
    with h5py.File(output, "r") as f:
        yield f


@pytest.fixture(scope="module")
def second_replicate(cli, base_scenario, tmp_path_factory) -> pathlib.Path:
    """The small scenario again with another seed and `[simulation] replicate = 1`."""
    return shared_run(cli, tmp_path_factory, base_scenario, OTHER_SEED, replicate=1, name="replicate1")


@pytest.fixture(scope="module")
def lockdown_run(cli, source_dir, tmp_path_factory) -> pathlib.Path:
    """A small run of the lockdowns scenario, which logs a lockdown on 2020-03-23."""
    return shared_run(cli, tmp_path_factory, source_dir / "scenarios" / "lockdowns.toml", SEED, name="lockdowns")


@pytest.fixture()
def with_matrix(output, tmp_path) -> tuple[pathlib.Path, dict]:
    path = tmp_path / "with_matrix.h5"
    shutil.copyfile(output, path)
    return path, add_contact_matrix(path)


# ----------------------------------------------------------------------------- open_results

def test_series_and_dimensions_follow_the_file(ds, h5):
    assert sorted(ds.data_vars) == series_names(h5)
    for name in series_names(h5):
        declared = text(h5[f"series/{name}"].attrs["dimensions"]).split(",")
        assert list(ds[name].dims) == declared, name


def test_coordinates_are_the_files_labels(ds, h5):
    dates = (np.datetime64("1970-01-01", "D") + h5["series/time"][:].astype("timedelta64[D]")).astype("datetime64[ns]")
    assert ds["time"].dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(ds["time"].values, dates)
    for dim in LABEL_DIMS:
        assert list(ds[dim].values) == texts(h5[f"series/{dim}"][:]), dim
    # Non-index coordinates from the tables, aligned by name.
    assert list(ds["ward_code"].values) == texts(h5["wards"]["code"])
    assert list(ds["ward_code"].dims) == ["ward"]
    assert list(ds["group_label"].values) == texts(h5["groups"]["label"])
    assert ds["group_label"].values[0] == "White British"


def test_files_of_format_1_with_iso_string_time_still_open(output, ds, tmp_path):
    """Format 1 held /series/time as ISO strings; open_results reads it to the same dates."""
    legacy = tmp_path / "format1.h5"
    shutil.copyfile(output, legacy)
    with h5py.File(legacy, "r+") as f:
        series = f["series"]
        days = series["time"][:]
        attached = [d for name, d in series.items() if name in series_names(f)]
        for d in attached:
            d.dims[0].detach_scale(series["time"])
        del series["time"]
        iso = [str(np.datetime64("1970-01-01", "D") + np.timedelta64(int(day), "D")).encode() for day in days]
        time = series.create_dataset("time", data=np.array(iso, dtype="S10"), maxshape=(None,))
        time.make_scale("time")
        for d in attached:
            d.dims[0].attach_scale(time)
        f.attrs["format"] = np.bytes_("contactsim-output-1")
    old = open_results(legacy)
    assert old["time"].dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(old["time"].values, ds["time"].values)
    np.testing.assert_array_equal(old["tension"].values, ds["tension"].values)


def test_values_equal_the_files_arrays_exactly(ds, h5):
    for name in series_names(h5):
        stored = h5[f"series/{name}"][:]
        assert ds[name].dtype == stored.dtype, name
        np.testing.assert_array_equal(ds[name].values, stored, err_msg=name)


def test_provenance_attributes(ds, h5, small_run):
    assert set(ds.attrs) == set(h5.attrs)
    assert ds.attrs["seed"] == SEED and type(ds.attrs["seed"]) is int
    assert ds.attrs["threads"] == THREADS
    assert ds.attrs["replicate"] == 0
    assert ds.attrs["records"] == ds.sizes["time"] == 6
    assert ds.attrs["population_scale"] == 0.05 and type(ds.attrs["population_scale"]) is float
    assert ds.attrs["end_date"] == UNTIL and type(ds.attrs["end_date"]) is str
    assert ds.attrs["format"].startswith("contactsim-output-")
    assert ds.attrs["scenario_path"] == str(small_run[1])


def test_variables_carry_description_and_units(ds, h5):
    for name in series_names(h5):
        stored = h5[f"series/{name}"].attrs
        assert ds[name].attrs["description"] == text(stored["description"]), name
        assert ds[name].attrs["units"] == text(stored["units"]), name
    assert ds["contacts_positive"].attrs["units"] == "encounters"


def test_loads_eagerly_and_leaves_no_file_open(output, ds, tmp_path):
    copy = tmp_path / "copy.h5"
    shutil.copyfile(output, copy)
    before = open_file_count()
    loaded = open_results(copy)
    assert open_file_count() == before
    # Still readable after the file is gone: nothing is read lazily.
    copy.unlink()
    assert int(loaded["population"].sum()) == int(ds["population"].sum()) > 0


def test_series_are_cut_to_the_complete_records(output, tmp_path):
    """A run killed mid-write can leave series longer than /series/time: the extra rows are ignored."""
    crashed = tmp_path / "crashed.h5"
    shutil.copyfile(output, crashed)
    with h5py.File(crashed, "r+") as f:
        records = f["series/time"].shape[0]
        for name in series_names(f):
            d = f[f"series/{name}"]
            d.resize(records + 1, axis=0)
            d[records] = 7  # garbage of an unfinished record
    full, cut = open_results(output), open_results(crashed)
    assert cut.sizes["time"] == records
    xr.testing.assert_identical(full, cut)


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.h5"
    with pytest.raises(FileNotFoundError, match="nowhere.h5"):
        open_results(missing)


def test_other_hdf5_files_are_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
        f.attrs["format"] = "netcdf-ish"
    with pytest.raises(ValueError, match=r"other\.h5.*'netcdf-ish'.*contactsim-output"):
        open_results(other)
    bare = tmp_path / "bare.h5"
    with h5py.File(bare, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ValueError, match=r"bare\.h5.*no format attribute"):
        open_results(bare)
    not_hdf5 = tmp_path / "notes.txt"
    not_hdf5.write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match=r"notes\.txt: not an HDF5 file"):
        open_results(not_hdf5)


# ----------------------------------------------------------------------------- tables

@pytest.mark.parametrize("name", ["groups", "wards", "venue_types", "venues"])
def test_tables_match_h5py(output, h5, name):
    frame = read_table(output, name)
    stored = h5[name][:]
    assert list(frame.columns) == list(stored.dtype.names)
    assert len(frame) == len(stored) > 0
    for column in stored.dtype.names:
        if stored.dtype[column].kind in "OS":
            assert list(frame[column]) == texts(stored[column]), column
            assert all(isinstance(v, str) for v in frame[column])
        else:
            np.testing.assert_array_equal(frame[column].to_numpy(), stored[column], err_msg=column)


def test_unknown_table_lists_the_tables(output):
    with pytest.raises(ValueError, match=r"no table 'residents'.*groups.*venues.*wards"):
        read_table(output, "residents")


def test_events_match_h5py_and_dates_parse(lockdown_run):
    events = read_events(lockdown_run)
    with h5py.File(lockdown_run, "r") as f:
        stored = f["events"][:]
    assert len(events) == len(stored) > 0
    assert events["date"].dtype == np.dtype("datetime64[ns]")
    assert list(events["date"]) == [pd.Timestamp(d) for d in texts(stored["date"])]
    for column in ("kind", "subject", "detail"):
        assert list(events[column]) == texts(stored[column])
    np.testing.assert_array_equal(events["venues_affected"].to_numpy(), stored["venues_affected"])
    lockdown = events[events["kind"] == "lockdown"]
    assert list(lockdown["date"]) == [pd.Timestamp("2020-03-23")]
    assert lockdown["subject"].iloc[0] == "first national lockdown"
    assert lockdown["venues_affected"].iloc[0] > 0
    raw = read_table(lockdown_run, "events")
    assert list(raw["date"]) == texts(stored["date"])


def test_no_events_gives_an_empty_frame_with_the_columns(lockdown_run, tmp_path):
    quiet = tmp_path / "quiet.h5"
    shutil.copyfile(lockdown_run, quiet)
    with h5py.File(quiet, "r+") as f:
        del f["events"]
    events = read_events(quiet)
    assert events.empty
    assert list(events.columns) == ["date", "kind", "subject", "detail", "venues_affected"]
    assert events["date"].dtype == np.dtype("datetime64[ns]")


# ----------------------------------------------------------------------------- replicates

def test_concat_replicates_stacks_runs(output, second_replicate):
    first, second = open_results(output), open_results(second_replicate)
    assert second.attrs["replicate"] == 1 and second.attrs["seed"] == OTHER_SEED
    both = concat_replicates([output, second_replicate])
    assert both.sizes["replicate"] == 2
    assert list(both["replicate"].values) == [0, 1]
    assert list(both["seed"].values) == [SEED, OTHER_SEED]
    for name in first.data_vars:
        assert both[name].dims[0] == "replicate", name
        np.testing.assert_array_equal(both[name].sel(replicate=0).values, first[name].values, err_msg=name)
        np.testing.assert_array_equal(both[name].sel(replicate=1).values, second[name].values, err_msg=name)
    # Different seeds really give different runs, so the stacking above is not vacuous.
    assert not np.array_equal(first["contacts_positive"].values, second["contacts_positive"].values)
    assert "seed" not in both.attrs and both.attrs["format"] == first.attrs["format"]
    assert list(both["group_label"].values) == list(first["group_label"].values)


def test_repeated_replicate_ids_are_renumbered(ds):
    both = concat_replicates([ds, ds.copy()])
    assert list(both["replicate"].values) == [0, 1]
    np.testing.assert_array_equal(both["population"].sel(replicate=1).values, ds["population"].values)


def test_concat_refuses_mismatched_coordinates(ds):
    with pytest.raises(ValueError, match=r"coordinate 'time' differs"):
        concat_replicates([ds, ds.isel(time=slice(0, 3))])
    renamed = ds.assign_coords(ward=[f"ward {k}" for k in range(ds.sizes["ward"])])
    with pytest.raises(ValueError, match=r"coordinate 'ward' differs"):
        concat_replicates([ds, renamed])
    with pytest.raises(ValueError, match=r"different series.*tension"):
        concat_replicates([ds, ds.drop_vars("tension")])
    with pytest.raises(ValueError, match="no datasets"):
        concat_replicates([])


# ----------------------------------------------------------------------------- contact matrix

def test_contact_matrix_sums_and_shares(with_matrix):
    path, written = with_matrix
    records = open_results(path).sizes["time"]
    positive, negative = written["positive"][:records], written["negative"][:records]  # extra row ignored

    both = contact_matrix(path)
    assert both.dims == ("group", "target_group")
    np.testing.assert_array_equal(both.values, positive.sum(0) + negative.sum(0))
    assert both.attrs["units"] == "encounters"
    np.testing.assert_array_equal(contact_matrix(path, kind="negative").values, negative.sum(0))

    # Positional and date slices select the same records; a single index, one record.
    first3 = positive[:3].sum(0)
    np.testing.assert_array_equal(contact_matrix(path, "positive", time=slice(0, 3)).values, first3)
    np.testing.assert_array_equal(contact_matrix(path, "positive", time=slice("2020-01-31", "2020-03-31")).values,
                                  first3)
    np.testing.assert_array_equal(contact_matrix(path, "positive", time=-1).values, positive[-1])

    shares = contact_matrix(path, share=True)
    counts = positive.sum(0) + negative.sum(0)
    np.testing.assert_allclose(shares.values, counts / counts.sum(1, keepdims=True))
    np.testing.assert_allclose(shares.sum("target_group").values, 1.0)
    assert shares.attrs["units"] == "share"


def test_contact_matrix_keeps_replicates(with_matrix, tmp_path):
    path, written = with_matrix
    other = tmp_path / "other.h5"
    shutil.copyfile(path, other)
    written_other = add_contact_matrix(other, seed=2)
    both = contact_matrix([path, other], kind="positive")
    assert both.dims == ("replicate", "group", "target_group")
    records = open_results(path).sizes["time"]
    np.testing.assert_array_equal(both.isel(replicate=1).values, written_other["positive"][:records].sum(0))


def test_contact_matrix_absent_is_a_clear_error(output, tmp_path):
    old = tmp_path / "old_output.h5"
    shutil.copyfile(output, old)
    drop_series(old, ["contact_matrix_positive", "contact_matrix_negative"])
    with pytest.raises(ValueError, match=r"old_output\.h5.*/series/contact_matrix_positive.*missing"):
        contact_matrix(old)
    with pytest.raises(ValueError, match=r"old_output\.h5.*/series/contact_matrix_negative missing"):
        contact_matrix(open_results(old), kind="negative")
    with pytest.raises(ValueError, match=r"kind must be one of positive, negative, both; got 'neutral'"):
        contact_matrix(old, kind="neutral")


def test_contact_matrix_of_a_real_run(ds):
    """Once the simulation records the matrix: each row adds up to the group's contacts."""
    if "contact_matrix_positive" not in ds.data_vars:
        pytest.skip("this contactsim does not write /series/contact_matrix_* yet")
    for kind in ("positive", "negative"):
        matrix = contact_matrix(ds, kind=kind)
        by_group = ds[f"contacts_{kind}"].sum(["time", "ward", "venue_type"])
        np.testing.assert_array_equal(matrix.sum("target_group").values, by_group.values, err_msg=kind)
        assert (np.diag(matrix.values) == 0).all(), f"{kind}: in-group encounters in an intergroup matrix"
        assert matrix.values.sum() > 0
