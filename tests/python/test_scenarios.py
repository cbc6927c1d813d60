"""Every scenario in scenarios/ states its question, validates and runs (shortened with --until)."""
import os
import pathlib

import h5py
import pytest

from conftest import CENSUS_HEADER, run_cli, write_census_city

SCENARIOS = sorted((pathlib.Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))


def test_the_library_is_there():
    names = {p.stem for p in SCENARIOS}
    for expected in ["baseline", "cut_community_centres", "esol_withdrawn", "integration_officer_ends",
                     "festival_annual", "festival_one_off", "lockdowns", "youth_programme_targeted",
                     "school_linking", "media_shock", "normacot_shelton", "arts_programme"]:
        assert expected in names


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_states_its_question_validates_and_runs(scenario, cli, tmp_path):
    text = scenario.read_text(encoding="utf-8")
    assert text.startswith("#") and "Question" in text.split("\n\n")[0] or scenario.stem == "stoke_on_trent", \
        "a library scenario opens with a header comment stating its question"
    run_cli(cli, "validate", scenario)
    output = tmp_path / "out.h5"
    # The file as shipped, with a short spin-up: the three-year one is the validation's to test.
    short = tmp_path / "short_spin_up.toml"
    short.write_text(f'extends = "{scenario}"\n[simulation]\nspin_up_days = 30\n', encoding="utf-8")
    run_cli(cli, "run", short, "-o", output, "--until", "2020-02-10", "--quiet")
    with h5py.File(output, "r") as f:
        assert len(f["series/time"]) >= 1
        assert f["series/contacts_positive"][:].sum() > 0
        assert f.attrs["end_date"] == "2020-02-10"


# ----------------------------------------------------------------------------- issue 16: input messages

def refusal(cli, *args):
    result = run_cli(cli, *args, check=False)
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_directories_and_fifos_are_named_as_such_not_as_missing_files(cli, tmp_path):
    """D15: a directory or FIFO as the scenario, `extends` or census file says what it is."""
    (tmp_path / "folder.toml").mkdir()
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "two_wards.csv").mkdir()
    message = refusal(cli, "validate", write_census_city(tmp_path))
    assert "is a directory, not a file" in message and "not found" not in message, message
    message = refusal(cli, "validate", write_census_city(tmp_path, census="fifo.csv"))
    assert "is not a regular file (a FIFO)" in message, message
    extending = tmp_path / "extending.toml"
    extending.write_text('extends = "folder.toml"\n', encoding="utf-8")
    message = refusal(cli, "validate", extending)
    assert f"{extending}:1: extends: is a directory, not a file: {tmp_path / 'folder.toml'}" in message, message
    message = refusal(cli, "validate", tmp_path / "fifo.csv")
    assert "is not a regular file (a FIFO)" in message, message


def test_binary_junk_in_a_census_file_is_escaped_and_lists_are_never_empty(cli, tmp_path):
    """D15: control bytes and invalid UTF-8 from a CSV appear as \\xNN; no empty list in a message."""
    census = tmp_path / "two_wards.csv"
    census.write_bytes(CENSUS_HEADER.encode() + b'"2021","Nor\x1b[2Jth\xff","E05000001","10","7","2","1"\n')
    message = refusal(cli, "validate", write_census_city(tmp_path))
    assert "\x1b" not in message and "\\x1B[2J" in message and "\\xFF" in message, message
    census.write_bytes(CENSUS_HEADER.encode())
    message = refusal(cli, "validate", write_census_city(tmp_path))
    assert "its geographies are (none)" in message or "expected" in message, message
    assert "are \n" not in message and "one of  " not in message and "one of \n" not in message, message


def test_years_outside_1900_to_2200_and_empty_names_are_refused(cli, tmp_path):
    """D12, D16: a start in year 9999 and an empty ward name are refused at their key."""
    (tmp_path / "two_wards.csv").write_text(CENSUS_HEADER, encoding="utf-8")
    message = refusal(cli, "validate", write_census_city(tmp_path, start="9999-12-31"))
    assert ":2: simulation.start: expected a date in the years 1900 to 2200, got 9999-12-31" in message, message
    message = refusal(cli, "validate", write_census_city(tmp_path, wards='["North", ""]'))
    assert "wards.names: expected a name for ward 2, got an empty one" in message, message
