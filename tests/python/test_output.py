"""contactsim's HDF5 output read with h5py alone (DESIGN §5): provenance, tables, series with
dimension scales, values, crash safety; and the `info` and `--version` commands."""
import datetime
import hashlib
import math
import re
import signal
import subprocess
import tomllib

import h5py
import numpy as np
import pytest

from conftest import SEED, THREADS, UNTIL, ReportingRun, cli_env, iso_dates, run_cli

SCALE = 0.05
SERIES_DIMS = {
    "population": ("time", "ward", "group"),
    "mean_warmth": ("time", "ward", "group", "target_group"),
    "get_on_well_share": ("time", "ward", "group"),
    "mean_anxiety": ("time", "ward", "group"),
    "contacts_positive": ("time", "ward", "group", "venue_type"),
    "contacts_negative": ("time", "ward", "group", "venue_type"),
}
MONTH_ENDS = ["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30", "2020-05-31", "2020-06-30"]


def text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def texts(values) -> list[str]:
    return [text(v) for v in values]


def half_up(x: float) -> int:
    return math.floor(x + 0.5)


@pytest.fixture(scope="module")
def h5(small_run):
    output, _, _ = small_run
    with h5py.File(output, "r") as f:
        yield f


@pytest.fixture(scope="module")
def groups(base_doc) -> list[str]:
    return list(base_doc["groups"].keys())


@pytest.fixture(scope="module")
def venue_types(base_doc) -> list[str]:
    return list(base_doc["venue_types"].keys())


@pytest.fixture(scope="module")
def expected_residents(base_doc, groups) -> list[int]:
    totals = base_doc["population"]["synthetic"]["totals"]
    return [half_up(SCALE * totals[g]) for g in groups]


def project_version(source_dir) -> str:
    cmake = (source_dir / "CMakeLists.txt").read_text(encoding="utf-8")
    match = re.search(r"project\(\s*contactsim\s+VERSION\s+([0-9][0-9.]*)", cmake)
    assert match, "no project(contactsim VERSION ...) in CMakeLists.txt"
    return match.group(1)


# ----------------------------------------------------------------------------- provenance

def test_root_attributes(h5, small_run, source_dir):
    _, scenario, _ = small_run
    for name in ("contactsim_version", "git_revision", "scenario_text", "scenario_sha256", "seed", "threads",
                 "start_date", "end_date", "format"):
        assert name in h5.attrs, f"root attribute {name!r} missing; have {sorted(h5.attrs)}"
    assert text(h5.attrs["contactsim_version"]) == project_version(source_dir)
    assert text(h5.attrs["git_revision"]).strip()
    assert int(h5.attrs["seed"]) == SEED
    assert int(h5.attrs["threads"]) == THREADS
    assert text(h5.attrs["start_date"]) == "2020-01-01"
    assert text(h5.attrs["end_date"]) == UNTIL
    assert text(h5.attrs["format"]).startswith("contactsim-output-")


def test_scenario_text_is_the_resolved_scenario_and_hashed(h5):
    scenario_text = text(h5.attrs["scenario_text"])
    sha = text(h5.attrs["scenario_sha256"])
    assert re.fullmatch(r"[0-9a-f]{64}", sha), sha
    assert hashlib.sha256(scenario_text.encode("utf-8")).hexdigest() == sha
    # What actually ran: the base merged with the small file's overrides, no `extends` left.
    doc = tomllib.loads(scenario_text)
    assert "extends" not in doc
    assert doc["population"]["scale"] == SCALE
    assert doc["record"]["interval"] == "month"
    assert len(doc["groups"]) == 6


# ----------------------------------------------------------------------------- tables

def test_tables(h5, groups, venue_types, ward_names, expected_residents):
    for table in ("groups", "wards", "venues", "venue_types"):
        assert table in h5, f"/{table} missing"
    assert len(groups) == 6
    assert texts(h5["groups"]["name"]) == groups
    assert len(ward_names) == 37
    assert texts(h5["wards"]["name"]) == ward_names
    assert texts(h5["venue_types"]["name"]) == venue_types
    assert list(h5["groups"]["residents"]) == expected_residents
    assert int(np.sum(h5["wards"]["residents"])) == sum(expected_residents)

    venues = h5["venues"]
    assert venues.shape[0] > 0
    assert set(texts(venues["type"])) <= set(venue_types)
    assert set(texts(venues["ward"])) <= set(ward_names)
    # Every standing venue type has venues; esol_class and festival only count contact from
    # sessions that ESOL courses and festivals in a timeline run.
    standing = set(venue_types) - {"esol_class", "festival"}
    assert set(texts(venues["type"])) == standing, "every standing venue type has venues in the default scenario"


# ----------------------------------------------------------------------------- series layout

def test_time_holds_cf_month_ends(h5):
    time = h5["series/time"]
    assert time.dtype == np.int64 and text(time.attrs["units"]) == "days since 1970-01-01"
    assert text(time.attrs["calendar"]) == "proleptic_gregorian"
    dates = [str(np.datetime64("1970-01-01", "D") + np.timedelta64(int(d), "D")) for d in time[:]]
    assert dates == MONTH_ENDS
    for d in dates:
        datetime.date.fromisoformat(d)


def test_series_shapes_and_types(h5, groups, venue_types, ward_names):
    lengths = {"time": len(MONTH_ENDS), "ward": len(ward_names), "group": len(groups),
               "target_group": len(groups), "venue_type": len(venue_types)}
    for name, dims in SERIES_DIMS.items():
        ds = h5[f"series/{name}"]
        assert ds.shape == tuple(lengths[d] for d in dims), f"{name}: shape {ds.shape} for dims {dims}"
        if name in ("population", "contacts_positive", "contacts_negative"):
            assert np.issubdtype(ds.dtype, np.integer), f"{name}: {ds.dtype}"
        else:
            assert np.issubdtype(ds.dtype, np.floating), f"{name}: {ds.dtype}"


def test_every_axis_has_its_dimension_scale(h5, groups, venue_types, ward_names):
    labels = {"time": MONTH_ENDS, "ward": ward_names, "group": groups, "target_group": groups,
              "venue_type": venue_types}
    for name, dims in SERIES_DIMS.items():
        ds = h5[f"series/{name}"]
        for k, dim in enumerate(dims):
            axis = ds.dims[k]
            assert axis.label == dim, f"{name} axis {k}: label {axis.label!r}, expected {dim!r}"
            assert len(axis) == 1, f"{name} axis {k} ({dim}): {len(axis)} scales attached"
            scale = axis[0]
            assert h5py.h5ds.is_scale(scale.id), f"{name} axis {k}: {scale.name} is not a dimension scale"
            assert scale.name == f"/series/{dim}"
            assert list(axis.keys()) == [dim], f"{name} axis {k}: scale named {list(axis.keys())}"
            values = iso_dates(scale) if dim == "time" else texts(scale[:])
            assert values == labels[dim], f"{name} axis {k} ({dim}): labels differ"


def test_series_are_chunked_and_compressed(h5):
    for name in SERIES_DIMS:
        ds = h5[f"series/{name}"]
        assert ds.chunks is not None, f"{name} is not chunked"
        assert ds.compression == "gzip", f"{name}: compression {ds.compression!r}"
        assert ds.maxshape[0] is None, f"{name} cannot grow along time"


# ----------------------------------------------------------------------------- values

def test_values_in_range(h5):
    for name in ("mean_warmth", "get_on_well_share", "mean_anxiety"):
        values = h5[f"series/{name}"][:]
        assert np.all(np.isfinite(values)), f"{name} has NaN or inf"
        assert values.min() >= 0.0 and values.max() <= 1.0, f"{name} outside [0, 1]: {values.min()}..{values.max()}"
    positive = h5["series/contacts_positive"][:]
    negative = h5["series/contacts_negative"][:]
    assert positive.min() >= 0 and negative.min() >= 0
    per_record = positive.reshape(positive.shape[0], -1).sum(axis=1)
    assert np.all(per_record > 0), f"a month without positive contacts: {per_record}"
    assert negative.sum() > 0


def test_population_matches_the_scaled_group_totals(h5, expected_residents):
    population = h5["series/population"][:]
    assert population.min() >= 0
    by_group = population[0].sum(axis=0)  # summed over wards, at the end of January
    # Three spin-up years of migration, births and deaths have moved each group's count a little
    # from the scenario's (scaled) totals; the city's total they keep exactly.
    assert by_group.sum() == sum(expected_residents)
    assert np.allclose(by_group, expected_residents, rtol=0.05, atol=5), (list(by_group), expected_residents)


def test_population_total_constant_while_composition_moves(h5):
    # Mobility re-uses the slots of residents who leave (and die) for newcomers (and newborns):
    # the city's total stays the scenario's while wards and groups change.
    population = h5["series/population"][:]
    totals = population.sum(axis=(1, 2))
    assert np.all(totals == totals[0]), f"total population changes: {totals}"
    assert not np.array_equal(population[-1], population[0]), "nobody moved, arrived or left in six months"


def test_records_attribute_counts_the_time_axis(h5):
    assert int(h5.attrs["records"]) == len(h5["series/time"])


# ----------------------------------------------------------------------------- commands

def test_info(cli, small_run, ward_names):
    output, _, _ = small_run
    result = run_cli(cli, "info", output)
    assert "mean_warmth" in result.stdout
    ward_lines = [line for line in result.stdout.splitlines() if re.match(r"\s*wards?\b", line)]
    assert any(re.search(rf"\b{len(ward_names)}\b", line) for line in ward_lines), result.stdout


def test_version(cli, source_dir):
    result = run_cli(cli, "--version")
    assert re.search(rf"\bcontactsim {re.escape(project_version(source_dir))}\b", result.stdout), result.stdout


# ----------------------------------------------------------------------------- crash safety

def test_killed_run_leaves_a_readable_file(cli, base_scenario, tmp_path):
    # The guarantee is for a kill between records, where a run spends its time: a city large
    # enough that a week of simulation takes far longer than writing its record, and a kill
    # sent as soon as the run reports its fourth record flushed (through a pipe, not a poll
    # with a deadline that a loaded machine can miss).
    scenario = tmp_path / "kill_me.toml"
    scenario.write_text(f'extends = "{base_scenario.as_posix()}"\n[population]\nscale = 0.3\n'
                        '[record]\ninterval = "week"\n', encoding="utf-8")
    output = tmp_path / "killed.h5"
    partial = tmp_path / "killed.h5.partial"  # the name until the run completes
    with ReportingRun([cli, "run", scenario, "-o", output, "--threads", THREADS, "--quiet"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env()) as run:
        assert run.wait_for_records(4), f"run ended early ({run.process.poll()}): {run.process.stderr.read()}"
        run.kill()
    assert run.process.returncode == -signal.SIGKILL

    assert not output.exists()
    with h5py.File(partial, "r", swmr=True) as f:
        dates = iso_dates(f["series/time"])
        assert len(dates) >= run.records >= 4
        assert int(f.attrs["records"]) == len(dates)
        for name in SERIES_DIMS:
            assert f[f"series/{name}"].shape[0] >= len(dates), f"{name} holds fewer records than time"
        assert dates[0] == "2020-01-07"
        days = [datetime.date.fromisoformat(d) for d in dates]
        for previous, current in zip(days, days[1:]):
            assert current - previous == datetime.timedelta(days=7), f"{previous} then {current}"
        # Completed records hold real data: the same residents every day, warmth in range.
        complete = len(dates)
        population = f["series/population"][:complete]
        assert population.sum(axis=(1, 2)).min() > 0
        assert np.all(population.sum(axis=(1, 2)) == population[0].sum())
        warmth = f["series/mean_warmth"][:complete]
        assert np.all((warmth >= 0) & (warmth <= 1))
