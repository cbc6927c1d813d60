"""Scenarios and simulations: the Python face of the library the CLI drives.

A :class:`Scenario` is a validated scenario file (or dict); it is immutable, and
:meth:`Scenario.override` returns a new one. A :class:`Simulation` builds the world once and
then steps through the days; the GIL is released while it simulates, and Ctrl-C stops it between
days with everything finished (including every completed record of its output) kept. One
Simulation may be used from several threads: its calls are serialised (a call waits for another
thread's to end), so steps, checkpoints and reads each see a whole day.
"""
from __future__ import annotations

import datetime as _dt
import numbers
import os
import warnings
from typing import Any, Mapping, Optional, Union

import numpy as np

from . import _core

PathLike = Union[str, "os.PathLike[str]"]
DateLike = Union[str, _dt.date]

#: Agent arrays exposed as read-only numpy views (no copy), with what they hold.
AGENT_ARRAYS = {
    "group": "group index (into Scenario.groups), uint8",
    "age_band": "0 child, 1 youth, 2 adult, 3 older; uint8",
    "faith": "faith index (into the scenario's [faiths]), 255 = none; uint8",
    "ward": "ward index (into Scenario.wards), uint16",
    "block": "city-wide residential block id, uint32",
    "english": "English proficiency in [0, 1], float32",
    "anxiety": "intergroup anxiety in [0, 1], float32",
    "warmth": "N × G warmth toward each group (feeling thermometer / 100), float32",
    "disposition": "stable personal offset of outgroup warmth, float32",
    "positive_memory": "decaying count of positive intergroup encounters, float32",
    "negative_memory": "decaying count of negative intergroup encounters, float32",
    "last_intergroup_contact": "day index of the latest intergroup encounter, -1 = none, int32",
    "membership": "N × venue types: the venue each resident belongs to, -1 = none, int32",
    "programme_start_day": "day index of the resident's youth-programme cohort start, -1 = never, int32",
}

AGE_BANDS = ("child", "youth", "adult", "older")


def _check_path(value: Any, what: str) -> str:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what}: expected a path (str or pathlib.Path), got {type(value).__name__} {value!r}")
    return os.fspath(value)


def _check_optional_int(value: Any, what: str, minimum: int, maximum: int) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what}: expected an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if not minimum <= value <= maximum:
        raise ValueError(f"{what}: expected an integer in [{minimum}, {maximum}], got {value}")
    return value


def _to_date(value: DateLike, what: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what}: expected a date YYYY-MM-DD, got {value!r}") from None
    if isinstance(value, np.datetime64):
        return _to_date(str(value)[:10], what)
    raise TypeError(f"{what}: expected a date (datetime.date or 'YYYY-MM-DD'), got {type(value).__name__} {value!r}")


class Scenario:
    """A validated scenario. Create with :meth:`load` or :meth:`from_dict`.

    Validation is the CLI's: a bad value raises :class:`ScenarioError` (a ``ValueError``) whose
    message names the file, line and key and what was expected; its ``file``, ``line``, ``key``
    and ``expected`` attributes hold the parts.
    """

    __slots__ = ("_core",)

    def __init__(self, core: "_core.Scenario"):
        if not isinstance(core, _core.Scenario):
            raise TypeError("use Scenario.load(path) or Scenario.from_dict(d) to create a Scenario")
        self._core = core

    @classmethod
    def load(cls, path: PathLike) -> "Scenario":
        """Read and validate a scenario file (TOML, with ``extends`` resolved)."""
        path = _check_path(path, "Scenario.load")
        if not os.path.exists(path):
            raise FileNotFoundError(2, "scenario file not found", path)
        if os.path.isdir(path):
            raise IsADirectoryError(21, "scenario path is a directory, not a file", path)
        # Anything else that is not a regular file (a FIFO, a device) is refused by the core,
        # naming what it is, without being read.
        return cls(_core.Scenario.load(path))

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any], base_dir: Optional[PathLike] = None) -> "Scenario":
        """A scenario from a dict shaped like the TOML file (e.g. from :meth:`to_dict`).

        ``extends`` and data-file paths are resolved relative to ``base_dir`` (default: the
        current directory). Errors name the key (a dict has no lines).
        """
        if not isinstance(mapping, Mapping):
            raise TypeError(f"Scenario.from_dict: expected a dict, got {type(mapping).__name__}")
        base = None if base_dir is None else _check_path(base_dir, "Scenario.from_dict base_dir")
        return cls(_core.Scenario.from_dict(mapping, base))

    def to_dict(self) -> dict:
        """The merged scenario (every ``extends`` applied) as nested dicts and lists."""
        return self._core.to_dict()

    def override(self, values: Mapping[str, Any]) -> "Scenario":
        """A new scenario with dotted keys replaced, e.g.
        ``{"mechanisms.valence.beta0": 1.2, "population.scale": 0.1, "timeline[0].change": -0.2}``.

        The result is validated as a whole; an invalid value raises :class:`ScenarioError`
        naming the override. This scenario is unchanged.
        """
        if not isinstance(values, Mapping):
            raise TypeError(f"Scenario.override: expected a dict of {{'dotted.key': value}}, got "
                            f"{type(values).__name__}")
        return Scenario(self._core.override(values))

    # Read-only facts about the scenario.
    path = property(lambda self: self._core.path, doc="The scenario file (for a dict: <base_dir>/<dict>).")
    text = property(lambda self: self._core.text, doc="The merged scenario as TOML: what runs.")
    sha256 = property(lambda self: self._core.sha256, doc="SHA-256 of `text` (recorded in outputs).")
    start = property(lambda self: self._core.start, doc="First simulated day.")
    end = property(lambda self: self._core.end, doc="Last simulated day.")
    seed = property(lambda self: self._core.seed, doc="The scenario's [simulation] seed.")
    groups = property(lambda self: self._core.groups, doc="Group names, in index order.")
    wards = property(lambda self: self._core.wards, doc="Ward names, in index order.")
    venue_types = property(lambda self: self._core.venue_types, doc="Venue type names, in index order.")
    population_size = property(lambda self: self._core.population_size, doc="Residents simulated.")

    def __repr__(self) -> str:
        return (f"<contactsim.Scenario {os.path.basename(str(self.path))}: {self.population_size} residents, "
                f"{len(self.wards)} wards, {len(self.groups)} groups, {self.start} to {self.end}>")


class Simulation:
    """One run of a scenario: the world is built on creation, then :meth:`step` or :meth:`run`.

    Parameters
    ----------
    scenario : Scenario or path
    seed, replicate : int, optional
        Override the scenario's ``[simulation]`` seed and replicate; together they key every
        random stream, so replicate *r* of two scenarios shares its random numbers (common
        random numbers).
    threads : int, optional
        Worker threads (0 = every core). Results do not depend on it.
    check_invariants : bool
        Check after every day that values stay in range, nobody attends two sessions at once,
        populations balance and budgets stay >= 0 (as ``contactsim run --check-invariants``); a
        violation raises ``contactsim._core.InvariantError`` (a ``RuntimeError``) naming the day,
        the invariant, the agent and the value. Always on in a ``CONTACTSIM_CHECKED`` build.
    spin_up_cache : path, optional
        A folder of spin-up states. The world is built, then ``simulation.spin_up_days`` are
        simulated unrecorded before the start (the model's own equilibrium); with a cache, a run
        that agrees with an earlier one on everything before its start (city, settings, seed,
        replicate) restores that spin-up instead, and a run that simulates one leaves it there.
        Results are the same either way. None (the default): every run simulates its own.
    """

    def __init__(self, scenario: Union[Scenario, PathLike], seed: Optional[int] = None,
                 threads: Optional[int] = None, replicate: Optional[int] = None, check_invariants: bool = False,
                 spin_up_cache: Optional[PathLike] = None):
        if isinstance(scenario, (str, os.PathLike)):
            scenario = Scenario.load(scenario)
        if not isinstance(scenario, Scenario):
            raise TypeError(f"Simulation: expected a Scenario or a scenario path, got {type(scenario).__name__}")
        seed = _check_optional_int(seed, "seed", 0, 2**63 - 1)  # the scenario's [simulation] seed range
        threads = _check_optional_int(threads, "threads", 0, 1024)
        replicate = _check_optional_int(replicate, "replicate", 0, 2**32 - 1)
        self.scenario = scenario
        if spin_up_cache is not None:
            spin_up_cache = _check_path(spin_up_cache, "spin_up_cache")
        self._core = _core.Simulation(scenario._core, seed=seed, threads=threads, replicate=replicate,
                                      check_invariants=bool(check_invariants), spin_up_cache=spin_up_cache)

    @classmethod
    def from_checkpoint(cls, scenario: Union[Scenario, PathLike], checkpoint: PathLike,
                        threads: Optional[int] = None) -> "Simulation":
        """Continue a run saved by :meth:`save_checkpoint` (or ``contactsim run --checkpoint-at``).

        `scenario` must be the checkpointed run's scenario up to the checkpoint's date; it may
        differ only in timeline items dated after it (a counterfactual branch) and in its end.
        Seed and replicate are the checkpoint's (they key every random stream, so a continuation
        cannot change them). Raises :class:`CheckpointError` (a ``ValueError``) naming what
        differs or is damaged.
        """
        if isinstance(scenario, (str, os.PathLike)):
            scenario = Scenario.load(scenario)
        if not isinstance(scenario, Scenario):
            raise TypeError(f"Simulation.from_checkpoint: expected a Scenario or a scenario path, got "
                            f"{type(scenario).__name__}")
        path = _check_path(checkpoint, "checkpoint")
        if not os.path.isfile(path):
            raise FileNotFoundError(2, "checkpoint not found", path)
        threads = _check_optional_int(threads, "threads", 0, 1024)
        import h5py

        try:
            with h5py.File(path, "r") as f:
                seed, replicate = int(f.attrs["seed"]), int(f.attrs["replicate"])
        except (OSError, KeyError):
            seed = replicate = None  # not a readable checkpoint: the core says precisely why
        self = cls.__new__(cls)
        self.scenario = scenario
        self._core = _core.Simulation.from_checkpoint(scenario._core, path, seed, replicate, threads)
        return self

    def save_checkpoint(self, path: PathLike, overwrite: bool = False) -> None:
        """Save the complete state after the last simulated day (written atomically).

        An existing `path` raises :class:`OutputError` and is left untouched unless
        ``overwrite=True`` (like ``contactsim run --force``); a path that is not a regular file
        (a directory, a device, a FIFO) is refused even then.
        """
        self._core.save_checkpoint(_check_path(path, "checkpoint"), bool(overwrite))

    # ------------------------------------------------------------------ running

    def record_to(self, output: PathLike, overwrite: bool = False) -> "Simulation":
        """Record every period to the HDF5 file `output` (before the first step).

        The file is written as ``<output>.partial`` and renamed to `output` by :meth:`close`
        once the run has finished (called by :meth:`run` at the end, by ``with``, or when the
        simulation is collected), so an existing `output` (with ``overwrite=True``) stays
        untouched until a complete run replaces it. An unfinished run, or a process killed
        meanwhile, leaves ``<output>.partial`` with every completed record (open it with
        :func:`open_results` or ``h5py.File(path, "r", swmr=True)``). An existing `output`
        without ``overwrite=True`` raises :class:`OutputError`, and so does an output another
        process (or Simulation) is writing.
        """
        self._core.record_to(_check_path(output, "output"), bool(overwrite))
        return self

    def step(self, days: int = 1) -> int:
        """Simulate up to `days` days (fewer at the end); returns how many were simulated."""
        days = _check_optional_int(days, "days", 0, 2**31 - 1)
        return self._core.step(days)

    def run(self, until: Optional[DateLike] = None, output: Optional[PathLike] = None, progress: bool = True,
            overwrite: bool = False) -> "Simulation":
        """Simulate to `until` (inclusive; default: the scenario's end).

        With `output` (given before the first step), every period is recorded to that HDF5
        file exactly as ``contactsim run SCENARIO -o OUTPUT [--until UNTIL]`` would write it, and
        the file is closed when the run ends. While recording, `until` ends the run: the period
        closing on it is the last record, as with the CLI's ``--until``. Without recording, a
        later ``run`` or ``step`` continues. `progress` shows a tqdm bar (a widget in notebooks).
        Ctrl-C stops between days, keeping every completed day and record.
        """
        target = None if until is None else _to_date(until, "until")
        if target is not None and not self.start <= target <= self.scenario.end:
            raise ValueError(f"until: expected a date between {self.start} and {self.scenario.end}, got {target}")
        if target is not None and target < self.date:
            raise ValueError(f"until: {target} is already simulated (the simulation has reached {self.date})")
        if output is not None:
            if target is not None:
                self._core.end_at(target.isoformat())
            self.record_to(output, overwrite)
        elif target is not None and self.output is not None:
            self._core.end_at(target.isoformat())
        last = min(target or self.end, self.end)
        remaining = (last - self.date).days
        bar = _progress_bar(remaining, self, progress)
        try:
            while remaining > 0:
                done = self._core.step(min(remaining, 7))
                if done == 0:
                    break
                remaining -= done
                if bar is not None:
                    bar.update(done)
                    bar.set_postfix_str(self.date.isoformat(), refresh=False)
        finally:
            if bar is not None:
                bar.close()
        if self._core.finished:
            self.close()
        return self

    def close(self) -> None:
        """Close the output file (if recording). A finished run's file is renamed from
        ``<output>.partial`` to its name, replacing an existing `output` (with ``overwrite=True``).
        An unfinished run (closed early, interrupted by Ctrl-C or an exception) never replaces
        `output`: its records stay in ``<output>.partial`` (``complete`` = 0; readable with
        :func:`open_results`), and a :class:`UserWarning` says so. The simulation itself stays
        usable."""
        output = self.output
        kept = self._core.close()
        if kept is not None:
            warnings.warn(f"the run stopped at {self.date}, before its end {self.end}: its records stay in {kept}; "
                          f"{output} was not written (only a finished run is published)", UserWarning, stacklevel=2)

    def __enter__(self) -> "Simulation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ where it is

    @property
    def date(self) -> _dt.date:
        """The last day simulated (the day before `start` until the first step)."""
        return self._core.date - _dt.timedelta(days=1)

    start = property(lambda self: self._core.start, doc="First simulated day.")
    end = property(lambda self: self._core.end, doc="Last day of the run.")
    finished = property(lambda self: self._core.finished, doc="Whether the last day has been simulated.")
    seed = property(lambda self: self._core.seed)
    replicate = property(lambda self: self._core.replicate)
    threads = property(lambda self: self._core.threads)
    checks_invariants = property(lambda self: self._core.checks_invariants,
                                 doc="Whether every day ends with the invariant checks.")
    output = property(lambda self: self._core.output, doc="The HDF5 file being recorded to, or None.")
    intergroup_encounters = property(lambda self: self._core.intergroup_encounters,
                                     doc="Intergroup encounters at venues so far.")

    # ------------------------------------------------------------------ state

    def agents(self, name: str) -> np.ndarray:
        """A read-only numpy view (no copy) of agent array `name` (see AGENT_ARRAYS).

        The view follows the simulation as it steps; copy it (``.copy()``) to keep a snapshot.
        """
        if name not in AGENT_ARRAYS:
            raise ValueError(f"no agent array {name!r}; expected one of: {', '.join(AGENT_ARRAYS)}")
        return self._core.view(name)

    group = property(lambda self: self.agents("group"), doc=AGENT_ARRAYS["group"])
    age_band = property(lambda self: self.agents("age_band"), doc=AGENT_ARRAYS["age_band"])
    ward = property(lambda self: self.agents("ward"), doc=AGENT_ARRAYS["ward"])
    block = property(lambda self: self.agents("block"), doc=AGENT_ARRAYS["block"])
    english = property(lambda self: self.agents("english"), doc=AGENT_ARRAYS["english"])
    anxiety = property(lambda self: self.agents("anxiety"), doc=AGENT_ARRAYS["anxiety"])
    warmth = property(lambda self: self.agents("warmth"), doc=AGENT_ARRAYS["warmth"])

    def matched_non_participants(self) -> np.ndarray:
        """For each resident who took part in a youth programme, a random non-participant of the
        same ward, group and age band (-1 otherwise, or where none exists): the comparison the
        NCS evaluations made."""
        return self._core.matched_non_participants()

    def summary(self):
        """The end-of-run summary per group so far, as a pandas DataFrame indexed by group."""
        import pandas as pd

        frame = pd.DataFrame(self._core.summary_rows())
        return frame.set_index("group")

    def __repr__(self) -> str:
        state = "finished" if self.finished else f"at {self.date}"
        return (f"<contactsim.Simulation {os.path.basename(str(self.scenario.path))} seed={self.seed} "
                f"replicate={self.replicate}: {state} of {self.start} to {self.end}>")


def _progress_bar(total: int, simulation: Simulation, enabled: bool):
    if not enabled or total <= 0:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress is a nicety, never a reason to fail
        return None
    return tqdm(total=total, unit="day", desc=os.path.basename(str(simulation.scenario.path)), leave=False)
