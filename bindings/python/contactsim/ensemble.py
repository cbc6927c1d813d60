"""Ensembles from Python: run a spec, open every run as one xarray Dataset, compare scenarios.

The runner is the library's (the one ``contactsim ensemble`` and ``mpirun`` use); Python only
spreads its shares over processes. A spec is described in the README ("Ensembles").
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Optional, Sequence, Union

import h5py
import numpy as np

from . import _core
from .results import _decode, open_results
from .simulation import _check_path as _path

PathLike = Union[str, "os.PathLike[str]"]


def describe_ensemble(spec: PathLike) -> dict:
    """The spec as validated: scenarios, sweep parameters and points, and every planned run.

    Given an ensemble's master file (``ensemble.h5``), describes the spec it was run from (the
    file its ``spec_path`` names), provided that spec still plans the runs the master lists.
    A run that branches names the run whose state it continues (``branches_from``) and the last
    day their histories agree (``branch_day``, ISO); both are None for a run from its first day.
    """
    spec = _path(spec, "spec")
    if not os.path.isfile(spec):
        raise FileNotFoundError(2, "ensemble spec not found", spec)
    if h5py.is_hdf5(spec):
        return _describe_master(spec)
    return _core.describe_ensemble(spec)


def _describe_master(master: str) -> dict:
    with h5py.File(master, "r") as f:
        if not str(_decode(f.attrs.get("format", ""))).startswith("contactsim-ensemble-"):
            raise ValueError(f"{master}: an HDF5 file but not an ensemble master file (expected an ensemble spec "
                             "(.toml) or an ensemble.h5 written by `contactsim ensemble`)")
        path = str(_decode(f.attrs["spec_path"]))
        ran = _table(f, "runs")["name"]
    if not os.path.isfile(path):
        raise FileNotFoundError(2, f"{master} was run from this spec, which is no longer there", path)
    described = _core.describe_ensemble(path)
    if [run["name"] for run in described["runs"]] != ran:
        raise ValueError(f"{master}: its spec {path} no longer plans the runs the master lists (it has changed "
                         "since the ensemble ran); use open_ensemble() on the master for what was run")
    return described


def _run_share(args) -> int:
    spec, out, rank, size, threads, spin_up_cache = args
    return _core.run_ensemble_share(spec, out, rank, size, threads, spin_up_cache)


def run_ensemble(spec: PathLike, output: PathLike, processes: int = 1, threads: Optional[int] = None,
                 spin_up_cache: Optional[PathLike] = None) -> str:
    """Run every run of `spec` into the folder `output` and write its master file.

    Runs already complete in `output` are skipped (an interrupted ensemble resumes); a folder
    holding a different ensemble is refused. `processes` runs are simulated at once, each with
    `threads` worker threads (default: the spec's); a counterfactual continues its baseline's
    state from the day before they differ (branching), in the same process. Returns the master
    file's path. Warns (:class:`contactsim.EffectWarning`) about a counterfactual that cannot
    differ from the baseline: the same scenario, or items that all fall after the runs' end.

    Each replicate's spin-up is simulated once and kept in `spin_up_cache`, a folder other runs
    and ensembles of the same city reuse (as the CLI's default cache does), or, when None, in
    ``output/spin-up``, this ensemble's own. The results are the same bytes either way.
    """
    spec = _path(spec, "spec")
    output = _path(output, "output")
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes: expected an integer >= 1, got {processes!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 0):
        raise ValueError(f"threads: expected an integer >= 0, got {threads!r}")
    if spin_up_cache is not None:
        spin_up_cache = _path(spin_up_cache, "spin_up_cache")
    describe_ensemble(spec)  # validate before anything is written
    # Held to the end: a second ensemble into this folder is refused at once (OutputError).
    with _core.OutputLock(output):
        _core.prepare_ensemble_folder(spec, output)
        shares = [(spec, output, rank, processes, threads, spin_up_cache) for rank in range(processes)]
        if processes == 1:
            _run_share(shares[0])
        else:
            # Several processes' OpenMP threads share the cores: waiting threads should sleep, not
            # spin (measured: 3× faster for small cities when oversubscribed, no loss for the full
            # city). Set before the workers start; a value the user chose is kept.
            previous = os.environ.get("OMP_WAIT_POLICY")
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                # Fresh interpreters: the compiled core holds OpenMP and HDF5 state that must not be forked.
                with multiprocessing.get_context("spawn").Pool(processes) as pool:
                    pool.map(_run_share, shares)
            finally:
                if previous is None:
                    os.environ.pop("OMP_WAIT_POLICY", None)
        _core.write_ensemble_master(spec, output)
    master = os.path.join(output, "ensemble.h5")
    from .effects import warn_if_counterfactuals_cannot_differ  # effects builds on this module

    warn_if_counterfactuals_cannot_differ(master)
    return master


def _master_path(path: PathLike) -> str:
    path = _path(path, "ensemble")
    if os.path.isdir(path):
        path = os.path.join(path, "ensemble.h5")
    if not os.path.isfile(path):
        raise FileNotFoundError(2, "ensemble master file not found", path)
    return path


def _table(f: h5py.File, name: str) -> dict:
    data = f[name][()]
    return {field: [_decode(v) for v in data[field]] for field in data.dtype.names}


def open_ensemble(path: PathLike):
    """Every run of an ensemble as one ``xarray.Dataset`` with run dimensions.

    Dimensions: ``scenario``, ``point`` (sweep point; swept parameters are coordinates on it)
    and ``replicate`` (coordinate ``parameter_set``: the index of the replicate's parameter set,
    -1 without ``parameter_sets``), then each series' own (``time``, ``ward``, ``group``, ...).
    Provenance of the ensemble (spec text, parameter-set file, seed, ...) is in ``attrs``.
    """
    import xarray as xr

    master = _master_path(path)
    folder = os.path.dirname(os.path.abspath(master))
    with h5py.File(master, "r") as f:
        if not str(_decode(f.attrs.get("format", ""))).startswith("contactsim-ensemble-"):
            raise ValueError(f"{master}: not a contactsim ensemble master file (expected format contactsim-ensemble-N)")
        attrs = {k: _decode(v) for k, v in f.attrs.items()}
        runs = _table(f, "runs")
        design = _table(f, "design")
        scenarios = _table(f, "scenarios")["name"]
    points = sorted(set(runs["point"]))
    replicates = sorted(set(runs["replicate"]))
    by_key = {(s, p, r): file for s, p, r, file in zip(runs["scenario"], runs["point"], runs["replicate"], runs["file"])}
    stacked = []
    for scenario in scenarios:
        per_point = []
        for point in points:
            per_replicate = [open_results(os.path.join(folder, by_key[(scenario, point, r)])) for r in replicates]
            per_point.append(xr.concat(per_replicate, dim="replicate", combine_attrs="drop"))
        stacked.append(xr.concat(per_point, dim="point", combine_attrs="drop"))
    ds = xr.concat(stacked, dim="scenario", combine_attrs="drop")
    ds = ds.assign_coords(scenario=scenarios, point=points, replicate=replicates)
    if "parameter_set" in runs:  # master files written before parameter sets lack the column
        set_of = dict(zip(runs["replicate"], runs["parameter_set"]))
        ds = ds.assign_coords(parameter_set=("replicate", np.asarray([set_of[r] for r in replicates], dtype=np.int64)))
    for name, values in design.items():
        if name != "point":
            ds = ds.assign_coords({name: ("point", np.asarray(values, dtype=float))})
    ds.attrs = attrs
    return ds


def compare(path: PathLike, metrics: Optional[Sequence[str]] = None, confidence: float = 0.95):
    """Paired differences of every scenario against the baseline, as a pandas DataFrame.

    One row per scenario, sweep point, metric, ward and group (``"all"`` rows combine wards or
    groups): baseline and scenario means over replicates, their difference and its
    `confidence` interval — paired when the ensemble used common random numbers, Welch's
    otherwise (column ``method``), with each sweep point's parameter values as columns. The same
    numbers as ``contactsim compare``, plus the flags
    ``after_end``, ``same_settings`` and ``no_difference`` of :func:`contactsim.effects`, which
    warns the same way (:class:`contactsim.EffectWarning`) when a scenario cannot differ.
    """
    import pandas as pd

    master = _master_path(path)
    if metrics is not None and (isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics)):
        raise TypeError("metrics: expected a list of metric names")
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    from .effects import flag_comparison  # effects builds on this module

    rows = _core.compare_ensemble(master, list(metrics or []), float(confidence))
    return _with_design(master, flag_comparison(master, pd.DataFrame(rows)))


def _with_design(master: str, rows):
    """Each sweep point's parameter values as columns after `point`, so no join by hand."""
    with h5py.File(master, "r") as f:
        design = _table(f, "design") if "design" in f else {"point": []}
    parameters = [name for name in design if name != "point"]
    if rows.empty or not parameters:
        return rows
    by_point = {point: k for k, point in enumerate(design["point"])}
    at = list(rows.columns).index("point") + 1
    for offset, name in enumerate(parameters):
        rows.insert(at + offset, name, [float(design[name][by_point[p]]) for p in rows["point"]])
    return rows
