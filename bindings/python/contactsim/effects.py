"""Paired effects of an ensemble's counterfactuals over time, ward by ward: :func:`effects`.

`compare` answers "how different is the end of the run?"; a policy analyst asks "what did the
cut do from the day it started, where, and is that more than noise?". So an effect here is the
paired difference (counterfactual − baseline of the same replicate, which shares its random
numbers) at every record from the first day the two scenarios differ, with its interval, the
spread over replicates and the baseline's own change over the same window, in per-resident
units and scaled up to real residents.

Nothing is allowed to come out as a silent zero: a counterfactual whose items all fall after
the run's end, or whose results never differ from the baseline's, or that changes fewer than
a handful of venues in a ward, is warned about (``warnings.warn``, class
:class:`EffectWarning`) and flagged in the table.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tomllib
import warnings
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from .ensemble import _master_path, open_ensemble
from .results import _decode, _strings, record_dates

__all__ = ["effects", "EffectWarning", "EFFECT_METRICS", "WINDOWS", "FEW_VENUES", "FEW_RESIDENTS"]

PathLike = Union[str, "os.PathLike[str]"]

WINDOWS = ("after_first_difference", "end", "whole")
BY_DIMS = ("ward", "group")
ALL = "all"
# Below these, an interval describes the luck of a handful of venues or people, not a policy:
# a 40% cut of one centre is no cut at all at a small scale (funding runs in whole sessions).
FEW_VENUES = 3
FEW_RESIDENTS = 30
FLAG_COLUMNS = ("after_end", "same_settings", "no_difference", "few_venues", "few_residents")


@dataclass(frozen=True)
class Metric:
    series: str
    kind: str         # "mean" (a level), "share" (of residents) or "count" (encounters in a period)
    units: str


# The metrics of `contactsim compare`, under the same names.
EFFECT_METRICS = {
    "outgroup_warmth": Metric("mean_warmth", "mean", "thermometer/100"),
    "get_on_well_share": Metric("get_on_well_share", "share", "share of residents"),
    "mean_anxiety": Metric("mean_anxiety", "mean", "0-1"),
    "perceived_cohesion": Metric("perceived_cohesion", "share", "share of residents"),
    "no_intergroup_contact_share": Metric("no_intergroup_contact_share", "share", "share of residents"),
    "cross_group_friendship_share": Metric("cross_group_friendship_share", "share", "share of residents"),
    "contacts_positive": Metric("contacts_positive", "count", "encounters per resident"),
    "contacts_negative": Metric("contacts_negative", "count", "encounters per resident"),
}
REAL_UNITS = {"share": "real residents", "count": "encounters (real residents)", "mean": ""}


class EffectWarning(UserWarning):
    """An effect that cannot mean what it seems to (no difference possible, too few venues...)."""


# ----------------------------------------------------------------------------- what differs

@dataclass
class Contrast:
    """What a counterfactual changes relative to the baseline, read from the runs' scenarios."""
    first_difference: Optional[dt.date]   # None: the two scenarios are the same
    items: list = field(default_factory=list)  # timeline items only one of them has
    settings_differ: bool = False              # something outside the timeline differs


def _item_date(item: dict) -> Optional[dt.date]:
    for key in ("date", "start"):
        value = item.get(key)
        if isinstance(value, dt.date):
            return value
    return None


def _without_run_keys(doc: dict) -> dict:
    """The scenario minus what may differ between paired runs without changing the city."""
    doc = {k: v for k, v in doc.items() if k not in ("timeline", "title", "description")}
    simulation = {k: v for k, v in doc.get("simulation", {}).items() if k not in ("seed", "end", "threads")}
    return {**doc, "simulation": simulation}


def contrast(baseline_text: str, counterfactual_text: str) -> Contrast:
    """The first day a counterfactual's scenario differs from the baseline's, and why."""
    base, other = tomllib.loads(baseline_text), tomllib.loads(counterfactual_text)
    start = base.get("simulation", {}).get("start")
    settings_differ = _without_run_keys(base) != _without_run_keys(other)
    base_items, other_items = base.get("timeline", []), other.get("timeline", [])
    items = [i for i in other_items if i not in base_items] + [i for i in base_items if i not in other_items]
    dates = [d for d in (_item_date(i) for i in items) if d is not None]
    if settings_differ:
        first = start
    elif dates:
        first = min(dates)
    else:
        first = None
    return Contrast(first, items, settings_differ)


# ----------------------------------------------------------------------------- reading

@dataclass
class EnsembleFacts:
    baseline: str
    paired: bool
    scale: float
    start: dt.date
    last: dt.date          # the runs' last record
    texts: dict            # (scenario, point) -> scenario text of its first replicate
    venues: pd.DataFrame   # the baseline's /venues table


def _run_table(f: h5py.File) -> pd.DataFrame:
    rows = f["runs"][()]
    return pd.DataFrame({name: _strings(rows[name]) if rows[name].dtype.kind in "OSU" else rows[name]
                         for name in rows.dtype.names})


def _read_facts(master: str) -> EnsembleFacts:
    folder = os.path.dirname(os.path.abspath(master))
    with h5py.File(master, "r") as f:
        baseline = str(_decode(f.attrs["baseline"]))
        paired = int(_decode(f.attrs["common_random_numbers"])) != 0
        runs = _run_table(f)
    first = runs.sort_values("replicate").groupby(["scenario", "point"], sort=False).first()
    texts, scale, start, last, venues = {}, None, None, None, None
    for (scenario, point), row in first.iterrows():
        path = os.path.join(folder, row["file"])
        with h5py.File(path, "r") as run:
            texts[(scenario, int(point))] = str(_decode(run.attrs["scenario_text"]))
            if scenario == baseline and venues is None:
                scale = float(_decode(run.attrs["population_scale"]))
                start = dt.date.fromisoformat(str(_decode(run.attrs["start_date"])))
                last = dt.date.fromisoformat(str(record_dates(run["series/time"])[-1]))
                table = run["venues"][()]
                venues = pd.DataFrame({column: _strings(table[column]) for column in ("name", "type", "ward")})
    if venues is None:
        raise ValueError(f"{master}: no run of the baseline scenario {baseline!r} in /runs")
    return EnsembleFacts(baseline, paired, scale, start, last, texts, venues)


# ----------------------------------------------------------------------------- per-cell values

def _metric_values(ds: xr.Dataset, metric: Metric) -> xr.DataArray:
    """The metric per (scenario, point, replicate, time, ward, group) as floats."""
    da = ds[metric.series].astype(np.float64)
    if metric.series == "mean_warmth":  # outgroup warmth: the mean over the other groups
        da = da.where(da["target_group"] != da["group"]).mean("target_group")
    extra = [d for d in da.dims if d not in ("scenario", "point", "replicate", "time", "ward", "group")]
    return da.sum(extra) if extra else da


def _cells(da: xr.DataArray, by: tuple) -> xr.DataArray:
    """Sums over each ward and group plus an "all" margin; a dimension not in `by` keeps only "all"."""
    # Labels only: codes and display labels have no value for the "all" margin.
    da = da.drop_vars([name for name in da.coords if name not in da.dims])
    for dim in BY_DIMS:
        total = da.sum(dim).expand_dims({dim: [ALL]})
        da = xr.concat([da, total], dim=dim) if dim in by else total
    return da


def _period_days(times: np.ndarray, start: dt.date) -> np.ndarray:
    """Days in each recording period: from the day after the previous record (the start for the first)."""
    ends = times.astype("datetime64[D]")
    previous = np.concatenate([[np.datetime64(start, "D") - np.timedelta64(1, "D")], ends[:-1]])
    return (ends - previous).astype(np.int64).astype(np.float64)


@dataclass
class Window:
    first: int        # first record of the window (its period holds the first difference day)
    rows: np.ndarray  # the records reported
    reference: int    # the record the baseline's change is measured from


def _window(name: str, times: np.ndarray, first_difference: Optional[dt.date]) -> Window:
    last = len(times) - 1
    if name == "whole" or first_difference is None:
        first = 0
    else:
        later = np.nonzero(times.astype("datetime64[D]") >= np.datetime64(first_difference, "D"))[0]
        first = int(later[0]) if later.size else 0
    rows = np.array([last]) if name == "end" else np.arange(first, last + 1)
    return Window(first, rows, max(first - 1, 0))


def _per_resident(values: xr.DataArray, population: xr.DataArray, metric: Metric, window: Window, by: tuple):
    """(numerator, residents) per cell at each reported record: numerator / residents is the
    metric per resident; numerator / scale is it in real residents (shares and counts)."""
    if metric.kind == "count":
        counts = values.isel(time=slice(window.first, None)).cumsum("time")
        numerator = counts.isel(time=window.rows - window.first)
        residents = population.isel(time=window.rows)
    else:
        valid = np.isfinite(values) & (population > 0)
        numerator = (values * population).where(valid, 0.0).isel(time=window.rows)
        residents = population.where(valid, 0.0).isel(time=window.rows)
    return _cells(numerator, by), _cells(residents, by)


def _baseline_change(values: xr.DataArray, population: xr.DataArray, metric: Metric, window: Window,
                     days: np.ndarray, by: tuple) -> xr.DataArray:
    """How far the baseline itself moved over the window, in the effect's units (mean over replicates).

    Levels: the value at each record minus the value at the record before the window. Counts:
    the encounters per resident since the window opened minus what the pace of the record before
    it would have given over as many days."""
    ref = window.reference
    if metric.kind == "count":
        numerator, residents = _per_resident(values, population, metric, window, by)
        reference = _cells(values.isel(time=ref), by) / _cells(population.isel(time=ref), by) / days[ref]
        elapsed = np.cumsum(days[window.first:])[window.rows - window.first]
        change = numerator / residents - reference * xr.DataArray(elapsed, dims="time")
    else:
        valid = np.isfinite(values) & (population > 0)
        level = _cells((values * population).where(valid, 0.0), by) / _cells(population.where(valid, 0.0), by)
        change = level.isel(time=window.rows) - level.isel(time=ref)
    return change.mean("replicate")


# ----------------------------------------------------------------------------- intervals

def _t_quantile(confidence: float, df):
    from scipy import stats

    return stats.t.ppf(0.5 + confidence / 2, df)


def _interval(a: xr.DataArray, b: xr.DataArray, paired: bool, confidence: float) -> dict:
    """Mean difference a − b over replicates, its t-interval (paired, else Welch's) and SD."""
    n = a.sizes["replicate"]
    if paired:
        d = a - b
        mean = d.mean("replicate")
        sd = d.std("replicate", ddof=1) if n > 1 else xr.full_like(mean, np.nan)
        half = _t_quantile(confidence, n - 1) * sd / np.sqrt(n) if n > 1 else sd
    else:
        mean = a.mean("replicate") - b.mean("replicate")
        va, vb = (x.var("replicate", ddof=1) / n if n > 1 else xr.full_like(mean, np.nan) for x in (a, b))
        se2 = va + vb
        df = se2 ** 2 / ((va ** 2 + vb ** 2) / (n - 1)) if n > 1 else se2
        sd = np.sqrt(se2 * n)
        half = xr.where(se2 > 0, xr.apply_ufunc(lambda d: _t_quantile(confidence, d), df) * np.sqrt(se2), 0.0)
    return {"difference": mean, "ci_low": mean - half, "ci_high": mean + half, "sd": sd}


# ----------------------------------------------------------------------------- flags

def _changed_venue_types(items: list) -> dict:
    """venue type -> wards it is changed in (None = every ward), from the differing items."""
    changed: dict = {}
    for item in items:
        types = item.get("venue_types") or ([item["venue_type"]] if "venue_type" in item else [])
        for venue_type in types:
            ward = item.get("ward")
            known = changed.get(venue_type, set())
            changed[venue_type] = None if ward is None or known is None else known | {ward}
    return changed


def _wards_of_named_venues(venues: pd.DataFrame, items: list) -> set:
    """Wards of the venues items select by name (`venue = "..."`): one venue is always few."""
    names = {item["venue"] for item in items if "venue" in item}
    return set(venues.loc[venues["name"].isin(names), "ward"])


def _few_venues(venues: pd.DataFrame, items: list, wards: Sequence[str]) -> dict:
    """ward (or "all") -> True when it holds fewer than FEW_VENUES of a venue type the items change."""
    changed = _changed_venue_types(items)
    named = _wards_of_named_venues(venues, items)
    flags = {}
    for ward in wards:
        few = ward in named
        for venue_type, where in changed.items():
            if ward != ALL and where is not None and ward not in where:
                continue
            of_type = venues[venues["type"] == venue_type]
            count = len(of_type) if ward == ALL else int((of_type["ward"] == ward).sum())
            few = few or count < FEW_VENUES
        flags[ward] = few
    return flags


def _warn(message: str) -> None:
    """Warn at the user's line that called into contactsim, not at a helper of this package."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == package:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, EffectWarning, stacklevel=level)


# ----------------------------------------------------------------------------- the table

def _check_arguments(metrics, window, by, confidence) -> tuple[list, tuple]:
    if window not in WINDOWS:
        raise ValueError(f"window: expected one of {', '.join(WINDOWS)}; got {window!r}")
    by = (by,) if isinstance(by, str) else tuple(by or ())
    unknown = [d for d in by if d not in BY_DIMS]
    if unknown:
        raise ValueError(f"by: expected a subset of {BY_DIMS}; got {by!r}")
    if metrics is None:
        metrics = list(EFFECT_METRICS)
    elif isinstance(metrics, str):
        metrics = [metrics]
    bad = [m for m in metrics if m not in EFFECT_METRICS]
    if bad:
        raise ValueError(f"unknown metric {', '.join(map(repr, bad))}; expected one of: {', '.join(EFFECT_METRICS)}")
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence: expected a number in (0, 1), got {confidence!r}")
    return list(metrics), by


def _real_columns(base_num, cf_num, metric: Metric, facts: EnsembleFacts, confidence: float, like) -> dict:
    """The effect in real residents (shares) or real encounters (counts): simulated totals ÷ scale.
    Levels such as warmth do not scale: NaN."""
    if metric.kind == "mean":
        nan = xr.full_like(like, np.nan)
        real = {"difference": nan, "ci_low": nan, "ci_high": nan}
    else:
        real = _interval(cf_num / facts.scale, base_num / facts.scale, facts.paired, confidence)
    return {"difference_real": real["difference"], "real_ci_low": real["ci_low"], "real_ci_high": real["ci_high"]}


def _baseline_columns(base_level: xr.DataArray, like: xr.DataArray) -> dict:
    """The baseline's own level and replicate spread, to read an effect against."""
    replicates = base_level.sizes["replicate"]
    spread = base_level.std("replicate", ddof=1) if replicates > 1 else xr.full_like(like, np.nan)
    return {"n": xr.full_like(like, replicates, dtype=np.int64), "baseline_level": base_level.mean("replicate"),
            "baseline_sd": spread}


def _scenario_effects(values, population, metric_name, metric, window, days, facts, by, confidence,
                      scaled) -> pd.DataFrame:
    """Rows of one metric for one counterfactual at one sweep point."""
    base_v, cf_v = values
    base_p, cf_p = population
    base_num, base_res = _per_resident(base_v, base_p, metric, window, by)
    cf_num, cf_res = _per_resident(cf_v, cf_p, metric, window, by)
    base_level, cf_level = base_num / base_res, cf_num / cf_res
    columns = _interval(cf_level, base_level, facts.paired, confidence)
    like = columns["difference"]
    columns.update(_baseline_columns(base_level, like))
    columns["baseline_change"] = _baseline_change(base_v, base_p, metric, window, days, by)
    columns["residents"] = _cells(base_p.isel(time=window.rows), by).mean("replicate")
    if scaled:
        columns.update(_real_columns(base_num, cf_num, metric, facts, confidence, like))
    # A cell whose every replicate and record is exactly the baseline's: say so rather than
    # report a confident zero.
    identical = (cf_level == base_level) | ((cf_res == 0) & (base_res == 0))
    columns["no_difference"] = identical.all(["replicate", "time"]).broadcast_like(like)
    frame = xr.Dataset(columns).to_dataframe().reset_index()
    frame.insert(0, "metric", metric_name)
    frame["units"] = metric.units
    if scaled:
        frame["real_units"] = REAL_UNITS[metric.kind]
    frame["method"] = "paired" if facts.paired else "welch"
    frame["window_start"] = pd.Timestamp(base_v["time"].values[window.first])
    return frame


def effects(master: PathLike, metrics: Optional[Sequence[str]] = None, window: str = "after_first_difference",
            by: Union[str, Sequence[str]] = ("ward", "group"), scaled: bool = True,
            confidence: float = 0.95) -> pd.DataFrame:
    """Paired effects of every counterfactual over time, per metric, ward and group, as a tidy table.

    Parameters
    ----------
    master : path
        An ensemble's ``ensemble.h5`` (or its folder).
    metrics : list of str, optional
        Names from :data:`EFFECT_METRICS` (the metrics of ``contactsim compare``); default all
        that every run records.
    window : {"after_first_difference", "end", "whole"}
        ``"after_first_difference"`` (default): one row per record from the record whose period
        holds the first day the counterfactual differs from the baseline (its earliest timeline
        item that the baseline lacks, or the start when settings differ); counts are summed
        from that record on. ``"end"``: the same window, only its last record. ``"whole"``:
        every record, counts summed from the start.
    by : "ward", "group", both (default) or ()
        Dimensions reported separately; the others are pooled. "all" rows (ward, group and
        city) are always included.
    scaled : bool, default True
        Add ``difference_real``, ``real_ci_low``, ``real_ci_high``: shares as numbers of real
        residents and counts as real encounters (divided by ``population.scale``); NaN for
        levels such as warmth, which do not scale.
    confidence : float, default 0.95
        Interval coverage.

    Returns
    -------
    pandas.DataFrame
        One row per scenario, point, metric, ward, group and time: ``difference`` (mean over
        replicates of counterfactual − baseline, per resident), ``ci_low``/``ci_high`` (a
        t-interval, paired with common random numbers, else Welch's: column ``method``),
        ``sd`` (replicate SD of the paired difference), ``n``, ``baseline_level``,
        ``baseline_sd``, ``baseline_change`` (the baseline's own change over the same window, in
        the same units), ``residents`` (baseline, simulated), ``units``, ``window_start``, the
        sweep's parameter values, and flags: ``after_end`` (every item the counterfactual
        changes falls after the run's last record), ``same_settings`` (its scenario equals the
        baseline's), ``no_difference`` (this cell never differs), ``few_venues`` (fewer than
        :data:`FEW_VENUES` of the venues it changes in the ward), ``few_residents`` (fewer than
        :data:`FEW_RESIDENTS` simulated residents in the cell), ``flagged`` (any of them).
        Scenario-level problems also raise :class:`EffectWarning`.
    """
    metrics_given = metrics is not None
    metrics, by = _check_arguments(metrics, window, by, confidence)
    path = _master_path(master)
    facts = _read_facts(path)
    ds = open_ensemble(path)
    metrics = _recorded(metrics, ds, path, chosen=metrics_given)
    times = ds["time"].values
    days = _period_days(times, facts.start)
    design = [name for name, coord in ds.coords.items() if coord.dims == ("point",) and name != "point"]
    frames = []
    for scenario in [str(s) for s in ds["scenario"].values if str(s) != facts.baseline]:
        for point in [int(p) for p in ds["point"].values]:
            with np.errstate(divide="ignore", invalid="ignore"):  # empty cells give NaN, by design
                frames.append(_counterfactual_frame(ds, facts, scenario, point, metrics, window, by, times, days,
                                                    confidence, scaled, design, path))
    if not frames:
        raise ValueError(f"{path}: the ensemble has no counterfactual to compare with its baseline")
    frame = pd.concat(frames, ignore_index=True)
    frame["flagged"] = frame[list(FLAG_COLUMNS)].any(axis=1)
    frame = frame[_column_order(frame)]
    if frame["few_residents"].any():
        cells = frame.loc[frame["few_residents"], ["ward", "group"]].drop_duplicates()
        _warn(f"{path}: {len(cells)} ward × group cells have fewer than {FEW_RESIDENTS} simulated residents; "
              f"their intervals say little (column few_residents; raise population.scale or pool with by=)")
    return frame


def _column_order(frame: pd.DataFrame) -> list:
    """Identifiers, then the effect, then the baseline for context, then the flags."""
    first = ["scenario", "point"]
    middle = ["metric", "ward", "group", "time", "window_start", "difference", "ci_low", "ci_high", "sd", "n",
              "units", "baseline_level", "baseline_sd", "baseline_change", "residents", "difference_real",
              "real_ci_low", "real_ci_high", "real_units", "method"]
    last = list(FLAG_COLUMNS) + ["flagged"]
    design = [c for c in frame.columns if c not in first + middle + last]
    return first + design + [c for c in middle if c in frame.columns] + last


def _recorded(metrics: list, ds: xr.Dataset, path: str, chosen: bool) -> list:
    """The metrics whose series the runs hold; a metric asked for by name must be there."""
    missing = [m for m in metrics if EFFECT_METRICS[m].series not in ds.data_vars]
    if chosen and missing:
        raise ValueError(f"{path}: the runs hold no series for {', '.join(missing)} "
                         f"(/series/{EFFECT_METRICS[missing[0]].series}: its mechanism is off)")
    return [m for m in metrics if m not in missing]


def _counterfactual_frame(ds, facts, scenario, point, metrics, window, by, times, days, confidence, scaled,
                          design, path) -> pd.DataFrame:
    what = contrast(facts.texts[(facts.baseline, point)], facts.texts[(scenario, point)])
    after_end = _warn_if_it_cannot_differ(what, scenario, facts.last, path)
    span = _window(window, times, None if after_end else what.first_difference)
    select = {"point": point}
    frames = []
    for name in metrics:
        metric = EFFECT_METRICS[name]
        values = _metric_values(ds.sel(select), metric)
        population = ds["population"].sel(select).astype(np.float64)
        pair = lambda da: (da.sel(scenario=facts.baseline), da.sel(scenario=scenario))  # noqa: E731
        frames.append(_scenario_effects(pair(values), pair(population), name, metric, span, days, facts, by,
                                        confidence, scaled))
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "point", point)
    frame.insert(0, "scenario", scenario)
    for k, name in enumerate(design):
        frame.insert(2 + k, name, float(ds[name].sel(point=point)))
    frame["after_end"] = after_end
    frame["same_settings"] = what.first_difference is None
    few = _few_venues(facts.venues, what.items, frame["ward"].unique())
    frame["few_venues"] = frame["ward"].map(few).astype(bool)
    frame["few_residents"] = frame["residents"] < FEW_RESIDENTS
    _warn_scenario(frame, scenario, few, path, after_end or what.first_difference is None)
    return frame


def _warn_if_it_cannot_differ(what: Contrast, scenario: str, last: dt.date, path: str) -> bool:
    """Warn when the scenario equals the baseline or starts differing after the last record;
    return whether its items all fall after the runs' end."""
    after_end = what.first_difference is not None and what.first_difference > last
    if what.first_difference is None:
        _warn(f"{path}: scenario {scenario!r} is the baseline's scenario (no setting or timeline item "
              f"differs): every effect is zero by construction")
    elif after_end:
        _warn(f"{path}: scenario {scenario!r} differs from the baseline only from {what.first_difference}, after "
              f"the runs' last record ({last}): every effect is zero because the policy never started "
              f"(extend the ensemble's `until` or the scenario's end)")
    return after_end


def warn_if_counterfactuals_cannot_differ(master: PathLike) -> None:
    """The scenario-level traps of :func:`effects`, checked from the scenarios alone: said as
    soon as an ensemble is written, before anyone reads a zero as "no effect"."""
    path = _master_path(master)
    facts = _read_facts(path)
    for (scenario, point), text in facts.texts.items():
        if scenario != facts.baseline:
            _warn_if_it_cannot_differ(contrast(facts.texts[(facts.baseline, point)], text), scenario, facts.last, path)


def flag_comparison(master: PathLike, rows: pd.DataFrame) -> pd.DataFrame:
    """`compare`'s rows with the traps of :func:`effects` warned about and flagged: ``after_end``,
    ``same_settings`` and ``no_difference`` (every replicate of this cell equals the baseline's)."""
    path = _master_path(master)
    facts = _read_facts(path)
    rows = rows.copy()
    rows["after_end"] = False
    rows["same_settings"] = False
    # A zero difference with a zero-width (or undefined) interval: every pair was equal.
    rows["no_difference"] = (rows["difference"] == 0) & ~(rows["ci_high"] - rows["ci_low"] > 0)
    for (scenario, point), cell in rows.groupby(["scenario", "point"]):
        what = contrast(facts.texts[(facts.baseline, int(point))], facts.texts[(scenario, int(point))])
        after_end = _warn_if_it_cannot_differ(what, scenario, facts.last, path)
        rows.loc[cell.index, "after_end"] = after_end
        rows.loc[cell.index, "same_settings"] = what.first_difference is None
        if cell["no_difference"].all() and not after_end and what.first_difference is not None:
            _warn(f"{path}: scenario {scenario!r} never differs from the baseline in any metric, ward or group "
                  f"compared: its items changed nothing the runs measure")
    return rows


def _warn_scenario(frame: pd.DataFrame, scenario: str, few: dict, path: str, already_warned: bool) -> None:
    if frame["no_difference"].all() and not already_warned:
        _warn(f"{path}: scenario {scenario!r} never differs from the baseline in any metric, ward, group or "
              f"record: its items changed nothing the runs measure (see columns few_venues and no_difference)")
    wards = sorted(w for w, flagged in few.items() if flagged and w != ALL)
    if wards and not already_warned:
        shown = ", ".join(wards[:5]) + (f" and {len(wards) - 5} more" if len(wards) > 5 else "")
        _warn(f"{path}: scenario {scenario!r} changes fewer than {FEW_VENUES} venues in {len(wards)} ward(s) "
              f"({shown}) at this population.scale: a relative cut of one or two venues may change nothing "
              f"(column few_venues)")
