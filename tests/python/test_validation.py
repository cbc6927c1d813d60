"""The reduced `make validate`: the default city, spun up, meets the baseline targets of
docs/validation.md (ratio every year, get-on-well level after the first year, stationarity,
contact-warmth correlation), and the report writer touches only the model column."""
import os
import pathlib

import pytest

from contactsim.validation import TARGETS, baseline_statistics, check, run_replicates, write_report

SOURCE = pathlib.Path(os.environ.get("CONTACTSIM_SOURCE_DIR", "."))


@pytest.fixture(scope="module")
def tenth_of_the_city(tmp_path_factory):
    """A tenth of Stoke-on-Trent, four years after the default three-year spin-up."""
    work = tmp_path_factory.mktemp("validation")
    return run_replicates(SOURCE / "scenarios" / "stoke_on_trent.toml", 1, 0.1, work, threads=2)[0]


def test_every_target_is_met_by_the_default_city(tenth_of_the_city):
    failed = [row for row in check(tenth_of_the_city) if not row["ok"]]
    assert not failed, failed


def test_positive_contact_is_about_three_times_negative_in_every_year(tenth_of_the_city):
    ratios = tenth_of_the_city["ratio_by_year"]
    assert len(ratios) == 4
    assert all(2.5 <= r <= 3.5 for r in ratios), ratios


def test_the_baseline_does_not_drift(tenth_of_the_city):
    assert abs(tenth_of_the_city["get_on_well_change_years_2_4"]) <= 0.02
    assert abs(tenth_of_the_city["outgroup_warmth_change_years_2_4"]) <= 0.02
    assert tenth_of_the_city["spin_up_days"] == 1095


def test_report_rewrites_only_the_model_column(tmp_path, tenth_of_the_city):
    doc = tmp_path / "validation.md"
    doc.write_text("intro\n<!-- model column: begin -->\nold\n<!-- model column: end -->\noutro\n")
    rows = write_report([tenth_of_the_city, tenth_of_the_city], doc, tmp_path / "figure.png", how="measured so")
    text = doc.read_text()
    assert text.startswith("intro\n<!-- model column: begin -->\n| target |")
    assert text.endswith("<!-- model column: end -->\noutro\n")
    assert "old" not in text and "measured so" in text
    assert len(rows) == len(TARGETS)
    assert (tmp_path / "figure.png").stat().st_size > 1000


def test_report_refuses_a_file_without_markers(tmp_path, tenth_of_the_city):
    doc = tmp_path / "validation.md"
    doc.write_text("no markers here\n")
    with pytest.raises(ValueError, match="markers"):
        write_report([tenth_of_the_city], doc)
    assert doc.read_text() == "no markers here\n"


def test_contact_and_warmth_correlate_as_pettigrew_and_tropp_found(tenth_of_the_city):
    assert 0.1 <= tenth_of_the_city["contact_warmth_r"] <= 0.35


def test_statistics_are_read_from_the_recorded_file(tmp_path_factory, tenth_of_the_city):
    work = pathlib.Path(tmp_path_factory.getbasetemp())
    recorded = next(work.glob("validation*/replicate_0.h5"))
    assert baseline_statistics(recorded) == tenth_of_the_city


def test_the_defaults_are_the_first_plausible_vector_and_the_set_is_shipped_whole(cli):
    import subprocess
    import tomllib
    sets = tomllib.loads((SOURCE / "scenarios" / "calibration" / "plausible_parameters.toml").read_text())["set"]
    assert len(sets) >= 20
    assert all(s.keys() == sets[0].keys() for s in sets)
    listed = subprocess.run([str(cli), "params"], capture_output=True, text=True, check=True).stdout
    defaults = {f"{line.split()[0]}.{line.split()[1]}": float(line.split()[2]) for line in listed.splitlines()
                if line.startswith("mechanisms.") and len(line.split()) > 2}
    for key, value in sets[0].items():
        assert defaults[key] == pytest.approx(value, rel=1e-5), key
    described = __import__("contactsim").describe_ensemble(
        SOURCE / "scenarios" / "ensembles" / "community_centre_cuts_uncertain.toml")
    assert described["parameter_sets"] == len(sets)


def test_work_and_school_lead_the_settings_as_the_citizenship_survey_found(tenth_of_the_city):
    shares = tenth_of_the_city["encounter_share_by_venue_type"]
    assert sum(shares.values()) == pytest.approx(1.0)
    ranked = sorted(shares, key=shares.get, reverse=True)
    assert set(ranked[:2]) == {"workplace", "school"}, shares
    assert tenth_of_the_city["work_and_school_lead"] == pytest.approx(
        min(shares["workplace"], shares["school"]) - shares[ranked[2]])


def test_the_lead_is_negative_when_another_setting_overtakes_and_nan_without_one():
    from contactsim.validation import _lead_of
    assert _lead_of({"workplace": 0.5, "school": 0.3, "street": 0.2}, ("workplace", "school")) == pytest.approx(0.1)
    assert _lead_of({"workplace": 0.5, "school": 0.1, "street": 0.4}, ("workplace", "school")) == pytest.approx(-0.3)
    assert _lead_of({"workplace": 0.9, "street": 0.1}, ("workplace", "school")) != _lead_of(
        {"workplace": 0.9, "street": 0.1}, ("workplace", "school"))  # nan


@pytest.fixture(scope="module")
def youth_at_a_tenth():
    """The targeted youth programme's first two cohorts at a tenth of the city, matched pairs."""
    from contactsim.validation import youth_programme_statistics
    return youth_programme_statistics(SOURCE / "scenarios" / "youth_programme_targeted.toml", 0.1, threads=2)


def test_the_youth_programme_has_small_lasting_effects_as_the_ncs_evaluations_found(youth_at_a_tenth):
    from contactsim.validation import YOUTH_TARGETS
    assert youth_at_a_tenth["youth_pairs_4_months"] >= 30
    failed = [row for row in check(youth_at_a_tenth, YOUTH_TARGETS) if not row["ok"]]
    assert not failed, failed
    # Distinguishable from no effect at all, yet smaller a year on.
    assert youth_at_a_tenth["youth_d_4_months"] > 2 * youth_at_a_tenth["youth_d_se_4_months"]
    assert youth_at_a_tenth["youth_d_12_months"] < youth_at_a_tenth["youth_d_4_months"]


def test_report_adds_the_youth_table_when_given(tmp_path, tenth_of_the_city, youth_at_a_tenth):
    from contactsim.validation import YOUTH_TARGETS
    doc = tmp_path / "validation.md"
    doc.write_text("<!-- model column: begin -->\n<!-- model column: end -->\n")
    rows = write_report([tenth_of_the_city], doc, youth=youth_at_a_tenth)
    assert len(rows) == len(TARGETS) + len(YOUTH_TARGETS)
    text = doc.read_text()
    assert "The youth programme" in text and text.count("| youth programme:") == len(YOUTH_TARGETS)
    assert "more segregated half of blocks" in text
