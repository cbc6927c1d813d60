"""Ensembles: `contactsim ensemble` and `compare`, resume, common random numbers, MPI, bad specs,
and the Python equivalents (run_ensemble, open_ensemble, compare)."""
import os
import pathlib
import shutil
import signal
import subprocess
import time
import warnings

import h5py
import numpy as np
import pytest

import contactsim
from conftest import cli_env, iso_dates, run_cli

UNTIL = "2020-02-29"


def write_spec(directory: pathlib.Path, source_dir: pathlib.Path, extra: str = "", replicates: int = 3,
               counterfactual: bool = True, crn: bool = True, top: str = "", overrides: str = "") -> pathlib.Path:
    """`top`: more root keys; `overrides`: more lines of [overrides]; `extra`: appended at the end."""
    scenarios = source_dir / "scenarios"
    text = f"""name = "test ensemble"
seed = 11
replicates = {replicates}
threads = 1
until = {UNTIL}
common_random_numbers = {str(crn).lower()}
{top}
[overrides]
"population.scale" = 0.02
"record.interval" = "month"
{overrides}

[baseline]
scenario = "{(scenarios / 'stoke_on_trent.toml').as_posix()}"
"""
    if counterfactual:
        # A lockdown of community centres and youth clubs from 20 January: a clear, early policy.
        text += """
[[counterfactuals]]
name = "closed"
overrides = { "timeline" = [ { kind = "close", date = 2020-01-20, venue_type = "community_centre", label = "closed" } ] }
"""
    path = directory / "spec.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ensemble(cli, source_dir, tmp_path_factory):
    """One CRN ensemble run once for the module: (spec, output folder)."""
    directory = tmp_path_factory.mktemp("ensemble")
    spec = write_spec(directory, source_dir)
    out = directory / "out"
    env = cli_env()
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    run_cli(cli, "ensemble", spec, "-o", out, "-q", env=env)
    return spec, out


def test_master_links_every_run(ensemble, tmp_path, monkeypatch):
    spec, out = ensemble
    monkeypatch.chdir(tmp_path)  # external links resolve relative to the master file, not the working directory
    with h5py.File(out / "ensemble.h5", "r") as f:
        assert f.attrs["format"] == "contactsim-ensemble-1"
        assert f.attrs["spec_text"].startswith("common_random_numbers") or "seed = 11" in f.attrs["spec_text"]
        names = sorted(f["run"])
        assert names == [f"{s}_r{r:03d}" for s in ("baseline", "closed") for r in range(3)]
        runs = f["runs"][()]
        assert [n.decode() for n in runs["name"]] == [f"{s}_r{r:03d}" for s in ("baseline", "closed") for r in range(3)]
        assert set(runs["seed"]) == {11}
        for name in names:
            run = f["run"][name]
            assert run.attrs["complete"] == 1
            assert iso_dates(run["series/time"])[-1] == UNTIL
            assert run.attrs["replicate"] == int(name[-3:])
    assert not list(out.rglob("*.partial"))


def test_replicate_r_of_each_scenario_shares_random_numbers(ensemble):
    _, out = ensemble
    with h5py.File(out / "runs/baseline_r000.h5") as b, h5py.File(out / "runs/closed_r000.h5") as c, \
            h5py.File(out / "runs/baseline_r001.h5") as b1:
        # Before the closure on 20 January nothing differs, so the January record agrees in full
        # wherever community centres play no part.
        base, closed = b["series/contacts_positive"][0], c["series/contacts_positive"][0]
        school = list(b["series/venue_type"].asstr()[:]).index("school")
        assert np.array_equal(b["series/population"][:], c["series/population"][:])
        assert not np.array_equal(base, b1["series/contacts_positive"][0]), "replicates differ"
        assert np.abs(base[..., school] - closed[..., school]).sum() < 0.02 * base[..., school].sum()


def test_compare_reports_paired_intervals(cli, ensemble, tmp_path):
    _, out = ensemble
    csv = tmp_path / "cmp.csv"
    result = run_cli(cli, "compare", out / "ensemble.h5", "-o", csv)
    assert "paired" in result.stdout and "contacts_positive" in result.stdout
    import pandas as pd
    table = pd.read_csv(csv)
    assert set(table.method) == {"paired"}
    city = table[(table.ward == "all") & (table.group == "all")].set_index("metric")
    # Closing community centres removes their contact: fewer positive encounters, clearly.
    assert city.loc["contacts_positive", "ci_high"] < 0
    assert (table.ci_low <= table.difference + 1e-12).all() and (table.difference <= table.ci_high + 1e-12).all()
    # The Python equivalent gives the same numbers.
    frame = contactsim.compare(out / "ensemble.h5")
    row = frame[(frame.metric == "contacts_positive") & (frame.ward == "all") & (frame.group == "all")].iloc[0]
    assert row.difference == pytest.approx(city.loc["contacts_positive", "difference"], rel=1e-8)


def test_paired_interval_is_much_narrower_than_independent_seeds(cli, ensemble, source_dir, tmp_path):
    _, out = ensemble
    independent = tmp_path / "independent"
    spec = write_spec(tmp_path, source_dir, crn=False)
    run_cli(cli, "ensemble", spec, "-o", independent, "-q")
    widths = {}
    for label, master in [("paired", out / "ensemble.h5"), ("independent", independent / "ensemble.h5")]:
        frame = contactsim.compare(master, metrics=["outgroup_warmth", "contacts_positive"])
        city = frame[(frame.ward == "all") & (frame.group == "all")].set_index("metric")
        widths[label] = (city.ci_high - city.ci_low)
        assert set(frame.method) == {"paired" if label == "paired" else "welch"}
    for metric in ("outgroup_warmth", "contacts_positive"):
        assert widths["paired"][metric] < 0.5 * widths["independent"][metric], (metric, widths)


def test_rerun_skips_finished_runs_and_redoes_damaged_ones(cli, ensemble, tmp_path):
    spec, finished = ensemble
    out = tmp_path / "resume"
    shutil.copytree(finished, out)
    (out / "ensemble.h5").unlink()
    (out / "runs/closed_r001.h5").unlink()                       # missing
    damaged = out / "runs/baseline_r002.h5"
    damaged.write_bytes(damaged.read_bytes()[:4000])             # truncated
    (out / "runs/closed_r002.h5.partial").write_bytes(b"half")   # a killed run's leftovers
    kept = out / "runs/baseline_r000.h5"
    kept_mtime = kept.stat().st_mtime_ns
    env = cli_env()
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    run_cli(cli, "ensemble", spec, "-o", out, "-q", env=env)
    assert kept.stat().st_mtime_ns == kept_mtime, "a finished run is not redone"
    for name in ("closed_r001", "baseline_r002", "baseline_r000"):
        assert (out / f"runs/{name}.h5").read_bytes() == (finished / f"runs/{name}.h5").read_bytes()
    assert (out / "ensemble.h5").read_bytes() == (finished / "ensemble.h5").read_bytes()
    assert not (out / "runs/closed_r002.h5.partial").exists() or (out / "runs/closed_r002.h5").exists()


def test_killed_ensemble_resumes_to_the_same_bytes(cli, ensemble, tmp_path):
    spec, finished = ensemble
    out = tmp_path / "killed"
    env = cli_env()
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    child = subprocess.Popen([str(cli), "ensemble", str(spec), "-o", str(out), "-q"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Killed once two of its six runs are published, however long that takes (a deadline that
    # passed under load used to kill it anywhere, or after it had finished).
    try:
        while not (out / "runs/baseline_r001.h5").exists():
            assert child.poll() is None, f"the ensemble ended ({child.returncode}) before its second run"
            time.sleep(0.002)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert not (out / "ensemble.h5").exists()
    run_cli(cli, "ensemble", spec, "-o", out, "-q", env=env)
    for run in sorted((finished / "runs").glob("*.h5")):
        assert (out / "runs" / run.name).read_bytes() == run.read_bytes(), run.name


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="Open MPI is not installed")
def test_mpi_ranks_write_the_same_bytes_as_the_serial_ensemble(cli, ensemble, tmp_path):
    spec, finished = ensemble
    out = tmp_path / "mpi"
    env = cli_env()
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    result = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", str(cli), "ensemble",
                             str(spec), "-o", str(out), "-q"], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("master file") == 1, "only rank 0 writes the master file"
    # Every output, byte for byte; the spin-up cache (spin-up/) holds states, not results.
    outputs = [f for f in sorted(finished.rglob("*.h5")) if f.parent.name != "spin-up"]
    assert outputs
    for run in outputs:
        assert (out / run.relative_to(finished)).read_bytes() == run.read_bytes(), run.name


def epoch_env() -> dict:
    env = cli_env()
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    return env


def results_of(folder: pathlib.Path) -> list:
    """Every output of an ensemble folder: run files and master file (the spin-up cache holds states)."""
    return [f.relative_to(folder) for f in sorted(folder.rglob("*.h5")) if f.parent.name != "spin-up"]


def test_the_fixture_branches_and_leaves_no_branch_states(ensemble):
    spec, finished = ensemble
    runs = contactsim.describe_ensemble(spec)["runs"]
    closed = [run for run in runs if run["scenario"] == "closed"]
    # The closure takes effect on 2020-01-20: each closed run continues its baseline's state of the 19th.
    assert [run["branch_day"] for run in closed] == ["2020-01-19"] * 3
    assert [run["branches_from"] for run in closed] == ["baseline_r000", "baseline_r001", "baseline_r002"]
    assert not (finished / "branches").exists()


@pytest.mark.parametrize("flags", [["-j", "3"], ["--no-branch"], ["-j", "2", "--no-branch"]])
def test_processes_and_unbranched_runs_write_the_bytes_of_the_serial_branched_ensemble(cli, ensemble, tmp_path, flags):
    spec, finished = ensemble
    out = tmp_path / "other"
    result = run_cli(cli, "ensemble", spec, "-o", out, "-q", *flags, env=epoch_env())
    assert result.stdout.count("master file") == 1
    assert results_of(out) == results_of(finished) and len(results_of(finished)) == 7
    for path in results_of(finished):
        assert (out / path).read_bytes() == (finished / path).read_bytes(), path
    assert not (out / "branches").exists() and not list(out.rglob("*.partial"))


def test_spin_ups_are_kept_in_the_shared_cache_for_later_runs_and_ensembles(cli, ensemble, source_dir, tmp_path):
    """--spin-up-cache: each replicate's spin-up lands in the shared folder (not OUT/spin-up); a run of
    the same city, seed and replicate restores it; a second ensemble (-j 2) reuses it; the bytes never change."""
    spec, finished = ensemble
    cache = tmp_path / "cache"
    run_cli(cli, "ensemble", spec, "-o", tmp_path / "first", "-q", "--spin-up-cache", cache, env=epoch_env())
    states = sorted(cache.glob("spin-up-*.h5"))
    assert len(states) == 3, "one spin-up per replicate, shared by its baseline and counterfactual"
    written = {state.name: state.read_bytes() for state in states}
    run_cli(cli, "ensemble", spec, "-o", tmp_path / "second", "-j", "2", "-q", "--spin-up-cache", cache,
            env=epoch_env())
    assert {state.name: state.read_bytes() for state in sorted(cache.glob("spin-up-*.h5"))} == written
    run_cli(cli, "ensemble", spec, "-o", tmp_path / "own", "-q", "--no-spin-up-cache", env=epoch_env())
    assert len(list((tmp_path / "own/spin-up").glob("spin-up-*.h5"))) == 3
    for folder in ("first", "second", "own"):
        assert results_of(tmp_path / folder) == results_of(finished), folder
        for path in results_of(finished):
            assert (tmp_path / folder / path).read_bytes() == (finished / path).read_bytes(), (folder, path)
    assert not (tmp_path / "first/spin-up").exists() and not (tmp_path / "second/spin-up").exists()
    # A plain run of the same city (the spec's overrides as a scenario), seed and replicate finds
    # the ensemble's state: no spin-up day simulated, nothing added to the cache.
    scenario = tmp_path / "same_city.toml"
    scenario.write_text(f'extends = "{(source_dir / "scenarios/stoke_on_trent.toml").as_posix()}"\n'
                        '[population]\nscale = 0.02\n[record]\ninterval = "month"\n', encoding="utf-8")
    result = run_cli(cli, "run", scenario, "-o", tmp_path / "plain.h5", "--seed", "11", "--replicate", "1",
                     "--until", "2020-01-31", "--spin-up-cache", cache, "-q")
    assert len(list(cache.glob("spin-up-*.h5"))) == 3
    assert "(0 of them spin-up days)" in result.stdout, result.stdout


def test_a_failed_run_is_named_and_the_others_finish(cli, ensemble, tmp_path):
    spec, finished = ensemble
    out = tmp_path / "failing"
    (out / "runs").mkdir(parents=True)
    shutil.copy(finished / "ensemble_spec.toml", out / "ensemble_spec.toml")
    # A folder where closed_r001's output must be written: that run fails, no other.
    blocker = out / "runs/closed_r001.h5.partial"
    blocker.mkdir()
    result = run_cli(cli, "ensemble", spec, "-o", out, "-q", "-j", "2", env=epoch_env(), check=False)
    assert result.returncode == 1
    assert "run closed_r001:" in result.stderr and "1 of 6 runs failed (closed_r001)" in result.stderr, result.stderr
    assert not (out / "ensemble.h5").exists(), "no master file over a failed ensemble"
    done = sorted(path.name for path in (out / "runs").glob("*.h5"))
    assert done == ["baseline_r000.h5", "baseline_r001.h5", "baseline_r002.h5", "closed_r000.h5", "closed_r002.h5"]
    for name in done:
        assert (out / "runs" / name).read_bytes() == (finished / "runs" / name).read_bytes(), name
    # Rerun once the obstacle is gone: only the failed run is done, and the result is the serial one.
    blocker.rmdir()
    run_cli(cli, "ensemble", spec, "-o", out, "-q", "-j", "2", env=epoch_env())
    for path in results_of(finished):
        assert (out / path).read_bytes() == (finished / path).read_bytes(), path


@pytest.mark.parametrize("jobs", ["0", "-2", "two", "1025"])
def test_bad_job_counts_are_refused_before_anything_is_written(cli, ensemble, tmp_path, jobs):
    spec, _ = ensemble
    out = tmp_path / "never"
    result = run_cli(cli, "ensemble", spec, "-o", out, "-j", jobs, check=False)
    assert result.returncode == 2
    assert "how many runs to simulate at once, a whole number from 1 to 1024" in result.stderr, result.stderr
    assert not out.exists()


def test_python_run_ensemble_with_processes_matches_the_cli(ensemble, tmp_path, monkeypatch):
    spec, finished = ensemble
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    master = contactsim.run_ensemble(spec, tmp_path / "py", processes=2, spin_up_cache=tmp_path / "cache")
    for run in sorted((finished / "runs").glob("*.h5")):
        assert (tmp_path / "py/runs" / run.name).read_bytes() == run.read_bytes(), run.name
    assert len(list((tmp_path / "cache").glob("spin-up-*.h5"))) == 3 and not (tmp_path / "py/spin-up").exists()
    ds = contactsim.open_ensemble(master)
    assert ds.contacts_positive.dims[:3] == ("scenario", "point", "replicate")
    assert list(ds.scenario.values) == ["baseline", "closed"] and list(ds.replicate.values) == [0, 1, 2]
    with h5py.File(finished / "runs/closed_r002.h5") as f:
        assert np.array_equal(ds.contacts_positive.sel(scenario="closed", replicate=2).isel(point=0).values,
                              f["series/contacts_positive"][:])
    assert ds.attrs["seed"] == 11


def test_sweeps_plan_points_and_name_runs(cli, source_dir, tmp_path):
    sweep = """
[sweep]
design = "latin_hypercube"
samples = 3
seed = 4
[sweep.parameters."mechanisms.valence.beta0"]
min = 0.8
max = 1.6
[sweep.parameters."mechanisms.friendships.max_degree"]
min = 2
max = 8
"""
    spec = write_spec(tmp_path, source_dir, extra=sweep, replicates=1, counterfactual=False)
    described = contactsim.describe_ensemble(spec)
    assert described["parameters"] == ["mechanisms.valence.beta0", "mechanisms.friendships.max_degree"]
    beta = sorted(p[0] for p in described["points"])
    assert all(0.8 <= b < 1.6 for b in beta) and len({int((b - 0.8) / 0.8 * 3) for b in beta}) == 3
    assert [r["name"] for r in described["runs"]] == ["baseline_p000_r000", "baseline_p001_r000", "baseline_p002_r000"]
    out = tmp_path / "sweep"
    run_cli(cli, "ensemble", spec, "-o", out, "-q")
    ds = contactsim.open_ensemble(out)
    assert ds.sizes["point"] == 3
    np.testing.assert_allclose(sorted(ds["mechanisms.valence.beta0"].values), beta)
    with h5py.File(out / "runs/baseline_p001_r000.h5") as f:
        text = f.attrs["scenario_text"]
        assert "beta0" in text


def assert_ensemble_refused(cli, spec, out, prefix, pattern):
    """`contactsim ensemble spec -o out` exits 2 with an error starting `prefix` and matching
    `pattern`, and writes nothing."""
    import re
    result = run_cli(cli, "ensemble", spec, "-o", out, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(prefix), result.stderr
    assert re.search(pattern, result.stderr), result.stderr
    assert not out.exists(), "nothing written"


@pytest.mark.parametrize("extra, pattern", [
    ('\n[sweep]\ndesign = "grid"\n', r"sweep.parameters: expected at least one"),
    ('\n[sweep]\ndesign = "sobol"\nsamples = 4\n[sweep.parameters."mechanisms.valence.beta0"]\nmin = 2\nmax = 1\n',
     r"max: expected max > min"),
    ('\n[sweep]\ndesign = "grid"\n[sweep.parameters."mechanisms.valence.beta0"]\nvalues = []\n',
     r"values: expected a non-empty list"),
    ('\n[sweep]\ndesign = "grid"\n[sweep.parameters."mechanisms.valence.nonsense"]\nvalues = [1.0]\n',
     r'sweep.parameters.mechanisms.valence.nonsense: not a valid parameter value .*unknown key'),
    ('\n[[counterfactuals]]\nname = "x"\nscenario = "no_such_scenario.toml"\n',
     r"counterfactuals\[1\]\.scenario: file not found"),
    ('\n[[counterfactuals]]\nname = "y"\noverrides = { "mechanisms.valence.beta0" = 99 }\n',
     r"mechanisms.valence.beta0: override for scenario 'y'.*expected a number in \[-10, 10\]"),
    ('\n[[counterfactuals]]\nname = "closed"\n', r"counterfactuals\[1\]\.name: expected a name not used"),
])
def test_bad_specs_are_refused_precisely(cli, source_dir, tmp_path, extra, pattern):
    spec = write_spec(tmp_path, source_dir, extra=extra)
    assert_ensemble_refused(cli, spec, tmp_path / "never", f"error: {spec}:", pattern)


def test_a_folder_holding_another_ensemble_is_refused(cli, ensemble, source_dir, tmp_path):
    _, out = ensemble
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    other = write_spec(tmp_path, source_dir, replicates=2)
    result = run_cli(cli, "ensemble", other, "-o", out, check=False)
    assert result.returncode == 2
    assert "holds a different ensemble" in result.stderr
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    with pytest.raises(contactsim.ScenarioError, match="holds a different ensemble"):
        contactsim.run_ensemble(other, out)


def test_compare_rejects_unknown_metrics(cli, ensemble):
    _, out = ensemble
    result = run_cli(cli, "compare", out / "ensemble.h5", "--metric", "happiness", check=False)
    assert result.returncode == 2 and "unknown metric; expected one of: outgroup_warmth" in result.stderr
    with pytest.raises(contactsim.ScenarioError, match="unknown metric"):
        contactsim.compare(out / "ensemble.h5", metrics=["happiness"])


def test_the_example_spec_validates(source_dir):
    described = contactsim.describe_ensemble(source_dir / "scenarios/ensembles/community_centre_cuts.toml")
    assert described["scenarios"] == ["baseline", "cut40"]
    assert len(described["runs"]) == 2 * 3 * described["replicates"]


def test_the_cut_sizes_spec_shares_one_baseline_among_the_sizes(source_dir):
    """Issue 15: a sweep of the cut's own item (scenarios = ["cut"]) leaves the baseline alone: its
    runs at later points are point 0's (same_as), and every size branches from that one run."""
    described = contactsim.describe_ensemble(source_dir / "scenarios/ensembles/centre_cut_sizes.toml")
    assert described["parameters"] == ["timeline[0].change"]
    runs = {run["name"]: run for run in described["runs"]}
    for replicate in range(described["replicates"]):
        first = f"baseline_p000_r{replicate:03d}"
        assert runs[first]["same_as"] is None
        for point in (1, 2):
            assert runs[f"baseline_p{point:03d}_r{replicate:03d}"]["same_as"] == first
        for point in (0, 1, 2):
            cut = runs[f"cut_p{point:03d}_r{replicate:03d}"]
            assert cut["same_as"] is None and cut["branches_from"] == first and cut["branch_day"] == "2021-03-31"


def test_policy_sweep_effects_carry_the_swept_size(cli, source_dir, tmp_path):
    """Issue 15: sweeping a counterfactual's own timeline item runs (with -j 2), and the effects
    table has the swept value as a column, one row set per size, each against its baseline."""
    spec = write_spec(tmp_path, source_dir, replicates=2, counterfactual=False, extra=f"""
[[counterfactuals]]
name = "closed"
overrides = {{ "timeline" = [ {{ kind = "budget", date = 2020-01-20, venue_type = "community_centre", change = -0.5 }} ] }}

[sweep]
design = "grid"
[sweep.parameters."timeline[0].change"]
values = [-0.5, -1.0]
scenarios = ["closed"]
""")
    out = tmp_path / "out"
    run_cli(cli, "ensemble", spec, "-o", out, "-q", "-j", "2")
    with h5py.File(out / "runs/baseline_p001_r001.h5", "r") as copy, \
            h5py.File(out / "runs/baseline_p000_r001.h5", "r") as first:
        assert int(copy.attrs["ensemble_point"]) == 1
        np.testing.assert_array_equal(copy["series/mean_warmth"][:], first["series/mean_warmth"][:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", contactsim.EffectWarning)
        table = contactsim.effects(out / "ensemble.h5", metrics=["contacts_positive"])
    assert sorted(table["timeline[0].change"].unique()) == [-1.0, -0.5]
    assert set(table["point"]) == {0, 1}


def test_compare_output_refuses_an_existing_file_and_its_own_master(cli, ensemble, tmp_path):
    """Issue 16, D9: `compare -o FILE` refuses an existing FILE without --force, and the master
    file it reads always (by any name), leaving both as they were."""
    _, out = ensemble
    master = out / "ensemble.h5"
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me", encoding="utf-8")
    result = run_cli(cli, "compare", master, "-o", existing, check=False)
    assert result.returncode == 1, result.stderr
    assert f"{existing}: output file exists; pass --force to overwrite" in result.stderr
    assert existing.read_text(encoding="utf-8") == "keep me"
    run_cli(cli, "compare", master, "-o", existing, "--force")
    assert existing.read_text(encoding="utf-8").startswith("scenario,point,metric")

    master_bytes = master.read_bytes()
    link = tmp_path / "master_link.h5"
    link.symlink_to(master)
    hard = tmp_path / "master_hard.h5"
    os.link(master, hard)
    for target in (master, out / "." / "ensemble.h5", link, hard):
        result = run_cli(cli, "compare", master, "-o", target, "--force", check=False)
        assert result.returncode == 2, result.stderr
        assert "is the master file being compared" in result.stderr, result.stderr
    assert master.read_bytes() == master_bytes
    assert link.is_symlink() and os.path.samefile(hard, master)


# ----------------------------------------------------------------------------- parameter sets

# Two plausible parameter vectors, as history matching writes them (a comment, dotted keys).
PARAMETER_SETS = """# Plausible parameter vectors, best first.
[[set]]
"mechanisms.norms.societal_weight" = 0.3
"mechanisms.valence.beta0" = 1.1
[[set]]
"mechanisms.norms.societal_weight" = 0.8
"mechanisms.valence.beta0" = 1.4
"""
SET_VALUES = [{"societal_weight": 0.3, "beta0": 1.1}, {"societal_weight": 0.8, "beta0": 1.4}]
# Short runs with no spin-up: the sets' effect on the numbers is not what these tests check.
FAST = '"simulation.spin_up_days" = 0\n'


def write_sets_spec(directory: pathlib.Path, source_dir: pathlib.Path, sets_text: str = PARAMETER_SETS,
                    **kwargs) -> tuple[pathlib.Path, pathlib.Path]:
    sets = directory / "plausible.toml"
    sets.write_text(sets_text, encoding="utf-8")
    # A relative path: resolved against the spec's folder, like scenario paths.
    spec = write_spec(directory, source_dir, top='parameter_sets = "plausible.toml"\n', overrides=FAST, **kwargs)
    return spec, sets


def merged_scenario(run_file: pathlib.Path) -> tuple[dict, int]:
    """The merged scenario a run file holds, and the index of its parameter set."""
    import tomllib
    with h5py.File(run_file, "r") as f:
        return tomllib.loads(f.attrs["scenario_text"]), int(f.attrs["ensemble_parameter_set"])


def test_parameter_sets_are_dealt_to_replicates_of_every_scenario(cli, source_dir, tmp_path):
    spec, sets = write_sets_spec(tmp_path, source_dir, replicates=3)
    out = tmp_path / "out"
    result = run_cli(cli, "ensemble", spec, "-o", out, "-q")
    assert "2 parameter sets" in result.stdout
    for scenario in ("baseline", "closed"):
        for replicate, expected_set in [(0, 0), (1, 1), (2, 0)]:
            merged, used = merged_scenario(out / f"runs/{scenario}_r{replicate:03d}.h5")
            assert used == expected_set, (scenario, replicate)
            values = SET_VALUES[expected_set]
            assert merged["mechanisms"]["norms"]["societal_weight"] == values["societal_weight"], (scenario, replicate)
            assert merged["mechanisms"]["valence"]["beta0"] == values["beta0"], (scenario, replicate)
            # The spec's own overrides still apply underneath the set.
            assert merged["simulation"]["spin_up_days"] == 0 and merged["population"]["scale"] == 0.02
    with h5py.File(out / "ensemble.h5", "r") as f:
        assert f.attrs["parameter_sets_path"] == str(sets)
        assert f.attrs["parameter_sets_text"] == PARAMETER_SETS
        runs = f["runs"][()]
        assert [n.decode() for n in runs["name"]] == [f"{s}_r{r:03d}" for s in ("baseline", "closed") for r in range(3)]
        assert list(runs["parameter_set"]) == [0, 1, 0, 0, 1, 0]
    described = contactsim.describe_ensemble(spec)
    assert described["parameter_sets"] == 2 and [r["parameter_set"] for r in described["runs"]] == [0, 1, 0] * 2
    ds = contactsim.open_ensemble(out)
    assert list(ds.parameter_set.values) == [0, 1, 0] and ds.parameter_set.dims == ("replicate",)
    # Baseline and counterfactual of each replicate share their set, so compare still pairs them.
    frame = contactsim.compare(out / "ensemble.h5", metrics=["contacts_positive"])
    assert set(frame.method) == {"paired"} and set(frame.replicates) == {3}
    # A rerun finds every run complete: the per-set scenario hashes match the files.
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.h5")}
    run_cli(cli, "ensemble", spec, "-o", out, "-q")
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.h5")} == mtimes


def test_a_sweep_parameter_naming_a_set_key_wins(source_dir, tmp_path):
    sweep = '\n[sweep]\ndesign = "grid"\n[sweep.parameters."mechanisms.valence.beta0"]\nvalues = [0.7]\n'
    spec, _ = write_sets_spec(tmp_path, source_dir, replicates=2, counterfactual=False, extra=sweep)
    out = tmp_path / "out"
    contactsim.run_ensemble(spec, out)
    for replicate in (0, 1):
        merged, used = merged_scenario(out / f"runs/baseline_p000_r{replicate:03d}.h5")
        assert used == replicate
        assert merged["mechanisms"]["valence"]["beta0"] == 0.7
        assert merged["mechanisms"]["norms"]["societal_weight"] == SET_VALUES[replicate]["societal_weight"]


def test_ensembles_without_parameter_sets_mark_runs_with_no_set(ensemble):
    _, out = ensemble
    with h5py.File(out / "ensemble.h5", "r") as f:
        assert list(f["runs"][()]["parameter_set"]) == [-1] * 6
        assert f.attrs["parameter_sets_path"] == "" and f.attrs["parameter_sets_text"] == ""
        assert all(f["run"][name].attrs["ensemble_parameter_set"] == -1 for name in f["run"])


SET_HEAD = '[[set]]\n"mechanisms.norms.societal_weight" = 0.3\n"mechanisms.valence.beta0" = 1.1\n'


@pytest.mark.parametrize("sets_text, line, pattern", [
    # An extra key in the second set, at its line.
    (SET_HEAD + '[[set]]\n"mechanisms.norms.societal_weight" = 0.8\n"mechanisms.valence.beta0" = 1.4\n'
     '"mechanisms.friendships.max_degree" = 4\n', 7,
     r"set\[1\]\.mechanisms\.friendships\.max_degree: not named by set\[0\] \(line 1\)"),
    # A key missing from the second set, at the set's [[set]] line.
    (SET_HEAD + '[[set]]\n"mechanisms.norms.societal_weight" = 0.8\n', 4,
     r"set\[1\]\.mechanisms\.valence\.beta0: missing: set\[0\] names it \(line 3\)"),
    # A value out of the parameter's range, at the set file's line (not the spec's).
    (SET_HEAD + '[[set]]\n"mechanisms.valence.beta0" = 1.4\n"mechanisms.norms.societal_weight" = 1.5\n', 6,
     r"set\[1\]\.mechanisms\.norms\.societal_weight: not a valid parameter value for scenario 'baseline'"
     r".*expected a number in \[0, 1\]"),
    # An unknown parameter: the scenario's own unknown-key error, at the set file's line.
    ('[[set]]\n"mechanisms.valence.nonsense" = 1.0\n', 2,
     r"set\[0\]\.mechanisms\.valence\.nonsense: not a valid parameter value .*unknown key"),
    ('# no sets\n', 1, r"set: expected at least one \[\[set\]\] table"),
])
def test_bad_parameter_set_files_are_refused_at_their_line(cli, source_dir, tmp_path, sets_text, line, pattern):
    spec, sets = write_sets_spec(tmp_path, source_dir)
    sets.write_text(sets_text, encoding="utf-8")
    assert_ensemble_refused(cli, spec, tmp_path / "never", f"error: {sets}:{line}: ", pattern)
    with pytest.raises(contactsim.ScenarioError, match=pattern):
        contactsim.describe_ensemble(spec)


def test_a_missing_parameter_set_file_is_refused_at_the_spec_line(cli, source_dir, tmp_path):
    spec, sets = write_sets_spec(tmp_path, source_dir)
    sets.unlink()
    result = run_cli(cli, "ensemble", spec, "-o", tmp_path / "never", check=False)
    assert result.returncode == 2, result.stderr
    line = spec.read_text(encoding="utf-8").splitlines().index('parameter_sets = "plausible.toml"') + 1
    assert result.stderr.startswith(f"error: {spec}:{line}: parameter_sets: file not found: {sets}"), result.stderr
    assert not (tmp_path / "never").exists()


# ----------------------------------------------------------------------------- issue 16

def flip_a_byte_inside_a_compressed_chunk(path: pathlib.Path, dataset: str):
    with h5py.File(path, "r") as f:
        d = f[dataset]
        assert d.compression == "gzip", "the test needs a compressed chunk"
        chunk = d.id.get_chunk_info(0)
    with open(path, "r+b") as f:
        f.seek(chunk.byte_offset + chunk.size // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_damaged_finished_run_is_named_by_compare_and_redone_by_a_rerun(cli, ensemble, tmp_path):
    """D10: a byte flipped inside a compressed chunk of a finished run file: compare names the run
    file; rerunning the ensemble redoes that run."""
    spec, finished = ensemble
    out = tmp_path / "damaged"
    shutil.copytree(finished, out)
    damaged = out / "runs/closed_r001.h5"
    flip_a_byte_inside_a_compressed_chunk(damaged, "series/population")
    assert damaged.read_bytes() != (finished / "runs/closed_r001.h5").read_bytes()
    result = run_cli(cli, "compare", out / "ensemble.h5", check=False)
    assert result.returncode == 1, result.stderr
    assert f"error: {damaged} (run closed_r001 of {out / 'ensemble.h5'}): " in result.stderr, result.stderr
    env = cli_env()
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    run_cli(cli, "ensemble", spec, "-o", out, "-q", env=env)
    assert damaged.read_bytes() == (finished / "runs/closed_r001.h5").read_bytes()
    run_cli(cli, "compare", out / "ensemble.h5")


def test_second_ensemble_into_a_busy_folder_is_refused(cli, ensemble, tmp_path):
    """D1: while an ensemble writes a folder (its lock held, here by this process), another
    `contactsim ensemble` or run_ensemble into it is refused at once, naming the holder."""
    spec, _ = ensemble
    out = tmp_path / "busy"
    with contactsim._core.OutputLock(out):
        result = run_cli(cli, "ensemble", spec, "-o", out, "-q", check=False)
        assert result.returncode == 1
        assert f"error: {out}: another contactsim is writing this output (process {os.getpid()}" in result.stderr
        with pytest.raises(contactsim.OutputError, match="another contactsim is writing this output"):
            contactsim.run_ensemble(spec, out)
    assert not out.exists(), "the refused ensembles wrote nothing"
