"""Agent snapshots read back with contactsim.results.read_agents (agreeing with h5py's own
reading of /agents/<date>), and the Python switch for invariant checks."""
import datetime

import h5py
import numpy as np
import pytest

from conftest import SEED, run_cli, run_scenario
from contactsim.results import agent_snapshot_dates, read_agents

SNAPSHOTS = """\
extends = "{base}"

[simulation]
end = 2020-03-10

[population]
scale = 0.02

[record]
interval = "month"

[record.agents]
interval = "month"
sample = 0.05
"""


@pytest.fixture(scope="module")
def snapshot_run(cli, base_scenario, tmp_path_factory):
    _, output = run_scenario(cli, tmp_path_factory.mktemp("agents"), "snapshots",
                             SNAPSHOTS.format(base=base_scenario.as_posix()), "--seed", SEED, "--quiet")
    return output


def test_snapshot_dates_are_month_ends_and_the_last_day(snapshot_run):
    assert agent_snapshot_dates(snapshot_run) == ["2020-01-31", "2020-02-29", "2020-03-10"]


def test_read_agents_matches_the_stored_arrays(snapshot_run):
    frame = read_agents(snapshot_run, datetime.date(2020, 2, 29))
    with h5py.File(snapshot_run, "r") as f:
        agents = f["agents"]
        k = 1  # the second snapshot
        groups = [g.decode() if isinstance(g, bytes) else g for g in f["groups"]["name"]]
        wards = [w.decode() if isinstance(w, bytes) else w for w in f["wards"]["name"]]
        np.testing.assert_array_equal(frame.index.to_numpy(), agents["slot"][()])
        assert list(frame["group"]) == [groups[g] for g in agents["group"][k]]
        assert list(frame["ward"]) == [wards[w] for w in agents["ward"][k]]
        for g, name in enumerate(groups):
            np.testing.assert_array_equal(frame[f"warmth_{name}"].to_numpy(), agents["warmth"][k, :, g])
        np.testing.assert_array_equal(frame["english"].to_numpy(), agents["english"][k])
        assert frame.attrs["sampled"] == len(frame) == int(agents.attrs["sampled"])
    assert frame.attrs["interval"] == "month" and frame.attrs["sample"] == 0.05
    assert frame.attrs["date"] == "2020-02-29"
    # ~5% of ~5,200 residents, and every value where it belongs.
    assert 150 < len(frame) < 380
    assert set(frame["age_band"]) <= {"child", "youth", "adult", "older"}
    assert frame.filter(like="warmth_").stack().between(0, 1).all()
    assert (frame["cross_group_friends"] <= frame["friends"]).all()


def test_the_panel_is_the_same_slots_at_every_date(snapshot_run):
    first, last = (read_agents(snapshot_run, d) for d in ("2020-01-31", "2020-03-10"))
    assert list(first.index) == list(last.index)
    assert not np.array_equal(first["warmth_asian"].to_numpy(), last["warmth_asian"].to_numpy())


def test_a_date_without_a_snapshot_lists_those_there_are(snapshot_run):
    with pytest.raises(KeyError, match=r"no agent snapshot for 2020-02-15; snapshots: 2020-01-31, 2020-02-29, 2020-03-10"):
        read_agents(snapshot_run, "2020-02-15")


def test_simulation_checks_invariants_on_request(base_scenario):
    import contactsim

    scenario = contactsim.Scenario.load(base_scenario).override({"population.scale": 0.01})
    sim = contactsim.Simulation(scenario, seed=1, check_invariants=True)
    assert sim.checks_invariants
    assert sim.step(35) == 35  # through mobility's first monthly run, every check passing
    assert issubclass(contactsim._core.InvariantError, RuntimeError)


def test_snapshot_readers_and_invariant_error_are_exported_at_the_top_level():
    import contactsim
    assert contactsim.read_agents is read_agents
    assert contactsim.agent_snapshot_dates is agent_snapshot_dates
    assert issubclass(contactsim.InvariantError, RuntimeError)
    assert {"read_agents", "agent_snapshot_dates", "InvariantError"} <= set(contactsim.__all__)


def test_a_run_recording_snapshots_does_not_resume_and_so_keeps_every_snapshot(cli, snapshot_run, tmp_path):
    # Checkpoints do not carry agent snapshots: a resumed run would lose the earlier ones, so a
    # leftover <output>.resume is set aside with a note and the run starts from the first day.
    scenario = snapshot_run.parent / "snapshots.toml"
    output = tmp_path / "again.h5"
    (tmp_path / "again.h5.resume").write_bytes(b"left by a killed run")
    result = run_cli(cli, "run", scenario, "-o", output, "--seed", SEED, "--quiet", "--resume-every", 20)
    assert "not resuming" in result.stderr and "agent snapshots" in result.stderr
    assert agent_snapshot_dates(output) == agent_snapshot_dates(snapshot_run)
    assert not (tmp_path / "again.h5.resume").exists()  # a finished run leaves no resume point
