"""Crash safety of `contactsim run` and `contactsim ensemble` (issue 7, item 3).

SIGKILL after any record (the run reports each through a pipe, `--record-fd`) leaves
`<out>.partial` readable with every completed record, equal to the uninterrupted run's;
rerunning the same command resumes from `<out>.resume` and ends with the uninterrupted run's
bytes; an existing output is never touched before the final rename; a full
disk (RLIMIT_FSIZE, a tiny tmpfs) or an unwritable path gives one clear error naming the file and
the operating system's reason, a non-zero exit, the old output intact and no `.partial` left.
"""
import os
import resource
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import SEED, ReportingRun, cli_env, run_cli, run_scenario, write_census_city

UNTIL = "2020-03-31"  # 91 daily records
DAYS = 91
EPOCH = "1700000000"  # SOURCE_DATE_EPOCH: byte-identical outputs

DAILY_SCENARIO = """\
extends = "{base}"

[population]
scale = 0.03

[record]
interval = "day"
"""


def env_with_epoch() -> dict:
    env = cli_env()
    env["SOURCE_DATE_EPOCH"] = EPOCH
    return env


RUN_OPTIONS = ("--until", UNTIL, "--threads", 1, "--seed", SEED, "--quiet")


def run_args(cli, scenario, output, *extra):
    return [str(cli), "run", str(scenario), "-o", str(output), *map(str, RUN_OPTIONS), *map(str, extra)]


@pytest.fixture(scope="module")
def daily(cli, base_scenario, tmp_path_factory):
    """The small daily scenario and its uninterrupted output: (scenario, output)."""
    text = DAILY_SCENARIO.format(base=base_scenario.as_posix())
    return run_scenario(cli, tmp_path_factory.mktemp("daily"), "daily", text, *RUN_OPTIONS, env=env_with_epoch())


def series_of(f, records=None) -> dict:
    """/series/time and every series (datasets with a `dimensions` attribute), cut to `records`."""
    return {name: dataset[:records] for name, dataset in f["series"].items()
            if name == "time" or "dimensions" in dataset.attrs}


def wait_for(predicate, process, what: str):
    """Until `predicate()`: no deadline, as a loaded machine may take any time to get there; a
    run that ends first fails the test, and a hung one meets ctest's timeout."""
    while not predicate():
        assert process.poll() is None, f"the run ended before {what}: {process.returncode}"
        time.sleep(0.002)


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def has_a_record(path) -> bool:
    """Whether `path` holds its first record (from then on it is in SWMR mode, core/h5.hpp); a
    run killed before holds no record and its file needs `h5clear -s` to be opened."""
    try:
        with h5py.File(path, "r", swmr=True) as f:
            return len(f["series/time"]) > 0
    except (OSError, KeyError):
        return False


def partial_of(path):
    return path.with_name(path.name + ".partial")


def resume_of(path):
    return path.with_name(path.name + ".resume")


def test_kills_after_any_record_leave_every_completed_record(cli, daily, tmp_path):
    # Each run is killed as soon as it reports its k-th record (a byte through a pipe, sent once
    # the record is flushed), so the kill lands mid-run however loaded the machine is. Where it
    # lands within the next day (simulating or inside HDF5's writes) is left to the scheduler;
    # tests/core/test_crash_safety.cpp aims kills at HDF5's writes themselves.
    scenario, reference_path = daily
    with h5py.File(reference_path, "r") as f:
        reference = series_of(f)
    assert len(reference["time"]) == DAYS
    kill_after = range(1, 41, 2)  # 20 runs, each with 50 days or more still to go
    killed_mid_run = 0
    for k in kill_after:
        output = tmp_path / f"killed{k}.h5"
        with ReportingRun(run_args(cli, scenario, output, "--resume-every", 0), env=env_with_epoch(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
            assert run.wait_for_records(k), f"the run ended before its record {k}: {run.process.poll()}"
            run.kill()
        if run.process.returncode != -signal.SIGKILL:
            # Only if this process stalled for the run's last 50 days: then the output is whole.
            assert run.process.returncode == 0 and output.exists() and not partial_of(output).exists()
            continue
        killed_mid_run += 1
        assert not output.exists(), "an unfinished run carries the final name"
        # A file whose writer died keeps HDF5's SWMR mark: readers open it as SWMR readers.
        with h5py.File(partial_of(output), "r", swmr=True) as f:
            records = len(f["series/time"])
            assert records >= run.records >= k, f"kill after record {k}: reported {run.records}, kept {records}"
            # complete = 1 only when the kill fell after the run's last write and before the
            # rename into place: then every record is there.
            if int(f.attrs["complete"]) != 0:
                assert int(f.attrs["complete"]) == 1 and records == DAYS, f"kill after record {k}"
            assert int(f.attrs["records"]) in (records, records - 1)  # the kill may split the two
            got = series_of(f, records)
            for name, expected in reference.items():
                assert f[f"series/{name}"].shape[0] >= records, name
                np.testing.assert_array_equal(got[name], expected[:records], err_msg=f"kill after record {k}: {name}")
    assert killed_mid_run >= len(kill_after) // 2, "most kills must land mid-run, or the test proves little"


def test_rerun_after_kills_resumes_and_ends_with_the_uninterrupted_bytes(cli, daily, tmp_path):
    scenario, reference_path = daily
    output = tmp_path / "resumed.h5"
    args = run_args(cli, scenario, output, "--resume-every", 10)
    # A run reports a record after that day's resume checkpoint is saved: killed after record k,
    # it leaves OUT.resume of day 10 * (k // 10) at least. Reruns report the records they carry
    # over as well, so every rerun here simulates some days before it is killed.
    kill_after = (25, 47, 64, 83)
    skipped = []
    for attempt, k in enumerate(kill_after):
        with ReportingRun(args, env=env_with_epoch(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as run:
            if attempt > 0:  # the rerun announces what it skips
                first_line = run.process.stdout.readline()
                assert first_line.startswith(f"Resuming from {resume_of(output)}: "), first_line
                skipped.append(int(first_line.split(": ")[1].split(" of ")[0]))
            assert run.wait_for_records(k), f"attempt {attempt} ended before record {k}: {run.process.poll()}"
            run.kill()
        if run.process.returncode != -signal.SIGKILL:  # only if this process stalled for 8+ days
            assert output.read_bytes() == reference_path.read_bytes()
            assert attempt > 0, "the first run was not interrupted: the test proves nothing"
            return
    final = run_cli(*args, env=env_with_epoch())
    done_before = int(final.stdout.split("\n")[0].split(": ")[1].split(" of ")[0])
    assert final.stdout.startswith(f"Resuming from {resume_of(output)}: ")
    assert 80 <= done_before < DAYS, "the rerun must skip the days already simulated"
    assert all(days >= 10 * (k // 10) for days, k in zip(skipped, kill_after)), skipped
    assert output.read_bytes() == reference_path.read_bytes(), "a resumed run must equal the uninterrupted one"
    assert not resume_of(output).exists() and not partial_of(output).exists()


def test_resume_checkpoint_of_another_seed_is_not_used(cli, daily, tmp_path):
    scenario, reference_path = daily
    output = tmp_path / "other_seed.h5"
    with ReportingRun(run_args(cli, scenario, output, "--resume-every", 10), env=env_with_epoch(),
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
        assert run.wait_for_records(10), "the run ended before its first resume checkpoint"
    assert resume_of(output).exists()
    args = run_args(cli, scenario, output, "--resume-every", 10)
    args[args.index("--seed") + 1] = str(SEED + 1)
    rerun = run_cli(*args, env=env_with_epoch())
    assert f"not resuming from {resume_of(output)} (made with another seed)" in rerun.stderr
    assert not rerun.stdout.startswith("Resuming")


def test_existing_output_is_untouched_until_the_rename(cli, daily, tmp_path):
    scenario, reference_path = daily
    output = tmp_path / "existing.h5"
    output.write_bytes(b"the previous results")
    refused = subprocess.run(run_args(cli, scenario, output), capture_output=True, text=True, env=cli_env())
    assert refused.returncode == 1
    assert refused.stderr == f"error: {output}: output file exists; pass --force to overwrite\n"
    assert not partial_of(output).exists(), "refused before writing anything"

    with ReportingRun(run_args(cli, scenario, output, "--force"), env=env_with_epoch(),
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
        assert run.wait_for_records(10), "the run ended before its record 10"
        assert partial_of(output).exists()
        assert output.read_bytes() == b"the previous results"
    assert output.read_bytes() == b"the previous results", "a killed --force run truncated the old output"
    run_cli(*run_args(cli, scenario, output, "--force"), env=env_with_epoch())
    assert output.read_bytes() == reference_path.read_bytes()


# ------------------------------------------------------------------ ensembles

ENSEMBLE_SPEC = """\
name = "crash ensemble"
seed = 5
replicates = 3
threads = 1
until = 2020-02-29

[overrides]
"population.scale" = 0.02
"record.interval" = "week"

[baseline]
scenario = "{base}"
"""


def test_ensemble_killed_at_each_stage_resumes_to_the_same_bytes(cli, base_scenario, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(ENSEMBLE_SPEC.format(base=base_scenario.as_posix()), encoding="utf-8")
    reference = tmp_path / "reference"
    run_cli(cli, "ensemble", spec, "-o", reference, "-q", env=env_with_epoch())
    out = tmp_path / "killed"
    runs = out / "runs"
    # Killed inside each run in turn (once it holds a record), then at the master file: stages,
    # not sleeps, so every kill lands where it is meant to however loaded the machine is. Run i
    # starts only after runs 0..i-1 are published, and no earlier attempt reached it.
    for attempt in range(3):
        process = subprocess.Popen([str(cli), "ensemble", str(spec), "-o", str(out), "-q"], env=env_with_epoch(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: has_a_record(runs / f"baseline_r{attempt:03d}.h5.partial"), process, f"run {attempt}")
        finally:
            kill(process)
        assert process.returncode == -signal.SIGKILL
        assert sorted(run.name for run in runs.glob("*.h5")) == [f"baseline_r{i:03d}.h5" for i in range(attempt)]
        for run in runs.glob("*.h5"):  # every finished run file is whole
            with h5py.File(run, "r") as f:
                assert int(f.attrs["complete"]) == 1
        assert not (out / "ensemble.h5").exists()
    # Aimed at the master file, whose writing is too short to be sure of hitting: killed as soon
    # as its temporary appears, or found whole if the ensemble finished first.
    process = subprocess.Popen([str(cli), "ensemble", str(spec), "-o", str(out), "-q"], env=env_with_epoch(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while process.poll() is None and not (out / "ensemble.h5.partial").exists():
            pass
    finally:
        kill(process)
    assert len(list(runs.glob("*.h5"))) == 3
    if process.returncode != -signal.SIGKILL:
        with h5py.File(out / "ensemble.h5", "r") as f:
            assert len(f["runs"]) == 3
    # Whatever the kills left (a master file's temporary included) is redone.
    (out / "ensemble.h5.partial").write_bytes(b"torn master")
    run_cli(cli, "ensemble", spec, "-o", out, "-q", env=env_with_epoch())
    for path in sorted(reference.rglob("*.h5")):
        if path.parent.name == "spin-up":
            continue  # the spin-up cache holds states, not results
        assert (out / path.relative_to(reference)).read_bytes() == path.read_bytes(), path.name
    assert not list(out.rglob("*.partial"))


# ------------------------------------------------------------------ full disk, unwritable paths

def limit_file_size(limit: int):
    """preexec_fn: write() fails with EFBIG past `limit` bytes (SIGXFSZ ignored, so not fatal)."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def assert_one_clear_error(result, path, reason):
    assert result.returncode == 1, f"exit {result.returncode}: {result.stderr}"
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert str(path) in lines[0] and reason in lines[0], lines[0]
    assert "HDF5-DIAG" not in result.stderr


def test_file_size_limit_during_a_run(cli, daily, tmp_path):
    scenario, reference_path = daily
    output = tmp_path / "limited.h5"
    output.write_bytes(b"old results")
    limit = reference_path.stat().st_size // 2
    result = subprocess.run(run_args(cli, scenario, output, "--force", "--resume-every", 0), capture_output=True,
                            text=True, env=cli_env(), preexec_fn=limit_file_size(limit), timeout=300)
    assert_one_clear_error(result, partial_of(output), "File too large")
    assert output.read_bytes() == b"old results"
    assert not partial_of(output).exists()


def test_file_size_limit_while_writing_a_checkpoint(cli, daily, tmp_path):
    scenario, reference_path = daily
    output = tmp_path / "out.h5"
    checkpoint = tmp_path / "day5.checkpoint.h5"
    # After five days the output is far under the limit; the checkpoint (the whole state) is not.
    limit = 300_000
    result = subprocess.run(run_args(cli, scenario, output, "--checkpoint-at", "2020-01-05", "--checkpoint",
                                     checkpoint, "--resume-every", 0),
                            capture_output=True, text=True, env=cli_env(), preexec_fn=limit_file_size(limit),
                            timeout=300)
    # (named by its temporary, .day5.checkpoint.h5.tmp<pid>, which is removed)
    assert_one_clear_error(result, checkpoint.name, "File too large")
    assert not checkpoint.exists() and not output.exists() and not partial_of(output).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a checkpoint temporary was left"


def test_file_size_limit_during_an_ensemble(cli, base_scenario, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(ENSEMBLE_SPEC.format(base=base_scenario.as_posix()), encoding="utf-8")
    out = tmp_path / "limited"
    result = subprocess.run([str(cli), "ensemble", str(spec), "-o", str(out), "-q"], capture_output=True, text=True,
                            env=cli_env(), preexec_fn=limit_file_size(30_000), timeout=300)
    assert result.returncode == 1, result.stderr
    assert "File too large" in result.stderr and "HDF5-DIAG" not in result.stderr, result.stderr
    assert not (out / "ensemble.h5").exists()


def test_unwritable_paths(cli, daily, tmp_path):
    scenario, _ = daily
    regular = tmp_path / "file.txt"
    regular.write_text("not a folder")
    under_file = regular / "out.h5"
    result = subprocess.run(run_args(cli, scenario, under_file), capture_output=True, text=True, env=cli_env())
    assert_one_clear_error(result, under_file, "Not a directory")

    folder = tmp_path / "folder.h5"
    folder.mkdir()
    result = subprocess.run(run_args(cli, scenario, folder, "--force"), capture_output=True, text=True, env=cli_env())
    assert_one_clear_error(result, folder, "is a directory")

    spec = tmp_path / "spec.toml"
    spec.write_text(ENSEMBLE_SPEC.format(base=scenario.as_posix()), encoding="utf-8")
    result = subprocess.run([str(cli), "ensemble", str(spec), "-o", str(regular / "ensemble"), "-q"],
                            capture_output=True, text=True, env=cli_env())
    assert result.returncode != 0
    assert "Not a directory" in result.stderr and str(regular) in result.stderr, result.stderr


def test_full_tmpfs(cli, daily, tmp_path):
    scenario, _ = daily
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        output = mount_point / "out.h5"
        result = subprocess.run(run_args(cli, scenario, output, "--resume-every", 0), capture_output=True, text=True,
                                env=cli_env(), timeout=300)
        assert result.returncode == 1, result.stderr
        assert "HDF5-DIAG" not in result.stderr and str(output) in result.stderr, result.stderr
        assert "No space left on device" in result.stderr or "free" in result.stderr, result.stderr
        assert not output.exists() and not partial_of(output).exists()
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_continued_run_writes_the_venue_table_of_the_city_as_built(cli, daily, tmp_path):
    # Mobility moves members between venues; the /venues table describes the city as built, so a
    # run continued from a late checkpoint must write the uninterrupted run's table (a resumed
    # run's bytes depend on it). Found by the random kills above: 1 run in 3 differed.
    scenario, reference_path = daily
    checkpoint = tmp_path / "late.ckpt.h5"
    first = tmp_path / "first.h5"
    run_cli(*run_args(cli, scenario, first, "--checkpoint-at", "2020-03-15", "--checkpoint", checkpoint),
            env=env_with_epoch())
    continued = tmp_path / "continued.h5"
    run_cli(*run_args(cli, scenario, continued, "--from-checkpoint", checkpoint), env=env_with_epoch())
    with h5py.File(reference_path, "r") as ref, h5py.File(continued, "r") as got, \
            h5py.File(checkpoint, "r") as ckpt:
        members_now = ckpt["state/venues/members"][()]
        assert (members_now != ref["venues"]["members"]).any(), "no member moved: the test proves nothing"
        np.testing.assert_array_equal(got["venues"][()], ref["venues"][()])


# ------------------------------------------------------------------ issue 16: concurrent writers, own files

def test_second_writer_of_an_output_is_refused_at_once(cli, daily, tmp_path):
    """D1: while one run writes OUT, a second (even with --force, another seed) is refused at once,
    naming the first; the first's partial and its published file are untouched; once OUT is
    published a later run without --force is refused."""
    scenario, reference_path = daily
    output = tmp_path / "same.h5"
    with ReportingRun(run_args(cli, scenario, output, "--resume-every", 0), env=env_with_epoch(),
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as first:
        assert first.wait_for_records(1), f"the first run ended early: {first.process.poll()}"
        args = run_args(cli, scenario, output, "--force")
        args[args.index("--seed") + 1] = "5"
        second = subprocess.run(args, capture_output=True, text=True, env=env_with_epoch(), timeout=120)
        assert second.returncode == 1, second.stderr
        assert second.stderr.startswith(
            f"error: {output}: another contactsim is writing this output (process {first.process.pid}"), second.stderr
        assert f"lock file {output}.lock" in second.stderr
        assert partial_of(output).exists() and not output.exists()
        assert first.wait_for_records(DAYS)
        assert first.process.wait(timeout=600) == 0
    assert output.read_bytes() == reference_path.read_bytes(), "the first run's output was disturbed"
    assert not partial_of(output).exists() and not (tmp_path / "same.h5.lock").exists()
    later = subprocess.run(run_args(cli, scenario, output), capture_output=True, text=True, env=cli_env())
    assert later.returncode == 1 and "output file exists" in later.stderr
    assert output.read_bytes() == reference_path.read_bytes()


def test_checkpoint_colliding_with_the_runs_own_files_is_refused(cli, daily, tmp_path):
    """D4: --checkpoint at OUT, OUT.partial, OUT.resume or the scenario is refused before anything runs."""
    scenario, _ = daily
    output = tmp_path / "out.h5"
    for checkpoint, what in ((output, "the output"), (partial_of(output), "the output being written"),
                             (resume_of(output), "the run's resume checkpoint"), (scenario, "which this run reads")):
        result = subprocess.run(run_args(cli, scenario, output, "--checkpoint-at", "2020-01-05", "--checkpoint",
                                         checkpoint, "--force"), capture_output=True, text=True, env=cli_env())
        assert result.returncode == 2, result.stderr
        assert "--checkpoint" in result.stderr and str(checkpoint) in result.stderr and what in result.stderr, \
            result.stderr
        assert not output.exists() and not partial_of(output).exists()
    assert "[record]" in scenario.read_text()


def test_output_that_is_an_input_or_not_a_file_name_is_refused(cli, daily, tmp_path):
    """D16: -o "", -o DIR/, --until "", and --force -o SCENARIO are refused, nothing created."""
    scenario, _ = daily
    text = scenario.read_text()
    cases = [(("-o", ""), "expected an output file name"),
             (("-o", f"{tmp_path}/newdir/"), "expected an output file, got the folder"),
             (("-o", scenario, "--force"), "which this run reads"),
             (("-o", tmp_path / "x.h5", "--until", ""), "expected a date YYYY-MM-DD")]
    for args, message in cases:
        result = subprocess.run([str(cli), "run", str(scenario), *map(str, args), "--quiet"], capture_output=True,
                                text=True, env=cli_env())
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    assert scenario.read_text() == text
    assert not (tmp_path / "newdir").exists() and not (tmp_path / "x.h5").exists()


def test_census_file_is_never_an_output(cli, source_dir, tmp_path):
    """D16: the census CSV a scenario reads is one of its inputs: never the output or a checkpoint."""
    census = tmp_path / "two_wards.csv"
    census.write_bytes((source_dir / "tests/fuzz/corpus/census/two_wards.csv").read_bytes())
    scenario = write_census_city(tmp_path)
    before = census.read_bytes()
    for option, extra in (("-o", ()), ("--checkpoint", ("-o", tmp_path / "out.h5", "--checkpoint-at", "2020-01-05"))):
        result = subprocess.run([str(cli), "run", str(scenario), option, str(census), *map(str, extra), "--force",
                                 "--quiet"], capture_output=True, text=True, env=cli_env())
        assert result.returncode == 2, result.stderr
        assert f"expected a file other than {census}, which this run reads" in result.stderr, result.stderr
        assert option in result.stderr, result.stderr
    assert census.read_bytes() == before
    assert not (tmp_path / "out.h5").exists()


def test_resume_path_that_is_a_directory_is_refused_at_the_start(cli, daily, tmp_path):
    """D16: a directory at OUT.resume would fail the run at its first resume save: refused first."""
    scenario, _ = daily
    output = tmp_path / "out.h5"
    resume_of(output).mkdir()
    result = subprocess.run(run_args(cli, scenario, output), capture_output=True, text=True, env=cli_env())
    assert result.returncode == 1
    assert f"{resume_of(output)}: is a directory" in result.stderr
    assert not partial_of(output).exists()


def test_stale_resume_temporaries_of_dead_runs_are_removed(cli, daily, tmp_path):
    """D14: `.OUT.resume.tmp<PID>` of processes that are gone are removed when the next run starts."""
    scenario, reference_path = daily
    output = tmp_path / "out.h5"
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its id belongs to no process now
    stale = tmp_path / f".out.h5.resume.tmp{dead.pid}"
    stale.write_bytes(b"half a checkpoint")
    live = tmp_path / f".out.h5.resume.tmp{os.getpid()}"
    live.write_bytes(b"someone else's")
    run_cli(*run_args(cli, scenario, output, "--resume-every", 0), env=env_with_epoch())
    assert not stale.exists()
    assert live.read_bytes() == b"someone else's"
    assert output.read_bytes() == reference_path.read_bytes()


DAILY_RECORDS = """
[record]
interval = "day"
"""


def test_resume_after_the_census_file_changed_starts_afresh(cli, source_dir, tmp_path):
    """D13: the world no longer fits OUT.resume (its census file changed): a note, then a fresh run."""
    census = tmp_path / "two_wards.csv"
    census.write_text((source_dir / "tests/fuzz/corpus/census/two_wards.csv").read_text())
    scenario = write_census_city(tmp_path, extra=DAILY_RECORDS)
    output = tmp_path / "out.h5"
    args = [str(cli), "run", str(scenario), "-o", str(output), "--threads", "1", "--quiet", "--resume-every", "10"]
    with ReportingRun(args, env=env_with_epoch(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as run:
        assert run.wait_for_records(15), f"the run ended before record 15: {run.process.poll()}"
    assert resume_of(output).exists()
    census.write_text(census.read_text().replace('"1000","700"', '"1100","800"'))
    rerun = run_cli(*args, env=env_with_epoch())
    assert f"note: not resuming from {resume_of(output)}" in rerun.stderr, rerun.stderr
    assert "--no-resume" in rerun.stderr
    assert not rerun.stdout.startswith("Resuming")
    with h5py.File(output, "r") as f:
        assert int(f.attrs["complete"]) == 1 and len(f["series/time"]) == 91


def test_out_of_memory_is_reported_as_such(cli, base_scenario, tmp_path):
    """D15: under a memory limit (ulimit -v) the run says it ran out of memory, not "std::bad_alloc"."""
    if b"__asan_init" in cli.read_bytes():
        pytest.skip("AddressSanitizer reserves terabytes of shadow address space, so no address-space limit can be set")
    scenario = tmp_path / "big.toml"
    scenario.write_text(f'extends = "{base_scenario.as_posix()}"\n[population]\nscale = 20.0\n'
                        "[simulation]\nspin_up_days = 0\n", encoding="utf-8")
    limit = 400 * 2**20  # far below the ~1.5 GB five million residents need

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    output = tmp_path / "big.h5"
    result = subprocess.run([str(cli), "run", str(scenario), "-o", str(output), "--until", "2020-01-02", "--quiet",
                             "--threads", "1", "--no-spin-up-cache"], capture_output=True, text=True, env=cli_env(),
                            preexec_fn=limit_memory, timeout=300)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: out of memory while running `contactsim run`"), result.stderr
    assert "std::bad_alloc" not in result.stderr
    assert not output.exists() and not partial_of(output).exists()
