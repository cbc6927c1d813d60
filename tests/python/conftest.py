"""Shared fixtures for the checks of contactsim's HDF5 output.

ctest runs `/usr/bin/python3 -m pytest -q tests/python` with CONTACTSIM_CLI (the built binary)
and CONTACTSIM_SOURCE_DIR (the repository root) in the environment.
"""
import os
import pathlib
import subprocess
import tomllib

import pytest

# The simulation and the readers share files while a run is in progress (crash-safety test);
# HDF5 1.10's file locking would make the reader's open fail, so both sides turn it off.
os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"

SMALL_SCENARIO = """\
extends = "{base}"

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
    result = subprocess.run(
        [str(cli), "run", str(scenario), "-o", str(output), "--until", UNTIL, "--threads", str(THREADS),
         "--seed", str(SEED), "--quiet"],
        capture_output=True, text=True, env=cli_env(), timeout=300)
    assert result.returncode == 0, f"contactsim run failed ({result.returncode}):\n{result.stderr}"
    assert output.is_file()
    return output, scenario, result.stdout
