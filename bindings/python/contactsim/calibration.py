"""Calibration: fit scenario parameters to target patterns (DESIGN §9).

    import contactsim as cs
    from contactsim.calibration import calibrate

    small = cs.Scenario.load("scenarios/baseline.toml").override({"population.scale": 0.05})
    result = calibrate(small, {"mechanisms.valence.beta0": (0.4, 1.8)},
                       targets={"positive_negative_ratio": 3.0, "contact_prejudice_correlation": -0.2},
                       replicates=3, until="2020-12-31", max_evaluations=30)
    result.best          # {'mechanisms.valence.beta0': 1.17...}
    result.table()       # target, scale, initial and fitted statistics
    result.history       # every evaluation: parameters, statistics, loss
    result.plot()        # loss by evaluation, with the best so far

Each candidate is run for ``replicates`` replicates (replicate r = 0, 1, ...) of the same
``seed``: replicate r of every candidate shares its random streams (common random numbers),
so differences between candidates are differences of parameters, not of luck, and the
objective is close to smooth. The statistics of each run come from :func:`run_statistics`
and are averaged over the replicates; the loss is

    loss = Σ_s ((mean_s − target_s) / scale_s)²

minimised over the parameters rescaled to [0, 1] within their bounds.
"""
from __future__ import annotations

import datetime as _dt
import math
import numbers
import os
import time
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np

from .simulation import Scenario, Simulation

#: Statistics :func:`run_statistics` computes, with what they measure.
STATISTICS = {
    "positive_negative_ratio": "positive / negative intergroup contacts over the run, summed over groups "
                               "(summary() contacts_positive / contacts_negative; Graf et al. 2014: about 3)",
    "contact_prejudice_correlation": "Pearson r across all residents between intergroup contact "
                                     "(positive_memory + negative_memory) and prejudice (1 - mean outgroup "
                                     "warmth) at the end of the run (Pettigrew & Tropp 2006: about -0.2)",
    "mean_outgroup_warmth": "mean over residents of their mean warmth toward the other groups",
    "get_on_well_share": "share of residents whose mean outgroup warmth is at least "
                         "mechanisms.metrics.get_on_well_threshold (0.5 by default)",
}

#: Targets used when ``calibrate(targets=None)``: the two DESIGN §9 patterns.
DEFAULT_TARGETS = {"positive_negative_ratio": 3.0, "contact_prejudice_correlation": -0.2}

#: Default scale of each statistic's misfit: a deviation of one scale adds 1 to the loss. The
#: ratio's is half the 2.5–3.5 band the pattern test accepts; the others are a tenth of their range.
DEFAULT_SCALES = {
    "positive_negative_ratio": 0.5,
    "contact_prejudice_correlation": 0.1,
    "mean_outgroup_warmth": 0.05,
    "get_on_well_share": 0.05,
}

METHODS = ("Nelder-Mead", "Powell", "differential_evolution")


# ---------------------------------------------------------------------------- statistics

def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 2:
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    if sxx <= 0 or syy <= 0:
        return math.nan
    return float(dx @ dy) / math.sqrt(sxx * syy)


def mean_outgroup_warmth(simulation: Simulation) -> np.ndarray:
    """Each resident's mean warmth toward the groups other than their own (float64, length N)."""
    warmth = np.asarray(simulation.warmth, dtype=float)
    group = np.asarray(simulation.group, dtype=np.intp)
    groups = warmth.shape[1]
    if groups < 2:
        return np.full(warmth.shape[0], math.nan)
    own = warmth[np.arange(warmth.shape[0]), group]
    return (warmth.sum(axis=1) - own) / (groups - 1)


def run_statistics(simulation: Simulation) -> Dict[str, float]:
    """The calibration statistics of one simulation as it stands (normally after ``run``).

    Returns a dict with the keys of :data:`STATISTICS`:

    ``positive_negative_ratio``
        Σ contacts_positive / Σ contacts_negative of ``simulation.summary()`` (all groups, the
        whole run so far): the ratio the DESIGN §9 pattern test checks (≈ 3). ``nan`` without
        any intergroup contact, ``inf`` with positive but no negative contact.
    ``contact_prejudice_correlation``
        Pearson r across all residents between the amount of intergroup contact
        (``positive_memory + negative_memory``: decaying counts, so recent contact weighs more)
        and prejudice, ``1 − mean outgroup warmth``. The pattern test computes the same
        correlation with warmth (r ≈ +.2); this is its negative (Pettigrew & Tropp: r ≈ −.2).
        ``nan`` when either is constant.
    ``mean_outgroup_warmth``, ``get_on_well_share``
        The summary's per-group values weighted by residents: the city-wide mean of residents'
        mean outgroup warmth and the share at or above the get-on-well threshold.
    """
    if not isinstance(simulation, Simulation):
        raise TypeError(f"run_statistics: expected a contactsim.Simulation, got {type(simulation).__name__}")
    summary = simulation.summary()
    positive = float(summary["contacts_positive"].sum())
    negative = float(summary["contacts_negative"].sum())
    if negative > 0:
        ratio = positive / negative
    else:
        ratio = math.inf if positive > 0 else math.nan
    residents = summary["residents"].to_numpy(dtype=float)
    total = residents.sum()

    def weighted(column: str) -> float:
        if total <= 0:
            return math.nan
        return float((summary[column].to_numpy(dtype=float) * residents).sum() / total)

    contact = (np.asarray(simulation.agents("positive_memory"), dtype=float)
               + np.asarray(simulation.agents("negative_memory"), dtype=float))
    prejudice = 1.0 - mean_outgroup_warmth(simulation)
    return {
        "positive_negative_ratio": ratio,
        "contact_prejudice_correlation": _pearson(contact, prejudice),
        "mean_outgroup_warmth": weighted("mean_outgroup_warmth"),
        "get_on_well_share": weighted("get_on_well_share"),
    }


# ---------------------------------------------------------------------------- the result

class CalibrationResult:
    """What :func:`calibrate` found.

    Attributes
    ----------
    best : dict
        The parameters (dotted key → value) with the lowest loss of every evaluation.
    statistics : dict
        The statistics (every one of :data:`STATISTICS`, replicate means) at ``best``.
    loss : float
        The loss at ``best`` (the minimum of ``history["loss"]``).
    scenario : Scenario
        The calibrated scenario: the input scenario overridden with ``best``.
    converged : bool
        Whether the optimiser stopped on its own tolerances within ``max_evaluations``.
    message : str
        The optimiser's reason for stopping.
    history : pandas.DataFrame
        One row per distinct evaluation, in order (index ``evaluation``, 0 = the starting
        point): a column per parameter, a column per statistic (replicate means), ``loss``,
        ``best_loss`` (the lowest so far) and ``seconds``.
    replicate_history : pandas.DataFrame
        The statistics of every replicate run (columns ``evaluation``, ``replicate``, then one
        per statistic): the spread behind each mean.
    targets : dict
        statistic → (target, scale) as used in the loss.
    initial : dict
        The starting parameters (row 0 of ``history``).
    bounds : dict
        dotted key → (low, high).
    """

    def __init__(self, *, best, statistics, loss, scenario, converged, message, history, replicate_history,
                 targets, initial, bounds, method, replicates, seed, until):
        self.best = best
        self.statistics = statistics
        self.loss = loss
        self.scenario = scenario
        self.converged = converged
        self.message = message
        self.history = history
        self.replicate_history = replicate_history
        self.targets = targets
        self.initial = initial
        self.bounds = bounds
        self.method = method
        self.replicates = replicates
        self.seed = seed
        self.until = until

    @property
    def evaluations(self) -> int:
        """Distinct parameter sets evaluated (each one ``replicates`` runs)."""
        return len(self.history)

    @property
    def initial_loss(self) -> float:
        return float(self.history["loss"].iloc[0])

    def table(self):
        """Targets against the statistics at the start and at the best point, as a DataFrame
        indexed by statistic: ``target``, ``scale``, ``initial``, ``fitted`` and
        ``deviation`` = (fitted − target) / scale (its square is the statistic's share of the loss)."""
        import pandas as pd

        rows = []
        first = self.history.iloc[0]
        for name, (target, scale) in self.targets.items():
            fitted = self.statistics[name]
            rows.append({"statistic": name, "target": target, "scale": scale, "initial": float(first[name]),
                         "fitted": fitted, "deviation": (fitted - target) / scale})
        return pd.DataFrame(rows).set_index("statistic")

    def plot(self, ax=None):
        """Loss of every evaluation (points) and the best so far (step line); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 3.8))
        h = self.history
        evaluation = h.index.to_numpy()
        loss = h["loss"].to_numpy(dtype=float)
        shown = np.where(np.isfinite(loss), loss, np.nan)
        ax.plot(evaluation, shown, "o", color="0.55", markersize=4, label="evaluation")
        ax.step(evaluation, h["best_loss"].to_numpy(dtype=float), where="post", color="C0", linewidth=2,
                label="best so far")
        finite = shown[np.isfinite(shown)]
        if finite.size and finite.min() > 0 and finite.max() / finite.min() > 100:
            ax.set_yscale("log")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("evaluation")
        ax.set_ylabel("loss  Σ ((statistic − target) / scale)²")
        ax.set_title(f"Calibration ({self.method}): best loss {self.loss:.3g}")
        ax.legend(loc="upper right")
        return ax

    def __repr__(self) -> str:
        best = ", ".join(f"{key}={value:.4g}" for key, value in self.best.items())
        fit = ", ".join(f"{name} {self.statistics[name]:.3g} (target {target:g})"
                        for name, (target, _) in self.targets.items())
        state = "converged" if self.converged else "not converged"
        return (f"<CalibrationResult {state} after {self.evaluations} evaluations: loss {self.loss:.4g}; "
                f"{best}; {fit}>")


# ---------------------------------------------------------------------------- calibration

class _BudgetExhausted(Exception):
    """Raised inside the objective when max_evaluations distinct evaluations are done."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_parameters(parameters: Any) -> Dict[str, Tuple[float, float]]:
    if not isinstance(parameters, Mapping):
        raise TypeError(f"calibrate: parameters must be a dict of {{'dotted.key': (low, high)}}, got "
                        f"{type(parameters).__name__}")
    if not parameters:
        raise ValueError("calibrate: parameters is empty; give at least one {'dotted.key': (low, high)}")
    bounds = {}
    for key, value in parameters.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"calibrate: parameter keys must be dotted-key strings, got {key!r}")
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
            raise TypeError(f"calibrate: parameter {key}: expected bounds (low, high), got {value!r}")
        low, high = value
        if not (_is_number(low) and _is_number(high)):
            raise TypeError(f"calibrate: parameter {key}: bounds must be numbers, got {value!r}")
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"calibrate: parameter {key}: bounds must be finite, got ({low}, {high})")
        if low >= high:
            raise ValueError(f"calibrate: parameter {key}: lower bound {low:g} must be below the upper bound "
                             f"{high:g}")
        bounds[key] = (low, high)
    return bounds


def _check_targets(targets: Any) -> Dict[str, Tuple[float, float]]:
    if targets is None:
        targets = DEFAULT_TARGETS
    if not isinstance(targets, Mapping):
        raise TypeError(f"calibrate: targets must be a dict of {{statistic: target or (target, scale)}}, got "
                        f"{type(targets).__name__}")
    if not targets:
        raise ValueError("calibrate: targets is empty; known statistics: " + ", ".join(STATISTICS))
    unknown = [name for name in targets if name not in STATISTICS]
    if unknown:
        raise ValueError(f"calibrate: unknown statistic(s) {', '.join(map(repr, unknown))}; known statistics: "
                         + ", ".join(STATISTICS))
    checked = {}
    for name, value in targets.items():
        if _is_number(value):
            target, scale = float(value), DEFAULT_SCALES[name]
        elif not isinstance(value, (str, bytes)) and hasattr(value, "__len__") and len(value) == 2 \
                and _is_number(value[0]) and _is_number(value[1]):
            target, scale = float(value[0]), float(value[1])
        else:
            raise TypeError(f"calibrate: target {name}: expected a number or (target, scale), got {value!r}")
        if not math.isfinite(target):
            raise ValueError(f"calibrate: target {name}: expected a finite target, got {target}")
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"calibrate: target {name}: the scale must be a positive number, got {scale}")
        checked[name] = (target, scale)
    return checked


def _check_int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"calibrate: {what} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"calibrate: {what} must be at least {minimum}, got {value}")
    return value


def _check_x0(x0: Any, bounds: Dict[str, Tuple[float, float]]) -> Dict[str, float]:
    start = {key: 0.5 * (low + high) for key, (low, high) in bounds.items()}
    if x0 is None:
        return start
    if not isinstance(x0, Mapping):
        raise TypeError(f"calibrate: x0 must be a dict of {{'dotted.key': value}}, got {type(x0).__name__}")
    unknown = [key for key in x0 if key not in bounds]
    if unknown:
        raise ValueError(f"calibrate: x0 has key(s) {', '.join(map(repr, unknown))} that are not among the "
                         f"parameters ({', '.join(bounds)})")
    for key, value in x0.items():
        if not _is_number(value):
            raise TypeError(f"calibrate: x0 {key}: expected a number, got {value!r}")
        low, high = bounds[key]
        if not low <= float(value) <= high:
            raise ValueError(f"calibrate: x0 {key} = {value} lies outside its bounds ({low:g}, {high:g})")
        start[key] = float(value)
    return start


def calibrate(scenario, parameters: Mapping[str, Tuple[float, float]], targets: Optional[Mapping[str, Any]] = None,
              replicates: int = 3, seed: int = 1, until=None, threads: Optional[int] = None,
              method: str = "Nelder-Mead", max_evaluations: int = 40, x0: Optional[Mapping[str, float]] = None,
              progress: bool = False) -> CalibrationResult:
    """Fit scenario parameters so that the runs' statistics match targets.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario to calibrate (set ``population.scale`` etc. by ``override`` beforehand).
    parameters : dict
        Dotted key → (low, high) bounds, e.g. ``{"mechanisms.valence.beta0": (0.4, 1.8)}``; keys
        as for :meth:`Scenario.override` (a key the scenario does not have raises its
        :class:`ScenarioError`, naming the key, before anything runs).
    targets : dict, optional
        Statistic → target, or → (target, scale); statistics are those of :data:`STATISTICS`
        (computed per run by :func:`run_statistics`). Default :data:`DEFAULT_TARGETS`:
        positive:negative contact 3.0 and contact–prejudice correlation −0.2. A plain target
        uses the statistic's :data:`DEFAULT_SCALES`; a statistic's weight in the loss is 1/scale².
    replicates : int
        Runs per candidate: replicates 0 … replicates−1 of ``seed`` (common random numbers: every
        candidate sees the same random streams). The statistics are averaged over them.
    seed : int
        The simulation seed (replaces the scenario's ``[simulation]`` seed).
    until : date or 'YYYY-MM-DD', optional
        Last simulated day of each run (default: the scenario's end).
    threads : int, optional
        Worker threads per run (results do not depend on it).
    method : {"Nelder-Mead", "Powell", "differential_evolution"}
        scipy.optimize.minimize with bounds (Nelder-Mead, Powell), or
        scipy.optimize.differential_evolution (small population, no polishing; seeded by ``seed``).
    max_evaluations : int
        Budget of distinct parameter sets evaluated, the starting point included (repeated
        points are served from a cache and cost nothing). The search stops when it is spent.
    x0 : dict, optional
        Starting values (dotted key → value within its bounds); missing keys start at the
        middle of their bounds. For differential evolution, x0 joins the initial population.
    progress : bool
        Print one line per evaluation.

    Returns
    -------
    CalibrationResult
        ``best``, ``statistics``, ``loss``, ``scenario``, ``converged``, ``history``, ``table()``,
        ``plot()``.
    """
    from scipy import optimize  # noqa: F401  (both needed: fail before any run without them)
    import pandas as pd  # noqa: F401

    bounds = _check_parameters(parameters)
    checked_targets = _check_targets(targets)
    replicates = _check_int(replicates, "replicates", 1)
    seed = _check_int(seed, "seed", 0)
    max_evaluations = _check_int(max_evaluations, "max_evaluations", 1)
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"calibrate: unknown method {method!r}; expected one of: {', '.join(METHODS)}")
    scenario = _check_scenario(scenario)
    start = _check_x0(x0, bounds)
    if until is not None and not isinstance(until, (str, _dt.date, np.datetime64)):
        raise TypeError(f"calibrate: until must be a date or 'YYYY-MM-DD', got {type(until).__name__} {until!r}")
    # Every key must exist and accept both of its bounds: fail now, not after hours of runs.
    for key, (low, high) in bounds.items():
        scenario.override({key: low})
        scenario.override({key: high})

    box = _UnitBox(bounds)
    evaluations = _Evaluations(scenario, list(bounds), checked_targets, replicates, seed, until, threads,
                               max_evaluations, progress)
    unit0 = box.to_unit(start)
    converged = False
    message = ""
    try:
        evaluations.evaluate(box.to_values(unit0))          # row 0: the starting point, whatever the method
        found = _search(method, lambda unit: evaluations.evaluate(box.to_values(unit)), unit0, max_evaluations, seed)
        converged = bool(found.success)
        message = str(found.message)
    except _BudgetExhausted:
        message = f"stopped after max_evaluations = {max_evaluations} evaluations"
    return evaluations.result(converged=converged, message=message, initial=dict(start), bounds=bounds,
                              method=method)


def _check_scenario(scenario: Any) -> Scenario:
    if isinstance(scenario, (str, os.PathLike)):
        scenario = Scenario.load(scenario)
    if not isinstance(scenario, Scenario):
        raise TypeError(f"calibrate: expected a Scenario or a scenario path, got {type(scenario).__name__}")
    return scenario


class _UnitBox:
    """The parameters' bounds mapped to the unit cube the optimisers search."""

    def __init__(self, bounds: Dict[str, Tuple[float, float]]):
        self.keys = list(bounds)
        self.lows = np.array([bounds[key][0] for key in self.keys])
        self.widths = np.array([bounds[key][1] - bounds[key][0] for key in self.keys])

    def to_values(self, unit: np.ndarray) -> Dict[str, float]:
        unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        return {key: float(value) for key, value in zip(self.keys, self.lows + unit * self.widths)}

    def to_unit(self, values: Mapping[str, float]) -> np.ndarray:
        return np.array([(values[key] - self.lows[k]) / self.widths[k] for k, key in enumerate(self.keys)])


class _Evaluations:
    """The candidates run so far (each once: repeated points come from a cache), within the
    budget of max_evaluations, with a history row per candidate and per replicate."""

    def __init__(self, scenario, keys, targets, replicates, seed, until, threads, max_evaluations, progress):
        self.scenario, self.keys, self.targets = scenario, keys, targets
        self.replicates, self.seed, self.until, self.threads = replicates, seed, until, threads
        self.max_evaluations, self.progress = max_evaluations, progress
        self.cache: Dict[Tuple[float, ...], float] = {}
        self.rows = []
        self.replicate_rows = []
        self.best_loss = math.inf

    def loss_of(self, means: Mapping[str, float]) -> float:
        total = 0.0
        for name, (target, scale) in self.targets.items():
            value = means[name]
            if not math.isfinite(value):
                return math.inf
            total += ((value - target) / scale) ** 2
        return total

    def evaluate(self, values: Dict[str, float]) -> float:
        cache_key = tuple(round(values[key], 12) for key in self.keys)
        if cache_key in self.cache:
            return self.cache[cache_key]
        if len(self.rows) >= self.max_evaluations:
            raise _BudgetExhausted
        candidate = self.scenario.override(values)
        started = time.perf_counter()
        per_replicate = []
        for replicate in range(self.replicates):
            sim = Simulation(candidate, seed=self.seed, threads=self.threads, replicate=replicate)
            sim.run(until=self.until, progress=False)
            stats = run_statistics(sim)
            del sim
            per_replicate.append(stats)
            self.replicate_rows.append({"evaluation": len(self.rows), "replicate": replicate, **stats})
        means = {name: float(np.mean([s[name] for s in per_replicate])) for name in STATISTICS}
        loss = self.loss_of(means)
        self.best_loss = min(self.best_loss, loss)
        self.rows.append({**values, **means, "loss": loss, "best_loss": self.best_loss,
                          "seconds": time.perf_counter() - started})
        self.cache[cache_key] = loss
        if self.progress:
            shown = ", ".join(f"{key.rsplit('.', 1)[-1]}={value:.4g}" for key, value in values.items())
            fit = ", ".join(f"{name}={means[name]:.4g}" for name in self.targets)
            print(f"[{len(self.rows) - 1:3d}] {shown}: {fit}; loss {loss:.4g} (best {self.best_loss:.4g})",
                  flush=True)
        return loss

    def result(self, **search) -> CalibrationResult:
        import pandas as pd

        history = pd.DataFrame(self.rows)
        history.index.name = "evaluation"
        replicate_history = pd.DataFrame(self.replicate_rows)
        best_row = int(np.argmin(history["loss"].to_numpy(dtype=float)))
        best = {key: float(history[key].iloc[best_row]) for key in self.keys}
        statistics = {name: float(history[name].iloc[best_row]) for name in STATISTICS}
        return CalibrationResult(
            best=best, statistics=statistics, loss=float(history["loss"].iloc[best_row]),
            scenario=self.scenario.override(best), history=history, replicate_history=replicate_history,
            targets=self.targets, replicates=self.replicates, seed=self.seed, until=self.until, **search)


def _search(method: str, objective, unit0: np.ndarray, max_evaluations: int, seed: int):
    """Runs the optimiser over the unit cube from unit0; returns scipy's result."""
    from scipy import optimize

    dims = len(unit0)
    if method == "differential_evolution":
        popsize = 5 if dims > 1 else 6
        population = popsize * dims
        maxiter = max(1, max_evaluations // population - 1)
        return optimize.differential_evolution(
            objective, [(0.0, 1.0)] * dims, maxiter=maxiter, popsize=popsize, tol=1e-3, seed=seed,
            polish=False, init="latinhypercube", x0=unit0)
    if method == "Nelder-Mead":
        # A wide first simplex (a quarter of each range) explores instead of creeping.
        simplex = [unit0]
        for k in range(dims):
            vertex = unit0.copy()
            vertex[k] = vertex[k] + 0.25 if vertex[k] + 0.25 <= 1.0 else vertex[k] - 0.25
            simplex.append(vertex)
        return optimize.minimize(
            objective, unit0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * dims,
            options={"initial_simplex": np.array(simplex), "xatol": 2e-3, "fatol": 1e-4,
                     "maxfev": 10 * max_evaluations})
    return optimize.minimize(  # Powell
        objective, unit0, method="Powell", bounds=[(0.0, 1.0)] * dims,
        options={"xtol": 2e-3, "ftol": 1e-4, "maxfev": 10 * max_evaluations})


__all__ = ["calibrate", "run_statistics", "mean_outgroup_warmth", "CalibrationResult", "STATISTICS",
           "DEFAULT_TARGETS", "DEFAULT_SCALES", "METHODS"]
