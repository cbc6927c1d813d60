"""One self-contained HTML page of a run or an ensemble, for council analysts who do not use Python.

``python3 -m contactsim report RUN.h5|ENSEMBLE.h5 -o report.html`` (or ``contactsim report``).
Every figure is embedded as a base64 PNG and the styles are inline, so the page can be mailed,
archived or opened offline and shows the same thing years later: it refers to no other file
and to nothing on the network.

- A run: trajectories of the city and its wards (warmth toward other groups, the share getting
  on well, positive and negative encounters), the contact matrix, and the file's provenance.
- An ensemble (``OUT/ensemble.h5``): the warnings first (:class:`contactsim.EffectWarning`
  and flagged rows: an effect that cannot mean what it seems), the effects over time, a
  forest plot by ward for each comparison, the design and the provenance.

The figures are :mod:`contactsim.plotting`'s and the numbers :func:`contactsim.effects`'s, so
the page says what an analysis in Python would.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import io
import os
import pathlib
import warnings
from typing import Callable, Iterable, Optional, Sequence, Union

import h5py
import numpy as np
import pandas as pd

from . import plotting
from ._publish import check_output, existing_source, is_ensemble, publishing
from .effects import FLAG_COLUMNS, FEW_RESIDENTS, FEW_VENUES, EffectWarning, effects
from .ensemble import open_ensemble
from .results import _decode, open_results

__all__ = ["report", "ReportError"]

PathLike = Union[str, "os.PathLike[str]"]

# Long texts shown folded under the provenance table instead of in it.
LONG_ATTRIBUTES = ("scenario_text", "spec_text", "parameter_sets_text")
EFFECT_METRICS_SHOWN = ("outgroup_warmth", "get_on_well_share", "contacts_positive", "contacts_negative")
FOREST_METRIC = "outgroup_warmth"
MAX_FORESTS = 6            # comparisons (counterfactual × sweep point) given a forest plot
MAX_FLAGGED_CELLS = 8      # ward × group cells named per flag before "and N more"
DPI = 100

FLAG_MEANINGS = {
    "after_end": "every item the counterfactual changes falls after the runs' last record: the policy never started",
    "same_settings": "the counterfactual's scenario is the baseline's: every effect is zero by construction",
    "no_difference": "this cell never differs from the baseline",
    "few_venues": f"fewer than {FEW_VENUES} of the venues it changes are in the ward: the cut may round to nothing",
    "few_residents": f"fewer than {FEW_RESIDENTS} simulated residents in the cell: the interval says little",
}

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
.lede { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; white-space: pre-line; }
th { background: #f2f2f2; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; margin-top: 0.3em; }
.warnings { background: #fff4e5; border: 2px solid #e07b00; padding: 0.6em 1.2em; margin: 1em 0; }
.warnings h2 { border: none; margin-top: 0.3em; color: #a04f00; }
.no-warnings { background: #eef7ee; border: 1px solid #5a9a5a; padding: 0.6em 1.2em; }
.note { color: #555; font-style: italic; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""


class ReportError(ValueError):
    """Bad input or an output that must not be written; the message names the file."""


# ----------------------------------------------------------------------------- HTML pieces

def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _figure(draw: Callable[[], object], caption: str) -> str:
    """`draw` (a plotting call returning Axes or an array of them) as an embedded PNG."""
    import matplotlib.pyplot as plt

    result = draw()
    axes = np.ravel(result)
    figure = axes[0].figure
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _table(frame: pd.DataFrame, numbers: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = [f'<td class="number">{_e(_number(v))}</td>' if c in numbers else f"<td>{_e(v)}</td>"
                 for c, v in zip(frame.columns, row)]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _number(value) -> str:
    """Counts in full with thousands separators, shares and levels to 4 significant digits:
    analysts copy these into documents, where 1.167e+05 helps nobody."""
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "–"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return str(value)


def _provenance(attrs: dict) -> str:
    """Every root attribute: short ones as a table, long texts (the scenario or spec) folded."""
    short = pd.DataFrame([(k, v) for k, v in attrs.items() if k not in LONG_ATTRIBUTES],
                         columns=["attribute", "value"])
    folded = [f"<details><summary>{_e(k)} ({len(str(attrs[k]).splitlines())} lines)</summary>"
              f"<pre>{_e(attrs[k])}</pre></details>" for k in LONG_ATTRIBUTES if str(attrs.get(k, ""))]
    return "<h2>Provenance</h2>" + _table(short) + "".join(folded)


def _page(title: str, lede: str, sections: Iterable[str], source: pathlib.Path) -> str:
    made = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n"
            f'<h1>{_e(title)}</h1><p class="lede">{_e(lede)}</p>\n{body}\n'
            f'<p class="note">Made by <code>contactsim report</code> from {_e(source)} on {made}.</p>'
            f"</body></html>\n")


def _attributes(path: pathlib.Path) -> dict:
    with h5py.File(path, "r") as f:
        return {k: _decode(v) for k, v in f.attrs.items()}


# ----------------------------------------------------------------------------- a run

RUN_TRAJECTORIES = (
    ("mean_warmth", "group", "Warmth toward other groups in the whole city, one line per group."),
    ("get_on_well_share", "group", "Share of residents who say they get on well with other groups, by group."),
    ("mean_warmth", "ward", "Warmth toward other groups in each ward (all groups together), one line per ward."),
)
# Inches per legend entry: a line per ward needs a figure tall enough for its legend.
LEGEND_ROW = 0.19


def _run_figures(ds) -> list[str]:
    out = []
    for variable, by, caption in RUN_TRAJECTORIES:
        if variable in ds.data_vars:
            out.append(_figure(lambda v=variable, b=by: plotting.plot_series(ds, v, by=b, ax=_axes_for(ds, b)),
                               caption))
    if {"contacts_positive", "contacts_negative"} <= set(ds.data_vars):
        out.append(_figure(lambda: _contacts(ds), "Intergroup encounters in each record period, by group: positive "
                                                  "(top) and negative (bottom), as simulated (not scaled up)."))
    if "population" in ds.data_vars and "mean_warmth" in ds.data_vars:
        out.append(_figure(lambda: plotting.plot_ward_group_heatmap(ds, "mean_warmth"),
                           "Warmth toward other groups at the last record, each ward and group."))
    if {"contact_matrix_positive", "contact_matrix_negative"} <= set(ds.data_vars):
        out.append(_figure(lambda: plotting.plot_contact_matrix(ds, share=True),
                           "Who meets whom: each group's intergroup encounters over the whole run, split by the "
                           "group met (row shares)."))
    return out


def _axes_for(ds, by: str):
    import matplotlib.pyplot as plt

    height = max(4.5, LEGEND_ROW * ds.sizes.get(by, 0))
    return plt.subplots(figsize=(9, height), layout="constrained")[1]


def _contacts(ds):
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(2, 1, figsize=(9, 8.5), layout="constrained", sharex=True)
    plotting.plot_series(ds, "contacts_positive", by="group", ax=axes[0])
    plotting.plot_series(ds, "contacts_negative", by="group", ax=axes[1])
    return axes


SUMMARY = (("mean_warmth", "warmth toward other groups", False), ("get_on_well_share", "getting on well", False),
           ("contacts_positive", "positive encounters, whole run", True),
           ("contacts_negative", "negative encounters, whole run", True))


def _last_values(ds) -> pd.DataFrame:
    """Per group and for the city: levels at the last record, encounters summed over the run."""
    table, groups = {}, []
    for variable, name, total in SUMMARY:
        if variable not in ds.data_vars:
            continue
        pick = (lambda s: s.sum("time")) if total else (lambda s: s.isel(time=-1))
        by_group = pick(plotting.aggregate(ds, variable, by="group"))
        groups = _group_labels(ds, by_group["group"].values)
        units = ds[variable].attrs.get("units", "")
        table[f"{name} ({units})" if units else name] = [*by_group.values.tolist(),
                                                         float(pick(plotting.aggregate(ds, variable, by=None)))]
    return pd.DataFrame({"group": groups + ["all (city)"], **table})


def _group_labels(ds, groups) -> list[str]:
    """The names the figures' legends use ("White British"), else the file's labels."""
    labels = dict(zip(ds["group"].values, ds["group_label"].values)) if "group_label" in ds.coords else {}
    return [str(labels.get(g, "")) or str(g) for g in groups]


def _run_page(source: pathlib.Path) -> str:
    ds = open_results(source)
    attrs = _attributes(source)
    times = ds["time"].values
    lede = (f"Scenario {attrs.get('scenario_path', '?')}, seed {attrs.get('seed', '?')}, "
            f"{str(times[0])[:10]} to {str(times[-1])[:10]} ({len(times)} records, "
            f"{attrs.get('record_interval', '?')}ly), population scale {attrs.get('population_scale', '?')}.")
    summary = _last_values(ds)
    sections = ["<h2>At the end of the run</h2>",
                "<p>Levels at the last record; encounters summed over every record. Encounters are counted "
                "among the simulated residents (multiply by 1 / population scale for the real city).</p>",
                _table(summary, numbers=[c for c in summary.columns if c != "group"]),
                "<h2>Trajectories</h2>", *_run_figures(ds), _provenance(attrs)]
    name = pathlib.Path(str(attrs.get("scenario_path", source.stem))).stem
    return _page(f"contactsim run: {name}", lede, sections, source)


# ----------------------------------------------------------------------------- an ensemble

def _effects_and_warnings(master: pathlib.Path) -> tuple[Optional[pd.DataFrame], list[str]]:
    """contactsim.effects' table and every EffectWarning it raised, as text. An ensemble
    without counterfactuals has no effects: (None, [why])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EffectWarning)
        try:
            frame = effects(master)
        except ValueError as error:
            if "no counterfactual" not in str(error):
                raise
            return None, [str(error)]
    return frame, list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, EffectWarning)))


def _flag_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison and flag: how many rows carry it, and which cells."""
    rows = []
    flagged = frame[frame["flagged"]]
    for (scenario, point), cells in flagged.groupby(["scenario", "point"], sort=False):
        for flag in FLAG_COLUMNS:
            hit = cells[cells[flag]]
            if hit.empty:
                continue
            where = (hit["ward"] + " / " + hit["group"]).drop_duplicates().tolist()
            named = ", ".join(where[:MAX_FLAGGED_CELLS]) + (f" and {len(where) - MAX_FLAGGED_CELLS} more"
                                                          if len(where) > MAX_FLAGGED_CELLS else "")
            rows.append({"counterfactual": scenario, "point": int(point), "flag": flag,
                         "meaning": FLAG_MEANINGS[flag], "rows": len(hit), "ward / group cells": named})
    return pd.DataFrame(rows, columns=["counterfactual", "point", "flag", "meaning", "rows", "ward / group cells"])


def _warnings_section(frame: Optional[pd.DataFrame], messages: list[str]) -> str:
    flags = _flag_summary(frame) if frame is not None else pd.DataFrame()
    if not messages and flags.empty:
        return ('<div class="no-warnings"><strong>No warnings.</strong> No counterfactual was flagged by '
                "contactsim.effects.</div>")
    items = "".join(f"<li>{_e(m)}</li>" for m in messages)
    parts = ['<div class="warnings"><h2>⚠ Warnings: read these before the effects</h2>']
    if items:
        parts.append(f"<ul>{items}</ul>")
    if not flags.empty:
        total = int(frame["flagged"].sum())
        parts.append(f"<p><strong>{total:,} of {len(frame):,} effect rows are flagged</strong> "
                     "(the table of <code>contactsim.effects</code>, column <code>flagged</code>):</p>")
        parts.append(_table(flags, numbers=["rows"]))
    parts.append("</div>")
    return "".join(parts)


def _master_tables(master: pathlib.Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with h5py.File(master, "r") as f:
        scenarios = pd.DataFrame({k: [_decode(v) for v in f["scenarios"][()][k]]
                                  for k in f["scenarios"].dtype.names})
        design = (pd.DataFrame({k: f["design"][()][k] for k in f["design"].dtype.names}) if "design" in f
                  else pd.DataFrame())
    return scenarios, design


def _design_section(master: pathlib.Path, ds, attrs: dict) -> str:
    scenarios, design = _master_tables(master)
    scenarios.insert(1, "role", ["baseline" if s == attrs.get("baseline") else "counterfactual"
                                 for s in scenarios["name"]])
    parameters = [c for c in design.columns if c != "point"]
    runs = ds.sizes["scenario"] * ds.sizes["point"] * ds.sizes["replicate"]
    facts = pd.DataFrame([("scenarios", ds.sizes["scenario"]), ("sweep points", ds.sizes["point"]),
                          ("replicates per scenario and point", ds.sizes["replicate"]), ("runs", runs),
                          ("sweep design", attrs.get("design", "none")),
                          ("swept parameters", ", ".join(parameters) or "none"),
                          ("common random numbers (paired)", "yes" if attrs.get("common_random_numbers") else "no"),
                          ("records", f"{str(ds['time'].values[0])[:10]} to {str(ds['time'].values[-1])[:10]}")],
                         columns=["what", "value"])
    parts = ["<h2>Design</h2>", _table(facts), "<h3>Scenarios</h3>", _table(scenarios)]
    if parameters:
        parts += ["<h3>Sweep points</h3>", _table(design, numbers=parameters)]
    return "".join(parts)


def _city_effects(frame: pd.DataFrame) -> pd.DataFrame:
    """The city-wide effect of each comparison on each metric at the last record."""
    last = frame[(frame["ward"] == "all") & (frame["group"] == "all") & (frame["time"] == frame["time"].max())]
    table = last[["scenario", "point", *plotting._design_columns(frame), "metric", "difference", "ci_low", "ci_high", "units", "baseline_level",
                  "n", "flagged"]].copy()
    table["metric"] = [plotting.METRIC_NAMES.get(m, m) for m in table["metric"]]
    table["flagged"] = ["yes" if f else "" for f in table["flagged"]]
    return table.rename(columns={"scenario": "counterfactual", "difference": "effect", "ci_low": "interval low",
                                 "ci_high": "interval high", "baseline_level": "baseline", "n": "replicates"})


def _effect_figures(frame: pd.DataFrame) -> list[str]:
    out = []
    for metric in [m for m in EFFECT_METRICS_SHOWN if m in set(frame["metric"])]:
        name = plotting.METRIC_NAMES.get(metric, metric)
        out.append(_figure(lambda m=metric: plotting.plot_effects(frame, m, facet="ward"),
                           f"Effect on {name} over time: the city, then the wards where it is largest."))
    return out


def _forest_figures(frame: pd.DataFrame) -> list[str]:
    comparisons = frame[["scenario", "point"]].drop_duplicates().values.tolist()
    metric = FOREST_METRIC if FOREST_METRIC in set(frame["metric"]) else str(frame["metric"].iloc[0])
    name = plotting.METRIC_NAMES.get(metric, metric)
    swept = frame["point"].nunique() > 1
    out = [_figure(lambda s=s, p=p: plotting.forest_plot(frame, metric, scenario=s, point=int(p)),
                   f"Effect of {s}{f' at sweep point {p}' if swept else ''} on {name} in every ward at the last "
                   "record, with its interval.")
           for s, p in comparisons[:MAX_FORESTS]]
    if len(comparisons) > MAX_FORESTS:
        out.append(f'<p class="note">{len(comparisons) - MAX_FORESTS} more comparisons are not drawn here: '
                   "use contactsim.plotting.forest_plot.</p>")
    return out


def _baseline_figure(ds, baseline: str) -> str:
    return _figure(lambda: plotting.plot_series(ds, "mean_warmth", by="group", scenario=baseline, point=0),
                   f"The baseline ({baseline}): warmth toward other groups in the city, by group.")


def _ensemble_page(master: pathlib.Path) -> str:
    ds = open_ensemble(master)
    attrs = _attributes(master)
    baseline = str(attrs.get("baseline", ds["scenario"].values[0]))
    frame, messages = _effects_and_warnings(master)
    sections = [_warnings_section(frame, messages)]
    if frame is not None:
        city = _city_effects(frame)
        sections += ["<h2>Effects at the last record, whole city</h2>",
                     "<p>Effect: mean over replicates of counterfactual − baseline of the same replicate, per "
                     "resident; the interval is a 95% confidence interval.</p>",
                     _table(city, numbers=["effect", "interval low", "interval high", "baseline", "replicates",
                                           *plotting._design_columns(frame)]),
                     "<h2>Effects over time</h2>", *_effect_figures(frame),
                     "<h2>Effects by ward</h2>", *_forest_figures(frame)]
    if "mean_warmth" in ds.data_vars:
        sections += ["<h2>Baseline</h2>", _baseline_figure(ds, baseline)]
    sections += [_design_section(master, ds, attrs), _provenance(attrs)]
    lede = (f"Ensemble {attrs.get('name', master.parent.name)}: baseline {baseline} and "
            f"{ds.sizes['scenario'] - 1} counterfactual(s), {ds.sizes['replicate']} replicates each.")
    return _page(f"contactsim ensemble: {attrs.get('name', master.parent.name)}", lede, sections, master)


# ----------------------------------------------------------------------------- entry point

def report(source: PathLike, output: PathLike, force: bool = False) -> pathlib.Path:
    """Write an HTML report of `source` (a run's output or an ensemble's ``ensemble.h5``) at `output`.

    Self-contained: figures are embedded PNGs, nothing is linked. Written as ``<output>.partial``
    and renamed when complete; an existing `output` is refused unless `force` (FileExistsError),
    as is the source itself (:class:`ReportError`). Returns the output path.
    """
    source, output = existing_source(source), pathlib.Path(output)
    ensemble = is_ensemble(source, ReportError)
    check_output(source, output, force, ReportError)  # before the figures, which take a while
    page = _ensemble_page(source) if ensemble else _run_page(source)
    check_output(source, output, force, ReportError)  # the file may have appeared meanwhile
    with publishing(output) as partial:
        partial.write_text(page, encoding="utf-8")
    return output
