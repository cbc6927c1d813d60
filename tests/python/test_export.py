"""`python3 -m contactsim export`: a run or an ensemble as a long CSV whose values are the
file's own, with labels; an existing output is never overwritten without --force and never
half written; bad input is named."""
import shutil
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import cli_env, iso_dates, run_cli, small_ensemble_spec

HEADER = ["metric", "time", "ward", "group", "target_group", "venue_type", "spatial_unit", "value", "units"]


def export(*args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "contactsim", "export", *map(str, args)], capture_output=True,
                            text=True, env=cli_env(), timeout=600)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def run_csv(small_run, tmp_path_factory) -> tuple[pathlib.Path, pd.DataFrame]:
    output = tmp_path_factory.mktemp("export") / "run.csv"
    export(small_run[0], "-o", output)
    return output, pd.read_csv(output, keep_default_na=False, na_values={"value": [""]})


def test_a_run_exports_every_value_with_its_labels(small_run, run_csv):
    path, table = run_csv
    assert list(table.columns) == HEADER
    with h5py.File(small_run[0], "r") as f:
        series = f["series"]
        wards = series["ward"].asstr()[:]
        groups = series["group"].asstr()[:]
        dates = iso_dates(series["time"])
        warmth = series["mean_warmth"][:]
        contacts = series["contacts_positive"][:]
        venue_types = series["venue_type"].asstr()[:]
    rows = table[table.metric == "mean_warmth"]
    assert len(rows) == warmth.size
    cell = rows[(rows.time == dates[2]) & (rows.ward == wards[5]) & (rows.group == groups[1])
                & (rows.target_group == groups[3])]
    assert np.float32(cell.value.item()) == warmth[2, 5, 1, 3], "float32 written with every digit it has"
    line = f"mean_warmth,{dates[2]},{wards[5]},{groups[1]},{groups[3]},,,{str(warmth[2, 5, 1, 3])},thermometer/100"
    assert line in path.read_text(encoding="utf-8").splitlines(), "and no more digits than it has"
    assert cell.units.item() == "thermometer/100" and cell.venue_type.item() == ""
    counts = table[(table.metric == "contacts_positive") & (table.venue_type == venue_types[0])]
    assert counts.value.sum() == contacts[..., 0].sum()
    assert not list(path.parent.glob("*.partial"))


def test_an_existing_file_needs_force_and_is_left_alone(small_run, tmp_path):
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me", encoding="utf-8")
    result = export(small_run[0], "-o", existing, "--series", "tension", check=False)
    assert result.returncode == 1
    assert f"{existing}: output file exists; pass --force to overwrite" in result.stderr
    assert existing.read_text(encoding="utf-8") == "keep me"
    export(small_run[0], "-o", existing, "--series", "tension", "--force")
    assert existing.read_text(encoding="utf-8").startswith(",".join(HEADER))
    assert not (tmp_path / "existing.csv.partial").exists()


def test_bad_input_is_named(tmp_path, small_run):
    not_hdf5 = tmp_path / "notes.h5"
    not_hdf5.write_text("hello", encoding="utf-8")
    result = export(not_hdf5, "-o", tmp_path / "out.csv", check=False)
    assert result.returncode == 2 and f"{not_hdf5}: not an HDF5 file" in result.stderr
    result = export(small_run[0], "-o", tmp_path / "out.csv", "--series", "happiness", check=False)
    assert result.returncode == 2 and "no series happiness" in result.stderr
    assert not (tmp_path / "out.csv").exists()


COUNTERFACTUAL_AND_SWEEP = """[[counterfactuals]]
name = "closed"
overrides = { "timeline" = [ { kind = "close", date = 2020-01-20, venue_type = "community_centre" } ] }
[sweep]
design = "grid"
[sweep.parameters."mechanisms.valence.beta0"]
values = [1.0, 1.2]
"""


@pytest.fixture(scope="module")
def swept(cli, source_dir, tmp_path_factory) -> pathlib.Path:
    """A two-point sweep of a baseline and one counterfactual, two replicates: its folder."""
    directory = tmp_path_factory.mktemp("swept")
    spec = directory / "spec.toml"
    spec.write_text(small_ensemble_spec("export test", source_dir / "scenarios/stoke_on_trent.toml", seed=3,
                                        replicates=2, until="2020-02-29", scale=0.02, body=COUNTERFACTUAL_AND_SWEEP),
                    encoding="utf-8")
    run_cli(cli, "ensemble", spec, "-o", directory / "out", "-q")
    return directory


def test_an_ensemble_exports_scenario_point_parameters_and_replicate(swept, tmp_path):
    (tmp_path / "out").symlink_to(swept / "out")
    output = tmp_path / "ensemble.csv"
    export(tmp_path / "out/ensemble.h5", "-o", output, "--series", "tension")
    table = pd.read_csv(output)
    assert list(table.columns[:4]) == ["scenario", "point", "mechanisms.valence.beta0", "replicate"]
    assert set(table.scenario) == {"baseline", "closed"} and set(table.replicate) == {0, 1}
    assert dict(table.groupby("point")["mechanisms.valence.beta0"].first()) == {0: 1.0, 1: 1.2}
    with h5py.File(tmp_path / "out/runs/closed_p001_r001.h5", "r") as f:
        tension = f["series/tension"][:]
        ward = f["series/ward"].asstr()[7]
    rows = table[(table.scenario == "closed") & (table.point == 1) & (table.replicate == 1) & (table.ward == ward)]
    np.testing.assert_array_equal(rows.sort_values("time").value.values.astype(np.float32), tension[:, 7])
    import xarray as xr
    export(tmp_path / "out/ensemble.h5", "-o", tmp_path / "ensemble.nc")
    with xr.open_dataset(tmp_path / "ensemble.nc", engine="h5netcdf") as nc:
        assert nc["tension"].dims[:3] == ("scenario", "point", "replicate") and nc["time"].dtype.kind == "M"
        np.testing.assert_array_equal(nc["tension"].sel(scenario="closed", point=1, replicate=1).values, tension)


# ----------------------------------------------------------------------------- netCDF

def test_netcdf_export_reads_back_with_cf_dates(small_run, tmp_path):
    import xarray as xr
    from contactsim import open_results
    output = tmp_path / "run.nc"
    export(small_run[0], "-o", output)
    original = open_results(small_run[0])
    with xr.open_dataset(output, engine="h5netcdf") as nc:
        assert nc["time"].dtype.kind == "M", "CF time decodes to datetime64"
        np.testing.assert_array_equal(nc["time"].values, original["time"].values)
        np.testing.assert_array_equal(nc["mean_warmth"].values, original["mean_warmth"].values)
        assert list(nc["ward"].values) == list(original["ward"].values)
        assert nc.attrs["format"] == "contactsim-netcdf-1" and nc.attrs["source_file"] == str(small_run[0])
        assert nc["time"].encoding["units"] == "days since 1970-01-01"
    with h5py.File(output, "r") as exported, h5py.File(small_run[0], "r") as run:
        ours, theirs = exported["time"], run["series/time"]
        assert ours.dtype == theirs.dtype == np.int64, "the export encodes time as the run file does"
        for attribute in ("units", "calendar"):
            assert ours.attrs[attribute] == theirs.attrs[attribute], attribute
        np.testing.assert_array_equal(ours[()], theirs[()])
    with xr.open_dataset(output, group="events", engine="h5netcdf") as events:
        assert set(events.data_vars) >= {"kind", "subject", "detail", "venues_affected"}


@pytest.mark.skipif(shutil.which("ncdump") is None, reason="netcdf-bin (ncdump) is not installed")
def test_ncdump_reads_the_run_and_its_netcdf_export(small_run, tmp_path):
    output = tmp_path / "run.nc"
    export(small_run[0], "-o", output)
    header = subprocess.run(["ncdump", "-h", str(output)], capture_output=True, text=True, timeout=60)
    assert header.returncode == 0, header.stderr
    assert 'time:units = "days since 1970-01-01"' in header.stdout
    run = subprocess.run(["ncdump", "-h", str(small_run[0])], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "group: series" in run.stdout, run.stderr
    assert 'time:units = "days since 1970-01-01"' in run.stdout, "the run file itself carries CF time"


def test_the_run_files_series_group_opens_with_h5netcdf_and_cf_dates(small_run):
    import xarray as xr
    from contactsim import open_results
    original = open_results(small_run[0])
    with xr.open_dataset(small_run[0], group="series", engine="h5netcdf") as series:
        assert series["time"].dtype.kind == "M", "CF time decodes to datetime64 without help"
        np.testing.assert_array_equal(series["time"].values, original["time"].values)
        np.testing.assert_array_equal(series["tension"].values, original["tension"].values)
        assert series["tension"].dims == ("time", "ward")


R_READS_A_RUN = """
library(ncdf4)
nc <- nc_open(commandArgs(TRUE)[1])
dates <- as.Date(ncvar_get(nc, "series/time"), origin = "1970-01-01")
tension <- ncvar_get(nc, "series/tension")
cat(format(dates[length(dates)]), dim(tension), which.max(tension), max(tension), "\n")
cat(ncatt_get(nc, "series/time", "units")$value, "\n")
nc_close(nc)
"""


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R (Debian r-cran-ncdf4) is not installed")
def test_r_reads_a_run_with_ncdf4(small_run, tmp_path):
    """The README's R example: dates from CF time, a series with R's reversed axes."""
    from contactsim import open_results
    script = tmp_path / "read_run.R"
    script.write_text(R_READS_A_RUN)
    result = subprocess.run(["Rscript", str(script), str(small_run[0])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    last_date, wards, records, where, largest = first.split()
    tension = open_results(small_run[0])["tension"]
    assert last_date == str(tension["time"].values[-1])[:10]
    assert (int(wards), int(records)) == (tension.sizes["ward"], tension.sizes["time"])
    assert float(largest) == pytest.approx(float(tension.max()), rel=1e-6) and float(largest) > 0
    record, ward = divmod(int(where) - 1, int(wards))  # R is column-major over (ward, time)
    assert float(tension.values[record, ward]) == pytest.approx(float(largest), rel=1e-6)
    assert second.strip() == "days since 1970-01-01"


def test_effects_of_a_sweep_carry_the_parameter_values(swept):
    """effects() and compare() put each point's swept values in columns; plot_effects names lines by them."""
    import warnings
    import contactsim
    from contactsim import plotting
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", contactsim.EffectWarning)
        fx = contactsim.effects(swept / "out/ensemble.h5", metrics=["contacts_positive"], by=())
    assert dict(fx.groupby("point")["mechanisms.valence.beta0"].first()) == {0: 1.0, 1: 1.2}
    compared = contactsim.compare(swept / "out/ensemble.h5", metrics=["contacts_positive"])
    assert list(compared.columns[:3]) == ["scenario", "point", "mechanisms.valence.beta0"]
    assert dict(compared.groupby("point")["mechanisms.valence.beta0"].first()) == {0: 1.0, 1: 1.2}
    axes = plotting.plot_effects(fx, "contacts_positive")
    assert [line.get_label() for line in axes[0].get_lines()[:2]] == ["closed, beta0 = 1", "closed, beta0 = 1.2"]
    import matplotlib.pyplot as plt
    plt.close("all")
