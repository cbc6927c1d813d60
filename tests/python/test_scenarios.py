"""Every scenario in scenarios/ states its question, validates and runs (shortened with --until)."""
import pathlib

import h5py
import pytest

from conftest import run_cli

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
