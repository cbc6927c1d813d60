"""contactsim — agent-based simulation of intergroup contact in a city's wards.

    import contactsim
    scenario = contactsim.Scenario.load("scenarios/stoke_on_trent.toml")
    sim = contactsim.Simulation(scenario.override({"population.scale": 0.1}), seed=1)
    sim.run(until="2020-12-31", output="results/quick.h5")
    sim.summary()                                # pandas DataFrame per group
    ds = contactsim.open_results("results/quick.h5")  # xarray Dataset

The compiled core (`contactsim._core`) is the same library the `contactsim` command runs.
"""
from . import _core
from ._core import CheckpointError, InvariantError, OutputError, ScenarioError
from .simulation import AGE_BANDS, AGENT_ARRAYS, Scenario, Simulation
from .results import (agent_snapshot_dates, concat_replicates, contact_matrix, open_results, read_agents,
                      read_events, read_table)
from .ensemble import compare, describe_ensemble, open_ensemble, run_ensemble
from .effects import EffectWarning, effects
from .calibration import calibrate, run_statistics
from . import plotting

__version__ = _core.__version__
git_revision = _core.git_revision

__all__ = [
    "Scenario", "Simulation", "ScenarioError", "OutputError", "CheckpointError", "InvariantError", "AGENT_ARRAYS",
    "AGE_BANDS", "open_results", "read_table", "read_events", "read_agents", "agent_snapshot_dates", "concat_replicates", "contact_matrix", "plotting",
    "run_ensemble", "open_ensemble", "compare", "describe_ensemble", "effects", "EffectWarning", "calibrate", "run_statistics",
]
