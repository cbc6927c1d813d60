"""The Python package (`import contactsim`): scenarios round-trip, overrides apply, agent views are
live, read-only and agree with the CLI's output, Python and CLI write byte-identical files, bad
arguments raise precise errors, Ctrl-C stops cleanly."""
import datetime
import gc
import os
import pathlib
import re
import stat
import signal
import subprocess
import sys
import textwrap
import threading
import tomllib

import h5py
import numpy as np
import pytest

import contactsim
from conftest import SEED, THREADS, UNTIL, cli_env, iso_dates, run_cli, write_census_city, write_small_scenario


@pytest.fixture(scope="module")
def small_scenario_path(tmp_path_factory, base_scenario) -> pathlib.Path:
    return write_small_scenario(tmp_path_factory.mktemp("bindings"), base_scenario, "month")


@pytest.fixture(scope="module")
def small(small_scenario_path) -> contactsim.Scenario:
    return contactsim.Scenario.load(small_scenario_path)


@pytest.fixture(scope="module")
def stepped(small):
    """A simulation stepped to UNTIL with the CLI fixture's seed and threads (no output)."""
    sim = contactsim.Simulation(small, seed=SEED, threads=THREADS)
    sim.run(until=UNTIL, progress=False)
    return sim


# ----------------------------------------------------------------------------- package

def test_package_reports_the_library_version(source_dir):
    cmake = (source_dir / "CMakeLists.txt").read_text(encoding="utf-8")
    assert f"VERSION {contactsim.__version__}" in cmake
    assert contactsim.git_revision


@pytest.mark.skipif(os.environ.get("CONTACTSIM_EXPECT_USER_SITE") != "1",
                    reason="the build was configured without CONTACTSIM_PYTHON_USER_SITE")
def test_plain_system_python_imports_the_built_package(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(["/usr/bin/python3", "-c", "import contactsim, sys; print(contactsim.__file__)"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    expected = pathlib.Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]).resolve()
    assert pathlib.Path(result.stdout.strip()).resolve().is_relative_to(expected)


# ----------------------------------------------------------------------------- scenarios

def test_load_gives_the_file_as_a_dict(base_scenario):
    with open(base_scenario, "rb") as f:
        expected = tomllib.load(f)
    assert contactsim.Scenario.load(base_scenario).to_dict() == expected


def test_dict_round_trip_preserves_the_scenario(small, source_dir):
    again = contactsim.Scenario.from_dict(small.to_dict(), base_dir=source_dir / "scenarios")
    assert again.to_dict() == small.to_dict()
    assert again.population_size == small.population_size
    assert again.wards == small.wards and again.groups == small.groups


def test_from_dict_resolves_extends_against_base_dir(source_dir):
    scenario = contactsim.Scenario.from_dict({"extends": "baseline.toml", "population": {"scale": 0.02}},
                                             base_dir=source_dir / "scenarios")
    assert scenario.end == datetime.date(2024, 12, 31)  # from baseline.toml
    assert scenario.to_dict()["population"]["scale"] == 0.02


def test_override_returns_a_new_scenario_and_leaves_the_original(small):
    changed = small.override({"mechanisms.valence.beta0": 0.25, "population.scale": 0.02,
                              "simulation.end": datetime.date(2021, 6, 30)})
    assert changed.to_dict()["mechanisms"]["valence"]["beta0"] == 0.25
    assert changed.end == datetime.date(2021, 6, 30)
    assert changed.population_size < small.population_size
    assert "mechanisms" not in small.to_dict() or "valence" not in small.to_dict()["mechanisms"]
    assert small.end == datetime.date(2023, 12, 31)
    # Chained overrides accumulate.
    twice = changed.override({"mechanisms.valence.beta_quality": 0.5})
    assert twice.to_dict()["mechanisms"]["valence"] == {"beta0": 0.25, "beta_quality": 0.5}


def test_override_changes_the_simulation(small):
    """A parameter override reaches the model: a much lower valence intercept means fewer
    positive encounters for the same seed."""
    def positive_share(scenario):
        sim = contactsim.Simulation(scenario, seed=3, threads=THREADS)
        sim.run(until="2020-01-20", progress=False)
        s = sim.summary()
        return s.contacts_positive.sum() / (s.contacts_positive.sum() + s.contacts_negative.sum())
    assert positive_share(small.override({"mechanisms.valence.beta0": -1.0})) < positive_share(small) - 0.1


def test_override_of_an_array_item(source_dir):
    cut = contactsim.Scenario.load(source_dir / "scenarios" / "cut_community_centres.toml")
    deeper = cut.override({"timeline[0].change": -0.6})
    assert deeper.to_dict()["timeline"][0]["change"] == -0.6
    with pytest.raises(contactsim.ScenarioError, match=r"timeline\[5\].*past the end"):
        cut.override({"timeline[5].change": -0.6})


@pytest.mark.parametrize("values, pattern", [
    ({"mechanisms.valence.beta0": 99}, r"override mechanisms\.valence\.beta0 = 99: .*expected a number in \[-10, 10\]"),
    ({"mechanisms.valence.betaX": 1}, r"betaX: unknown key; expected one of: beta0, "),
    ({"population.scale": "big"}, r"override population\.scale = 'big': .*expected a number"),
    ({"simulation..seed": 1}, r"expected a dotted key"),
])
def test_bad_overrides_name_the_key(small, values, pattern):
    with pytest.raises(contactsim.ScenarioError, match=pattern) as caught:
        small.override(values)
    assert isinstance(caught.value, ValueError)


def test_scenario_errors_carry_the_cli_message(tmp_path, cli, base_scenario):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{base_scenario.as_posix()}"\n\n[population]\nscale = -1\n', encoding="utf-8")
    cli_result = subprocess.run([str(cli), "validate", str(bad)], capture_output=True, text=True, env=cli_env())
    assert cli_result.returncode == 2
    with pytest.raises(contactsim.ScenarioError) as caught:
        contactsim.Scenario.load(bad)
    assert f"error: {caught.value}" == cli_result.stderr.strip()
    assert caught.value.file == str(bad) and caught.value.line == 4 and caught.value.key == "population.scale"


def test_dict_errors_name_the_key_without_lines():
    with pytest.raises(contactsim.ScenarioError, match=r"^scenario dict: simulation\.start: expected a date"):
        contactsim.Scenario.from_dict({"simulation": {"start": "soon"}})


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: contactsim.Scenario.load(42), TypeError, "expected a path"),
    (lambda: contactsim.Scenario.load("/nonexistent/x.toml"), FileNotFoundError, "scenario file not found"),
    (lambda: contactsim.Scenario.from_dict([1, 2]), TypeError, "expected a dict"),
    (lambda: contactsim.Scenario.from_dict({"simulation": {"seed": None}}), TypeError, "simulation.seed.*no null"),
    (lambda: contactsim.Scenario.from_dict({"simulation": {"seed": object()}}), TypeError, "simulation.seed"),
    (lambda: contactsim.Scenario.from_dict({1: 2}), TypeError, "string keys"),
])
def test_bad_scenario_arguments(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# ----------------------------------------------------------------------------- simulations

@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"seed": "1"}, TypeError, "seed: expected an integer"),
    ({"seed": -1}, ValueError, r"seed: expected an integer in \[0, "),
    ({"threads": 2.5}, TypeError, "threads: expected an integer"),
    ({"threads": 5000}, ValueError, r"threads: expected an integer in \[0, 1024\]"),
    ({"replicate": True}, TypeError, "replicate: expected an integer"),
])
def test_bad_simulation_arguments(small, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        contactsim.Simulation(small, **kwargs)


def test_simulation_needs_a_scenario():
    with pytest.raises(TypeError, match="expected a Scenario or a scenario path"):
        contactsim.Simulation(12)


def test_bad_run_arguments(small, tmp_path):
    sim = contactsim.Simulation(small, seed=1, threads=1)
    with pytest.raises(ValueError, match="until: expected a date between 2020-01-01 and 2023-12-31"):
        sim.run(until="2019-12-01")
    with pytest.raises(ValueError, match="until: expected a date YYYY-MM-DD"):
        sim.run(until="next week")
    with pytest.raises(TypeError, match="until: expected a date"):
        sim.run(until=3.5)
    with pytest.raises(ValueError, match="days: expected an integer in"):
        sim.step(-1)
    existing = tmp_path / "exists.h5"
    existing.write_bytes(b"keep me")
    with pytest.raises(contactsim.OutputError, match="output file exists; pass overwrite=True"):  # D15
        sim.run(until="2020-01-05", output=existing)
    assert existing.read_bytes() == b"keep me"
    sim.step(3)
    with pytest.raises(ValueError, match="records from its first day"):
        sim.record_to(tmp_path / "late.h5")
    with pytest.raises(ValueError, match="already simulated"):
        sim.run(until="2020-01-02")


def test_step_advances_day_by_day(small):
    sim = contactsim.Simulation(small, seed=1, threads=1)
    assert sim.date == datetime.date(2019, 12, 31) and not sim.finished
    assert sim.step(10) == 10
    assert sim.date == datetime.date(2020, 1, 10)
    sim.run(until="2020-01-31", progress=False)
    assert sim.date == datetime.date(2020, 1, 31)


def test_views_are_read_only_live_and_not_copies(small):
    sim = contactsim.Simulation(small, seed=11, threads=THREADS)
    warmth = sim.warmth
    before = warmth.copy()
    assert warmth.shape == (small.population_size, len(small.groups)) and warmth.dtype == np.float32
    assert not warmth.flags.writeable and not warmth.flags.owndata
    with pytest.raises(ValueError, match="read-only"):
        warmth[0, 0] = 1.0
    assert np.shares_memory(warmth, sim.warmth)
    sim.step(14)
    assert not np.array_equal(warmth, before), "the view follows the simulation"
    for name, dtype in [("group", np.uint8), ("age_band", np.uint8), ("ward", np.uint16), ("block", np.uint32),
                        ("english", np.float32), ("anxiety", np.float32)]:
        array = getattr(sim, name)
        assert array.dtype == dtype and array.shape == (small.population_size,) and not array.flags.writeable
    assert sim.group.max() == len(small.groups) - 1 and sim.ward.max() == len(small.wards) - 1
    assert np.all((sim.english >= 0) & (sim.english <= 1))
    with pytest.raises(ValueError, match="no agent array 'wealth'; expected one of: group"):
        sim.agents("wealth")


def test_every_resident_field_is_a_documented_view(small):
    """AGENT_ARRAYS documents every array of the C++ field list (models/city/state.hpp) and
    nothing else but the youth programmes' start day; each view has a row per resident."""
    fields = contactsim._core.resident_fields
    assert len(set(fields)) == len(fields) and "disposition" in fields
    assert set(contactsim.AGENT_ARRAYS) == set(fields) | {"programme_start_day"}
    sim = contactsim.Simulation(small, seed=3, threads=1)
    columns = {"warmth": len(small.groups), "membership": len(small.venue_types)}
    for name in fields:
        array = sim.agents(name)
        shape = (small.population_size, columns[name]) if name in columns else (small.population_size,)
        assert array.shape == shape and not array.flags.writeable, name


def test_a_view_keeps_its_simulation_alive(small):
    sim = contactsim.Simulation(small, seed=2, threads=1)
    group = sim.group
    expected = group.copy()
    del sim
    import gc
    gc.collect()
    assert np.array_equal(group, expected)


def test_views_match_the_cli_output_for_the_same_seed(stepped, small_run, small):
    output, _, _ = small_run
    with h5py.File(output, "r") as f:
        population = f["series/population"][-1]
        warmth = f["series/mean_warmth"][-1]
        assert iso_dates(f["series/time"])[-1] == UNTIL
    wards, groups = len(small.wards), len(small.groups)
    counts = np.zeros((wards, groups), dtype=np.int64)
    np.add.at(counts, (stepped.ward, stepped.group), 1)
    assert np.array_equal(counts, population)
    sums = np.zeros((wards, groups, groups))
    np.add.at(sums, (stepped.ward, stepped.group), stepped.warmth.astype(np.float64))
    with np.errstate(invalid="ignore"):
        means = sums / counts[:, :, None]
    occupied = counts > 0
    np.testing.assert_allclose(means[occupied], warmth[occupied], rtol=0, atol=1e-5)


def test_summary_is_a_dataframe_matching_the_cli(stepped, small_run, small):
    _, _, stdout = small_run
    summary = stepped.summary()
    assert list(summary.index) == small.groups
    assert summary.residents.sum() == small.population_size
    for group, row in summary.iterrows():
        line = next(l for l in stdout.splitlines() if l.split() and l.split()[0] == group)
        fields = line.split()
        assert int(fields[1]) == row.residents
        assert float(fields[2]) == pytest.approx(row.mean_outgroup_warmth, abs=5e-4)
        assert int(fields[4]) == row.contacts_positive and int(fields[5]) == row.contacts_negative


def test_python_and_cli_write_byte_identical_files(cli, small_scenario_path, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    env = cli_env()
    from_cli = tmp_path / "cli.h5"
    run_cli(cli, "run", small_scenario_path, "-o", from_cli, "--until", "2020-03-10", "--seed", 77, "--replicate", 2,
            "--threads", THREADS, "--quiet", env=env)
    from_python = tmp_path / "python.h5"
    sim = contactsim.Simulation(small_scenario_path, seed=77, replicate=2, threads=THREADS)
    sim.run(until="2020-03-10", output=from_python, progress=False)
    assert sim.output is None, "the file is closed when the run ends"
    assert from_python.read_bytes() == from_cli.read_bytes()
    with h5py.File(from_python, "r") as f:
        assert f.attrs["replicate"] == 2 and f.attrs["seed"] == 77 and f.attrs["end_date"] == "2020-03-10"
        assert len(f["series/time"]) == 3  # January, February, and the partial March


def test_replicates_differ_and_seeds_reproduce(small):
    def warmth_after(**keys):
        sim = contactsim.Simulation(small, threads=THREADS, **keys)
        sim.step(20)
        return sim.warmth.copy()
    first = warmth_after(seed=5, replicate=0)
    assert np.array_equal(first, warmth_after(seed=5, replicate=0))
    assert not np.array_equal(first, warmth_after(seed=5, replicate=1))


def test_progress_bar_reports_days(small, capsys):
    sim = contactsim.Simulation(small, seed=1, threads=1)
    sim.run(until="2020-01-15", progress=True)
    assert "day" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly_and_keeps_every_record(small_scenario_path, small, tmp_path):
    """Ctrl-C stops between days; the interrupted run's records stay in OUT.partial and the
    complete OUT written before is not replaced (D5)."""
    output = tmp_path / "interrupted.h5"
    contactsim.Simulation(small, seed=2, threads=THREADS).run(until="2020-01-03", output=output, progress=False)
    complete = output.read_bytes()
    script = textwrap.dedent(f"""
        import sys, contactsim
        sim = contactsim.Simulation({str(small_scenario_path)!r}, seed=1, threads=1)
        sim.record_to({str(output)!r}, overwrite=True)
        sim.step(40)                       # past the first monthly record
        try:                               # (announce inside: the signal may come at once)
            print("running", flush=True)
            sim.run(progress=False)
        except KeyboardInterrupt:
            print("interrupted at", sim.date, flush=True)
            sim.close()
            sys.exit(0)
        sys.exit(3)
        """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=cli_env())
    assert child.stdout.readline().strip() == "running"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, f"exit {child.returncode}\n{out}\n{err}"
    assert out.startswith("interrupted at 2020-")
    assert "was not written (only a finished run is published)" in err
    stopped = datetime.date.fromisoformat(out.split()[-1])
    assert stopped < datetime.date(2023, 12, 31)
    assert output.read_bytes() == complete, "an interrupted run replaced the complete output"
    with h5py.File(output.with_name(output.name + ".partial"), "r") as f:
        assert int(f.attrs["complete"]) == 0
        times = iso_dates(f["series/time"])
        assert len(times) >= 1 and times[0] == "2020-01-31"
        assert f.attrs["records"] == len(times)
        assert all(datetime.date.fromisoformat(t) <= stopped for t in times)
        assert f["series/contacts_positive"].shape[0] >= len(times)


def test_checkpoint_save_and_branch_from_python(small, source_dir, tmp_path):
    """A run continued from a checkpoint is the uninterrupted run, day for day."""
    whole = contactsim.Simulation(small, seed=9, threads=THREADS)
    whole.step(45)
    checkpoint = tmp_path / "day45.checkpoint.h5"
    whole.save_checkpoint(checkpoint)
    whole.step(20)
    continued = contactsim.Simulation.from_checkpoint(small, checkpoint, threads=1)
    assert continued.date == datetime.date(2020, 2, 14) and continued.seed == 9
    continued.step(20)
    assert continued.date == whole.date
    assert np.array_equal(continued.warmth, whole.warmth)
    assert np.array_equal(continued.anxiety, whole.anxiety)
    bigger = small.override({"population.scale": 0.06})
    with pytest.raises(contactsim.CheckpointError, match=f"{checkpoint}: population.scale"):
        contactsim.Simulation.from_checkpoint(bigger, checkpoint)
    damaged = tmp_path / "damaged.h5"
    damaged.write_bytes(checkpoint.read_bytes()[:5000])
    with pytest.raises(contactsim.CheckpointError, match=str(damaged)):
        contactsim.Simulation.from_checkpoint(small, damaged)
    with pytest.raises(FileNotFoundError):
        contactsim.Simulation.from_checkpoint(small, tmp_path / "missing.h5")


# ------------------------------------------------------------------ issue 16: output safety

@pytest.mark.parametrize("seed", [2**63, 2**64 - 1, 2**64, -1])
def test_seed_outside_the_scenario_range_names_the_range(small, seed):
    """D11: not pybind's "incompatible constructor arguments"."""
    with pytest.raises(ValueError, match=r"seed: expected an integer in \[0, 9223372036854775807\]"):
        contactsim.Simulation(small, seed=seed)


def test_save_checkpoint_refuses_an_existing_file(small, tmp_path):
    """D8: the CLI refuses an existing checkpoint without --force; so does save_checkpoint
    without overwrite=True. D2: a FIFO or a directory is never replaced, even then."""
    sim = contactsim.Simulation(small, seed=9, threads=THREADS)
    sim.step(2)
    victim = tmp_path / "victim.toml"
    victim.write_text("precious scenario", encoding="utf-8")
    with pytest.raises(contactsim.OutputError, match=f"{victim}: output file exists"):
        sim.save_checkpoint(victim)
    assert victim.read_text(encoding="utf-8") == "precious scenario"
    fifo = tmp_path / "fifo.h5"
    os.mkfifo(fifo)
    with pytest.raises(contactsim.OutputError, match=f"{fifo}: is a FIFO"):
        sim.save_checkpoint(fifo, overwrite=True)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    sim.save_checkpoint(victim, overwrite=True)
    with h5py.File(victim, "r") as f:
        day = f.attrs["checkpoint_date"]
        assert (day.decode() if isinstance(day, bytes) else day) == "2020-01-02"


def test_no_output_replaces_an_input_file(source_dir, tmp_path):
    """D16: with overwrite=True, neither the recording nor a checkpoint replaces the scenario, a
    file it extends, or its census CSV."""
    census = tmp_path / "two_wards.csv"
    census.write_bytes((source_dir / "tests/fuzz/corpus/census/two_wards.csv").read_bytes())
    scenario = write_census_city(tmp_path)
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{scenario.as_posix()}"\n', encoding="utf-8")
    inputs = {path: path.read_bytes() for path in (census, scenario, child)}
    for path in inputs:
        sim = contactsim.Simulation(contactsim.Scenario.load(child), seed=9, threads=THREADS)
        with pytest.raises(contactsim.OutputError, match=re.escape(f"{path}: is {path}, which this run reads")):
            sim.record_to(path, overwrite=True)
        sim.step(2)
        with pytest.raises(contactsim.OutputError, match=re.escape(f"{path}: is {path}, which this run reads")):
            sim.save_checkpoint(path, overwrite=True)
    assert all(path.read_bytes() == before for path, before in inputs.items())


def test_overwrite_never_replaces_a_fifo_or_a_directory(small, tmp_path):
    """D2: overwrite=True replaces an output file, never a FIFO, a device node or a directory."""
    specials = {tmp_path / "fifo.h5": "a FIFO", tmp_path / "folder.h5": "a directory"}
    os.mkfifo(tmp_path / "fifo.h5")
    (tmp_path / "folder.h5").mkdir()
    try:
        os.mknod(tmp_path / "null.h5", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        specials[tmp_path / "null.h5"] = "a character device"
    except OSError:
        pass  # not root: the FIFO and the folder stand for it
    for path, kind in specials.items():
        before = stat.S_IFMT(os.lstat(path).st_mode)
        sim = contactsim.Simulation(small, seed=9, threads=THREADS)
        with pytest.raises(contactsim.OutputError, match=f"{path}: is {kind}"):
            sim.run(until="2020-01-03", output=path, overwrite=True, progress=False)
        assert stat.S_IFMT(os.lstat(path).st_mode) == before, f"{path} was replaced"


def test_symlinked_partial_output_is_not_followed(small, tmp_path):
    """D3: a link planted at OUT.partial is removed, its target untouched; OUT is a regular file."""
    precious = tmp_path / "precious.txt"
    precious.write_text("precious", encoding="utf-8")
    output = tmp_path / "out.h5"
    os.symlink(precious, tmp_path / "out.h5.partial")
    contactsim.Simulation(small, seed=9, threads=THREADS).run(until="2020-01-03", output=output, progress=False)
    assert precious.read_text(encoding="utf-8") == "precious"
    assert stat.S_ISREG(os.lstat(output).st_mode)


# ----------------------------------------------------------------------------- issue 16

def test_unfinished_runs_never_replace_a_complete_output(small, tmp_path):
    """D5: closed early, or collected unfinished after an exception, a run leaves OUT as it was
    and its records in OUT.partial."""
    output = tmp_path / "py.h5"
    partial = tmp_path / "py.h5.partial"
    contactsim.Simulation(small, seed=9, threads=THREADS).run(until="2020-01-03", output=output, progress=False)
    complete = output.read_bytes()

    early = contactsim.Simulation(small, seed=10, threads=THREADS).record_to(output, overwrite=True)
    early.step(40)
    with pytest.warns(UserWarning, match=f"records stay in {partial}; {output} was not written"):
        early.close()
    assert output.read_bytes() == complete
    with h5py.File(partial, "r") as f:
        assert int(f.attrs["complete"]) == 0 and int(f.attrs["records"]) == 1

    def fails_mid_run():
        sim = contactsim.Simulation(small, seed=11, threads=THREADS).record_to(output, overwrite=True)
        sim.step(3)
        raise RuntimeError("the analysis failed")
    try:
        fails_mid_run()
    except RuntimeError:
        pass
    gc.collect()  # the unfinished Simulation is gone
    assert output.read_bytes() == complete
    assert partial.exists()


def test_output_another_writer_holds_or_that_exists_raises_output_error(small, tmp_path):
    """D1, D15: a second writer of one output is refused (OutputError naming the first), and an
    existing output without overwrite=True raises the documented OutputError."""
    output = tmp_path / "busy.h5"
    first = contactsim.Simulation(small, seed=9, threads=THREADS).record_to(output)
    second = contactsim.Simulation(small, seed=10, threads=THREADS)
    with pytest.raises(contactsim.OutputError,
                       match=f"{output}: another contactsim is writing this output \\(process {os.getpid()}"):
        second.run(until="2020-01-03", output=output, overwrite=True, progress=False)
    with pytest.warns(UserWarning):
        first.close()  # unfinished: nothing published, the lock released
    second.run(until="2020-01-03", output=output, overwrite=True, progress=False)
    third = contactsim.Simulation(small, seed=11, threads=THREADS)
    with pytest.raises(contactsim.OutputError, match="output file exists; pass overwrite=True"):
        third.record_to(output)


def test_one_simulation_shared_by_threads_steps_and_checkpoints_consistently(small, tmp_path):
    """D6: calls from several threads are serialised: every day is simulated once, in order, and
    every checkpoint saved meanwhile holds a real state of the run."""
    shared = contactsim.Simulation(small, seed=9, threads=1)
    shared.step(1)  # something to checkpoint
    failures = []

    def guarded(work):
        def run():
            try:
                work()
            except BaseException as error:  # reported by the test, not lost in the thread
                failures.append(error)
        return threading.Thread(target=run)

    def stepper():
        for _ in range(12):
            shared.step(1)

    checkpoints = [tmp_path / f"while_stepping_{i}.h5" for i in range(3)]

    def saver():
        for path in checkpoints:
            shared.save_checkpoint(path)
            assert len(shared.summary()) == len(small.groups)  # reads between the saves, too

    threads = [guarded(stepper), guarded(stepper), guarded(saver)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    reference = contactsim.Simulation(small, seed=9, threads=1)
    reference.step(25)
    assert shared.date == reference.date
    assert np.array_equal(shared.warmth, reference.warmth)
    for path in checkpoints:
        continued = contactsim.Simulation.from_checkpoint(small, path, threads=1)
        continued.step((reference.date - continued.date).days)
        assert np.array_equal(continued.warmth, reference.warmth), path


def test_recursive_or_too_deep_scenario_values_raise_a_clear_error(small):
    """D7: a list or dict that contains itself, or nesting 100,000 deep, is a ValueError naming
    the key, never a crash."""
    looped = []
    looped.append(looped)
    with pytest.raises(ValueError, match=r"scenario value wards.names\[0\]\[0\].*nested more than 64"):
        small.override({"wards.names": looped})
    mapping = {}
    mapping["population"] = mapping
    with pytest.raises(ValueError, match=r"scenario value population.population.*nested more than 64"):
        contactsim.Scenario.from_dict(mapping)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 64"):
        small.override({"timeline": deep})
    with pytest.raises(ValueError, match="nested more than 64"):
        contactsim.Scenario.from_dict({"wards": {"names": deep}})


def test_dict_round_trip_keeps_the_text_and_its_digest(source_dir):
    """D16: from_dict(s.to_dict()) is the same scenario, so the same SHA-256 (inline tables stay inline)."""
    scenarios = source_dir / "scenarios"
    for name in ("baseline.toml", "lockdowns.toml"):
        loaded = contactsim.Scenario.load(scenarios / name)
        again = contactsim.Scenario.from_dict(loaded.to_dict(), base_dir=scenarios)
        assert again.text == loaded.text, name
        assert again.sha256 == loaded.sha256, name


def test_open_results_reads_a_killed_runs_partial_file(cli, small_scenario_path, tmp_path):
    """D16: a run killed mid-way leaves OUT.partial marked for SWMR writing; open_results reads it
    (read-only), marked incomplete, as `contactsim info` does."""
    from conftest import ReportingRun
    output = tmp_path / "killed.h5"
    args = [cli, "run", small_scenario_path, "-o", output, "--seed", 3, "--threads", 1, "--quiet",
            "--resume-every", 0]
    with ReportingRun(args, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
        assert run.wait_for_records(2), f"the run ended before its second record: {run.process.poll()}"
    partial = tmp_path / "killed.h5.partial"
    ds = contactsim.open_results(partial)
    assert ds.attrs["complete"] == 0
    assert ds.sizes["time"] >= 2
