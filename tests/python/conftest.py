"""Shared fixtures for the checks of contactsim's HDF5 output.

ctest runs `/usr/bin/python3 -m pytest -q tests/python` with CONTACTSIM_CLI (the built binary)
and CONTACTSIM_SOURCE_DIR (the repository root) in the environment.
"""
import os
import pathlib
import signal
import subprocess
import tomllib

import pytest

# The simulation and the readers share files while a run is in progress (crash-safety test);
# HDF5 1.10's file locking would make the reader's open fail, so both sides turn it off.
os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"

SMALL_SCENARIO = """\
extends = "{base}"

[simulation]
spin_up_days = 365  # a year is enough for these checks of the output; the default three are validated


[population]
scale = 0.05

[record]
interval = "{interval}"
"""

SEED = 424242
THREADS = 2
UNTIL = "2020-06-30"


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    path = os.environ.get("CONTACTSIM_CLI")
    if not path:
        pytest.fail("CONTACTSIM_CLI is not set: run these tests through ctest, or set it to the contactsim binary")
    path = pathlib.Path(path)
    assert path.is_file(), f"CONTACTSIM_CLI={path} does not exist"
    return path


@pytest.fixture(scope="session")
def source_dir() -> pathlib.Path:
    default = pathlib.Path(__file__).resolve().parents[2]
    return pathlib.Path(os.environ.get("CONTACTSIM_SOURCE_DIR", default))


@pytest.fixture(scope="session")
def base_scenario(source_dir) -> pathlib.Path:
    return source_dir / "scenarios" / "stoke_on_trent.toml"


@pytest.fixture(scope="session")
def base_doc(base_scenario) -> dict:
    with open(base_scenario, "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="session")
def ward_names(source_dir) -> list[str]:
    text = (source_dir / "scenarios" / "data" / "stoke_wards.txt").read_text(encoding="utf-8")
    return [line.rstrip("\r") for line in text.split("\n") if line.rstrip("\r")]


def cli_env() -> dict:
    env = dict(os.environ)
    env["HDF5_USE_FILE_LOCKING"] = "FALSE"
    return env


def run_cli(cli, *args, env=None, check=True) -> subprocess.CompletedProcess:
    """`contactsim *args` to its end, output captured as text; with `check`, it must succeed."""
    result = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, env=env or cli_env(),
                            timeout=600)
    if check:
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stderr}"
    return result


class ReportingRun:
    """`contactsim run` with the hidden `--record-fd`: the run writes one byte to a pipe for every
    record flushed to its output, so a test acts after exactly the k-th record. A sleep or a
    deadline instead lands before or after the end of the run depending on the machine's load."""

    def __init__(self, args, **popen_args):
        read_end, write_end = os.pipe()
        try:
            self.process = subprocess.Popen([*map(str, args), "--record-fd", str(write_end)], pass_fds=(write_end,),
                                            **popen_args)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)  # the run holds the only write end: its exit is the pipe's end
        self._reports = read_end
        self.records = 0  # reported so far

    def wait_for_records(self, k: int) -> bool:
        """Blocks until the run has reported `k` records (True) or has ended before (False)."""
        while self.records < k:
            chunk = os.read(self._reports, k - self.records)
            if not chunk:
                return False
            self.records += len(chunk)
        return True

    def kill(self) -> None:
        """SIGKILL, then `records` counts every record the run reported before it died."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        while chunk := os.read(self._reports, 4096):
            self.records += len(chunk)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        os.close(self._reports)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def iso_dates(time) -> list[str]:
    """A run's /series/time (h5py dataset) as YYYY-MM-DD strings."""
    from contactsim.results import record_dates
    return [str(day) for day in record_dates(time)]


def run_scenario(cli, directory: pathlib.Path, name: str, text: str, *args, env=None):
    """`text` written as <name>.toml in `directory` and run to <name>.h5 with `args`, which must
    succeed: (scenario, output)."""
    scenario = directory / f"{name}.toml"
    scenario.write_text(text, encoding="utf-8")
    output = directory / f"{name}.h5"
    run_cli(cli, "run", scenario, "-o", output, *args, env=env)
    return scenario, output


def write_small_scenario(directory: pathlib.Path, base: pathlib.Path, interval: str) -> pathlib.Path:
    path = directory / f"small_{interval}.toml"
    path.write_text(SMALL_SCENARIO.format(base=base.as_posix(), interval=interval), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_run(cli, base_scenario, tmp_path_factory):
    """One run of the small monthly scenario for the whole session: (output path, scenario path, stdout)."""
    directory = tmp_path_factory.mktemp("output")
    scenario = write_small_scenario(directory, base_scenario, "month")
    output = directory / "small.h5"
    result = run_cli(cli, "run", scenario, "-o", output, "--until", UNTIL, "--threads", THREADS, "--seed", SEED,
                     "--quiet")
    assert output.is_file()
    return output, scenario, result.stdout


CENSUS_CITY = """\
[simulation]
start = {start}
end = 2020-03-31
spin_up_days = 0

[wards]
names = {wards}

[population]
source = "census"
scale = 0.5

[population.census]
file = "{census}"
total_column = "Ethnic group: Total: All usual residents"
columns = {{ white = ["Ethnic group: White"], minority = ["Ethnic group: Asian", "Ethnic group: Other"] }}

[population.age_shares]
child = 0.2
youth = 0.1
adult = 0.5
older = 0.2

[groups.white]
warmth = {{ outgroup = 0.6 }}

[groups.minority]
warmth = {{ outgroup = 0.6 }}

[venue_types.school]
[venue_types.workplace]
{extra}"""

CENSUS_HEADER = ('"date","geography","geography code","Ethnic group: Total: All usual residents",'
                 '"Ethnic group: White","Ethnic group: Asian","Ethnic group: Other"\n')


def write_census_city(directory, census="two_wards.csv", start="2020-01-01", wards='["North", "South"]', extra=""):
    """A two-ward city read from a census CSV in `directory`, for the census reader's checks."""
    scenario = directory / "city.toml"
    scenario.write_text(CENSUS_CITY.format(census=census, start=start, wards=wards, extra=extra), encoding="utf-8")
    return scenario


def small_ensemble_spec(name: str, base: pathlib.Path, *, seed: int, replicates: int, until: str, scale: float,
                        body: str) -> str:
    """An ensemble spec over `base`, scaled down, monthly records, no spin-up, one thread per run;
    `body` holds its counterfactuals (and any sweep)."""
    return (f'name = "{name}"\nseed = {seed}\nreplicates = {replicates}\nthreads = 1\nuntil = {until}\n\n'
            f'[overrides]\n"population.scale" = {scale}\n"record.interval" = "month"\n'
            f'"simulation.spin_up_days" = 0\n\n[baseline]\nscenario = "{base.as_posix()}"\n\n{body}')
