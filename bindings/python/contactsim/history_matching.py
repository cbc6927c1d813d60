"""History matching with Gaussian-process emulators: calibration that keeps its uncertainty.

Rather than one best fit, history matching rules out the parameter vectors that cannot produce
the observed targets, wave by wave, and keeps the rest: the non-implausible region (Craig,
Goldstein, Seheult & Smith 1997; Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015). JUNE's
authors calibrated their model so (Vernon et al. 2022, Phil Trans R Soc A 380:20220039). Each wave

1. runs the model at a Latin hypercube of points inside the region not yet ruled out,
2. fits one Gaussian-process emulator per statistic to every run so far (scikit-learn),
3. scores many candidate points by their implausibility for each target z with tolerance σ:
   I = |E[f(x)] − z| / sqrt(Var_emulator(x) + σ²), and rules out those whose largest I exceeds
   the cutoff (3, Pukelsheim's three-sigma rule).

    from contactsim.history_matching import Target, history_match
    result = history_match(run, box={"mechanisms.norms.societal_weight": (0.2, 1.0), ...},
                           targets=[Target("ratio", 3.0, 0.25, "Graf et al. 2014"), ...])
    result.plausible          # run parameter vectors whose own statistics are not implausible
    result.best               # the one with the smallest largest implausibility
    result.waves              # per wave: runs, statistics, share of candidates still plausible

``run(parameters) -> {statistic: value}`` is any model run (``calibration_run`` in
``scripts``-style use drives the command-line tool); it is called from ``workers`` threads.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class Target:
    """An observed statistic: its value, its tolerance (observation error and model discrepancy
    together, one standard deviation) and where the value comes from."""
    statistic: str
    value: float
    sd: float
    source: str = ""


@dataclass
class Wave:
    points: np.ndarray                 # runs × parameters, in parameter units
    statistics: np.ndarray             # runs × targets
    plausible_share: float             # of the candidates scored after this wave
    emulator_sd: np.ndarray            # mean emulator sd per target over the candidates kept


@dataclass
class HistoryMatch:
    names: List[str]
    box: Dict[str, Tuple[float, float]]
    targets: List[Target]
    waves: List[Wave] = field(default_factory=list)
    cutoff: float = 3.0

    def runs(self) -> Tuple[np.ndarray, np.ndarray]:
        """Every run's parameters and statistics, all waves."""
        return (np.vstack([w.points for w in self.waves]), np.vstack([w.statistics for w in self.waves]))

    def implausibility_of_runs(self) -> np.ndarray:
        """Each run's largest implausibility from its own statistics (no emulator term)."""
        _, y = self.runs()
        z = np.array([t.value for t in self.targets])
        sd = np.array([t.sd for t in self.targets])
        return np.max(np.abs(y - z) / sd, axis=1)

    @property
    def plausible(self) -> List[Dict[str, float]]:
        """The runs whose statistics are all within `cutoff` tolerances of their targets, best first."""
        x, _ = self.runs()
        score = self.implausibility_of_runs()
        order = [i for i in np.argsort(score) if score[i] <= self.cutoff]
        return [dict(zip(self.names, map(float, x[i]))) for i in order]

    @property
    def best(self) -> Dict[str, float]:
        x, _ = self.runs()
        return dict(zip(self.names, map(float, x[int(np.argmin(self.implausibility_of_runs()))])))


def latin_hypercube(n: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points in [0, 1)^dims, one in each of n equal slices of every axis."""
    slices = (np.argsort(rng.random((dims, n)), axis=1).T + rng.random((n, dims))) / n
    return slices


def fit_emulators(x_unit: np.ndarray, y: np.ndarray):
    """One Gaussian process per statistic, on inputs scaled to the unit box: a constant times an
    anisotropic squared-exponential kernel (one length scale per parameter) plus a white-noise
    term for the model's own stochasticity (replicate noise)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    dims = x_unit.shape[1]
    emulators = []
    for k in range(y.shape[1]):
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(dims, 0.5), (0.05, 20.0)) + \
            WhiteKernel(1e-2, (1e-8, 1.0))
        gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=3, random_state=k)
        emulators.append(gp.fit(x_unit, y[:, k]))
    return emulators


def implausibility(emulators, x_unit: np.ndarray, targets: Sequence[Target]) -> Tuple[np.ndarray, np.ndarray]:
    """Largest implausibility over targets at each point, and each target's emulator sd."""
    worst = np.zeros(len(x_unit))
    sds = np.zeros((len(x_unit), len(targets)))
    for k, (gp, t) in enumerate(zip(emulators, targets)):
        mean, sd = gp.predict(x_unit, return_std=True)
        sds[:, k] = sd
        worst = np.maximum(worst, np.abs(mean - t.value) / np.sqrt(sd ** 2 + t.sd ** 2))
    return worst, sds


def history_match(run: Callable[[Dict[str, float]], Mapping[str, float]],
                  box: Mapping[str, Tuple[float, float]], targets: Sequence[Target], *,
                  waves: int = 3, runs_per_wave: int = 20, candidates: int = 20000, cutoff: float = 3.0,
                  seed: int = 1, workers: int = 2,
                  log: Optional[Callable[[str], None]] = print) -> HistoryMatch:
    names = list(box)
    lower = np.array([box[n][0] for n in names], dtype=float)
    upper = np.array([box[n][1] for n in names], dtype=float)
    if np.any(upper <= lower):
        raise ValueError("history_match: every box entry must be (low, high) with low < high")
    if not targets:
        raise ValueError("history_match: no targets")
    rng = np.random.default_rng(seed)
    result = HistoryMatch(names, {n: tuple(box[n]) for n in names}, list(targets), cutoff=cutoff)
    to_units = lambda u: lower + u * (upper - lower)  # noqa: E731
    design = latin_hypercube(runs_per_wave, len(names), rng)
    for wave in range(waves):
        points = to_units(design)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outputs = list(pool.map(lambda p: run(dict(zip(names, map(float, p)))), points))
        stats = np.array([[float(o[t.statistic]) for t in targets] for o in outputs])
        x_all = np.vstack([w.points for w in result.waves] + [points])
        y_all = np.vstack([w.statistics for w in result.waves] + [stats])
        emulators = fit_emulators((x_all - lower) / (upper - lower), y_all)
        pool_unit = rng.random((candidates, len(names)))
        worst, sds = implausibility(emulators, pool_unit, targets)
        keep = worst <= cutoff
        result.waves.append(Wave(points, stats, float(keep.mean()),
                                 sds[keep].mean(axis=0) if keep.any() else sds.mean(axis=0)))
        if log:
            log(f"wave {wave + 1}: {len(points)} runs, {keep.mean():.1%} of the box not implausible")
        if not keep.any() or wave == waves - 1:
            break
        # Next wave: a spread-out subset of the candidates still plausible (best first if few).
        kept = pool_unit[keep]
        if len(kept) <= runs_per_wave:
            design = kept
        else:
            design = kept[rng.choice(len(kept), runs_per_wave, replace=False)]
    return result
