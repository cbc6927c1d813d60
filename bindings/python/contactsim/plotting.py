"""Figures of contactsim results (matplotlib).

Every function accepts an open Dataset (:func:`contactsim.open_results`), a path, or a list
of either (combined with :func:`contactsim.concat_replicates`); takes an optional ``ax``;
returns the Axes it drew on; and never calls ``plt.show()``. With a ``replicate`` dimension,
lines are the replicate mean and a shaded band spans the central `band` share of replicates.

:func:`aggregate` returns the numbers :func:`plot_series` draws, so they can be checked or
tabulated.
"""
from __future__ import annotations

import textwrap

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import xarray as xr

from .results import DataLike, as_dataset, contact_matrix

__all__ = ["aggregate", "plot_series", "plot_ward_group_heatmap", "plot_contact_matrix", "plot_segregation",
           "plot_effects", "forest_plot"]

BY_CHOICES = ("group", "ward", None)
REPLICATE = "replicate"
SEGREGATION_PREFIX = "segregation_"
# Float series that are amounts rather than averages: summed over wards, like integer counts.
EXTENSIVE_UNITS = ("GBP/year",)
BAND_ALPHA = 0.25
TITLE_WIDTH = 72


# ----------------------------------------------------------------------------- argument checks

def _variable(ds: xr.Dataset, variable: str) -> xr.DataArray:
    if variable not in ds.data_vars:
        raise ValueError(f"unknown variable {variable!r}; available: {', '.join(sorted(ds.data_vars))}")
    return ds[variable]


def _check_by(da: xr.DataArray, by) -> None:
    if by not in BY_CHOICES:
        raise ValueError(f"by must be 'group', 'ward' or None; got {by!r}")
    if by is not None and by not in da.dims:
        raise ValueError(f"{da.name} has no {by!r} dimension (its dimensions: {', '.join(da.dims)}); "
                         f"choose by from {[d for d in ('group', 'ward') if d in da.dims] + [None]}")


def _check_band(band) -> None:
    if band is not None and band != 0 and not 0 < band < 1:
        raise ValueError(f"band must be a share in (0, 1), or None for no band; got {band!r}")


RUN_SET_DIMS = ("scenario", "point")


def _one_comparison_arm(ds: xr.Dataset, scenario=None, point=None) -> xr.Dataset:
    """An ensemble dataset (open_ensemble) cut to one scenario and sweep point.

    Averaging a baseline and its counterfactual together answers no question, so a dataset
    holding several scenarios or points must be narrowed first; a single one is taken as is."""
    chosen = {"scenario": scenario, "point": point}
    for dim in RUN_SET_DIMS:
        if dim not in ds.dims:
            if chosen[dim] is not None:
                raise ValueError(f"{dim}={chosen[dim]!r} given, but the data has no {dim} dimension (one run set)")
            continue
        labels = [v.item() if hasattr(v, "item") else v for v in ds[dim].values]
        if chosen[dim] is None:
            if len(labels) > 1:
                raise ValueError(
                    f"{_source_name(ds)} holds an ensemble with {len(labels)} {dim}s ({', '.join(map(str, labels))}); "
                    f"pass {dim}= one of them to plot it, or use contactsim.effects and plotting.plot_effects "
                    f"for differences: averaging {dim}s together would pool what must not be pooled")
            ds = ds.isel({dim: 0})
        else:
            if chosen[dim] not in labels:
                raise ValueError(f"unknown {dim} {chosen[dim]!r}; valid: {', '.join(map(str, labels))}")
            ds = ds.sel({dim: chosen[dim]})
    return ds


def _source_name(ds: xr.Dataset) -> str:
    return ds.encoding.get("source") or "the dataset"


def _select(da: xr.DataArray, dim: str, labels, keep_dim: bool) -> xr.DataArray:
    """Select labels along `dim`; a single label drops the dimension unless `keep_dim`."""
    valid = [str(v) for v in da[dim].values]
    wanted = [labels] if isinstance(labels, str) else list(labels)
    unknown = [label for label in wanted if label not in valid]
    if unknown:
        raise ValueError(f"unknown {dim} {', '.join(map(repr, unknown))}; valid {dim} labels: {', '.join(valid)}")
    if isinstance(labels, str) and not keep_dim:
        return da.sel({dim: labels})
    return da.sel({dim: wanted})


# ----------------------------------------------------------------------------- aggregation

def _is_extensive(da: xr.DataArray) -> bool:
    """Counts and amounts add up over wards and groups; shares, means and indices do not."""
    return np.issubdtype(da.dtype, np.integer) or da.attrs.get("units") in EXTENSIVE_UNITS


def _weights(population: xr.DataArray | None, da: xr.DataArray) -> xr.DataArray | None:
    """Residents per cell of `da`: population summed over the axes `da` lacks."""
    if population is None:
        return None
    extra = [d for d in population.dims if d not in da.dims]
    return population.sum(extra) if extra else population


def _reduce(da: xr.DataArray, population: xr.DataArray | None, keep: set, target_selected: bool):
    """Reduce every axis of `da` not in `keep`; return (result, description of what was done)."""
    others = [d for d in da.dims if d not in keep]
    if _is_extensive(da):
        return da.sum(others), (f"sum over {', '.join(others)}" if others else "")
    steps = []
    da = da.astype(np.float64)
    if "target_group" in others:
        if not target_selected and "group" in da.coords:
            # Default to outgroup attitudes: the diagonal is in-group warmth, a different quantity.
            da = da.where(da["target_group"] != da["group"])
            steps.append("mean over target_group ≠ group")
        else:
            steps.append("mean over target_group")
        da = da.mean("target_group")
        others.remove("target_group")
    weighted = [d for d in others if d in ("ward", "group")]
    weights = _weights(population, da)
    if weighted and weights is not None:
        da = da.weighted(weights).mean(weighted)
        steps.append(f"population-weighted mean over {', '.join(weighted)}")
        others = [d for d in others if d not in weighted]
    if others:
        da = da.mean(others)
        steps.append(f"mean over {', '.join(others)}")
    return da, "; ".join(steps)


def aggregate(data: DataLike, variable: str, by: str | None = "group", *, ward=None, group=None,
              target_group=None, venue_type=None, spatial_unit=None, scenario=None, point=None) -> xr.DataArray:
    """A series reduced to one line per group (or ward) over time, as :func:`plot_series` draws it.

    Parameters
    ----------
    data : xarray.Dataset, path, or list of them
        Results; a list is combined as replicates.
    variable : str
        Series name, e.g. ``"mean_warmth"``, ``"contacts_positive"``.
    by : {"group", "ward", None}
        Axis kept as separate lines; None reduces everything but time.
    ward, group, target_group, venue_type : str or list of str, optional
        Restrict to these labels before aggregating.
    spatial_unit : str, optional
        For segregation series: ``"block"`` (default) or ``"ward"``.
    scenario, point : optional
        For an ensemble dataset (:func:`contactsim.open_ensemble`): the scenario and sweep point
        to aggregate. Required when it holds several; they are never averaged together.

    Returns
    -------
    xarray.DataArray
        Dimensions ``(time, by[, replicate])``. Integer counts (and budgets) are summed over
        the other axes. Other series are averaged: over ``target_group`` first (by default
        over target groups other than ``group``: outgroup warmth), then over wards and groups
        weighted by ``population`` (residents of each cell at the period's end), then plainly
        over anything left (venue types). ``attrs["aggregation"]`` says what was done.
    """
    ds = _one_comparison_arm(as_dataset(data), scenario, point)
    da = _variable(ds, variable)
    _check_by(da, by)
    if spatial_unit is None and "spatial_unit" in da.dims:
        spatial_unit = "block"
    selections = {"ward": ward, "group": group, "target_group": target_group, "venue_type": venue_type,
                  "spatial_unit": spatial_unit}
    population = ds["population"] if "population" in ds.data_vars and variable != "population" else None
    chosen = []
    for dim, labels in selections.items():
        if labels is None:
            continue
        chosen.append(f"{dim} = {labels if isinstance(labels, str) else ', '.join(labels)}")
        if dim not in da.dims:
            raise ValueError(f"{variable} has no {dim!r} dimension (its dimensions: {', '.join(da.dims)})")
        da = _select(da, dim, labels, keep_dim=(dim == by))
        if population is not None and dim in population.dims:
            population = _select(population, dim, labels, keep_dim=(dim == by))
    keep = {"time", by, REPLICATE} - {None}
    result, how = _reduce(da, population, keep, target_selected=target_group is not None)
    how = "; ".join(filter(None, chosen + [how]))
    order = [d for d in ("time", by, REPLICATE) if d in result.dims]
    result = result.transpose(*order)
    result.name = variable
    result.attrs = {"description": ds[variable].attrs.get("description", variable),
                    "units": ds[variable].attrs.get("units", ""), "aggregation": how}
    return result


# ----------------------------------------------------------------------------- drawing helpers

def _axes(ax, figsize=(8, 4.5)):
    if ax is None:
        # pyplot is imported only when a figure is made, so `import contactsim` stays light
        # and does not choose a backend.
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _labels(ds: xr.Dataset, by: str | None, values) -> list[str]:
    """Legend text: the groups' display labels when the file has them, else the raw labels."""
    if by == "group" and "group_label" in ds.coords:
        lookup = dict(zip(ds["group"].values, ds["group_label"].values))
        return [str(lookup.get(v, v)) or str(v) for v in values]
    return [str(v) for v in values]


def partial_last_period(times: np.ndarray) -> int | None:
    """Days in the last recording period when it is shorter than the others (a run stopped
    mid-period with --until), else None. Its counts cover fewer days, so drawn like the other
    periods it would look like a collapse."""
    days = np.diff(times.astype("datetime64[D]")).astype(np.int64)
    if len(days) < 2:
        return None
    last, usual = int(days[-1]), float(np.median(days[:-1]))
    return last if last < 0.9 * usual else None


def _draw_lines(ax, series: xr.DataArray, by: str | None, labels: list[str], band, partial: int | None = None) -> None:
    """One line per `by` label; with replicates, their mean plus a quantile band. A partial last
    period (`partial` days) is drawn as a dotted segment to a hollow marker, not as the line's end."""
    times = series["time"].values
    columns = [series] if by is None else [series.isel({by: k}) for k in range(series.sizes[by])]
    whole = slice(None, -1) if partial else slice(None)
    for column, label in zip(columns, labels):
        mean = column.mean(REPLICATE) if REPLICATE in column.dims else column
        (line,) = ax.plot(times[whole], mean.values[whole], label=label)
        if partial:
            ax.plot(times[-2:], mean.values[-2:], linestyle=":", color=line.get_color())
            ax.plot(times[-1:], mean.values[-1:], "o", markerfacecolor="white", color=line.get_color())
        if REPLICATE in column.dims and band:
            lower, upper = (1 - band) / 2, 1 - (1 - band) / 2
            bounds = column.quantile([lower, upper], dim=REPLICATE)
            ax.fill_between(times[whole], bounds.isel(quantile=0).values[whole], bounds.isel(quantile=1).values[whole],
                            color=line.get_color(), alpha=BAND_ALPHA, linewidth=0)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _title(description: str, *details: str) -> str:
    """Series description wrapped to the figure, then details (date, aggregation) below it."""
    lines = [textwrap.fill(description, TITLE_WIDTH)]
    lines += [textwrap.fill(d, TITLE_WIDTH) for d in details if d]
    return "\n".join(lines)


def _is_flow(description: str) -> bool:
    """Counts made during each period (encounters, visits), as opposed to states at its end."""
    return "during the period" in description


def _axis_name(variable: str, aggregation: str) -> str:
    """A y-axis name in words: the series name without underscores, warmth said as what it shows."""
    if variable == "mean_warmth" and "target_group ≠ group" in aggregation:
        return "warmth toward other groups"
    return variable.replace("_", " ")


def _human_description(variable: str, description: str, aggregation: str) -> str:
    """The series description without remarks that do not hold for the figure drawn."""
    if variable == "mean_warmth" and "target_group ≠ group" in aggregation:
        return "Mean warmth toward other groups (feeling thermometer / 100)"
    return description.split("; the diagonal")[0]


def _finish_lines(ax, series: xr.DataArray, title: str, legend: bool, band, partial: int | None = None) -> None:
    units = series.attrs.get("units", "")
    name = _axis_name(str(series.name), series.attrs.get("aggregation", ""))
    ax.set_xlabel("end of record period")
    ax.set_ylabel(f"{name} ({units})" if units else name)
    if REPLICATE in series.dims:
        n = series.sizes[REPLICATE]
        shown = f"mean of {n} replicates" if n > 1 else "1 replicate"
        title += f"\n{shown}" + (f", band: central {band:.0%}" if band and n > 1 else "")
    if partial:
        title += f"\ndotted: the last period is partial ({partial} days)"
    ax.set_title(title, fontsize="medium")
    if legend:
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)


# ----------------------------------------------------------------------------- time series

def plot_series(data: DataLike, variable: str, by: str | None = "group", ward=None, group=None,
                target_group=None, ax=None, band: float | None = 0.95, *, venue_type=None,
                spatial_unit=None, scenario=None, point=None):
    """Plot a series over time, one line per group (or ward).

    Parameters
    ----------
    data : xarray.Dataset, path, or list of them
        Results; a list is combined as replicates.
    variable : str
        Series name.
    by : {"group", "ward", None}
        One line per group or per ward; None for a single line.
    ward, group, target_group, venue_type, spatial_unit : str or list of str, optional
        Restrict to these labels (see :func:`aggregate` for how the rest is aggregated;
        ``mean_warmth`` defaults to outgroup warmth).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    band : float or None, default 0.95
        With replicates, shade between the (1 − band)/2 and 1 − (1 − band)/2 quantiles
        across replicates; None for no band.
    scenario, point : optional
        For an ensemble dataset: which scenario and sweep point (see :func:`aggregate`).

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_band(band)
    ds = _one_comparison_arm(as_dataset(data), scenario, point)
    series = aggregate(ds, variable, by, ward=ward, group=group, target_group=target_group,
                       venue_type=venue_type, spatial_unit=spatial_unit)
    ax = _axes(ax)
    labels = _labels(ds, by, series[by].values) if by else [variable]
    how = series.attrs["aggregation"]
    partial = partial_last_period(series["time"].values) if _is_flow(series.attrs["description"]) else None
    _draw_lines(ax, series, by, labels, band, partial)
    title = _title(_human_description(variable, series.attrs["description"], how), f"({how})" if how else "")
    _finish_lines(ax, series, title, legend=by is not None, band=band, partial=partial)
    return ax


def plot_segregation(data: DataLike, index: str = "dissimilarity", unit: str = "block", ax=None,
                     band: float | None = 0.95, *, target_group=None):
    """Plot a residential segregation index over time.

    Parameters
    ----------
    data : xarray.Dataset, path, or list of them
        Results; a list is combined as replicates.
    index : {"dissimilarity", "isolation", "exposure", "theil_h"}
        Index (series ``segregation_<index>``). ``theil_h`` is multigroup: one line;
        the others: one line per group. ``exposure`` needs `target_group`.
    unit : {"block", "ward"}
        Spatial unit over which the index is computed.
    ax : matplotlib.axes.Axes, optional
    band : float or None, default 0.95
        Replicate band, as in :func:`plot_series`.
    target_group : str, optional
        For ``exposure``: the group whose share in the unit is measured.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _check_band(band)
    ds = _one_comparison_arm(as_dataset(data))
    available = sorted(v[len(SEGREGATION_PREFIX):] for v in ds.data_vars if v.startswith(SEGREGATION_PREFIX))
    if index not in available:
        raise ValueError(f"unknown segregation index {index!r}; available: {', '.join(available)}")
    variable = SEGREGATION_PREFIX + index
    if "target_group" in ds[variable].dims and target_group is None:
        raise ValueError(f"{variable} is per (group, target_group): pass target_group= one of "
                         f"{', '.join(map(str, ds['target_group'].values))}")
    if "spatial_unit" not in ds[variable].dims:
        raise ValueError(f"{variable} has no spatial_unit dimension")
    by = "group" if "group" in ds[variable].dims else None
    series = aggregate(ds, variable, by, spatial_unit=unit, target_group=target_group)
    ax = _axes(ax)
    labels = _labels(ds, by, series[by].values) if by else [index]
    _draw_lines(ax, series, by, labels, band)
    detail = f"over {unit}s" + (f", exposure to {target_group}" if target_group is not None else "")
    title = _title(ds[variable].attrs.get("description", variable), detail)
    _finish_lines(ax, series, title, legend=by is not None, band=band)
    return ax


# ----------------------------------------------------------------------------- heatmaps

def _one_record(da: xr.DataArray, time) -> xr.DataArray:
    """The record at an index (negative counts from the end) or with a given end date."""
    dates = da["time"].values
    if isinstance(time, (int, np.integer)):
        if not -len(dates) <= time < len(dates):
            raise ValueError(f"time index {time} out of range: the file holds {len(dates)} records")
        return da.isel(time=int(time))
    try:
        return da.sel(time=np.datetime64(pd.Timestamp(time), "ns"))
    except (KeyError, ValueError):
        listed = ", ".join(str(d)[:10] for d in dates)
        raise ValueError(f"no record dated {time!r}; records end on {listed}") from None


DIVERGING_CMAP = "RdBu_r"


def _colour_scale(values: np.ndarray, cmap):
    """(cmap, norm): a diverging map centred on zero when the values take both signs (a
    difference), so white means no change; else `cmap` (viridis by default) on the data's range."""
    finite = values[np.isfinite(values)]
    if cmap is None and finite.size and finite.min() < 0 < finite.max():
        from matplotlib.colors import CenteredNorm

        return DIVERGING_CMAP, CenteredNorm(vcenter=0.0)
    return cmap or "viridis", None


def _heatmap(ax, values: np.ndarray, cmap, label: str):
    cmap, norm = _colour_scale(values, cmap)
    image = ax.imshow(values, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label(label)
    return image


def plot_ward_group_heatmap(data: DataLike, variable: str, time=-1, ax=None, cmap=None, *,
                            target_group=None, venue_type=None):
    """Heatmap of a (ward, group) series at one record.

    Parameters
    ----------
    data : xarray.Dataset, path, or list of them
        Results; with replicates the cells show the replicate mean.
    variable : str
        A series with ``ward`` and ``group`` axes.
    time : int or date, default -1
        Record index (negative from the end) or the record's end date (``"2020-06-30"``).
    ax : matplotlib.axes.Axes, optional
    cmap : str or Colormap, optional
        Default: viridis, or a diverging map centred on zero when the cells take both signs
        (a dataset of differences, e.g. ``cut - baseline``).
    target_group, venue_type : str or list of str, optional
        Restrict these axes before aggregating them away as :func:`aggregate` does.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ds = _one_comparison_arm(as_dataset(data))
    da = _variable(ds, variable)
    missing = [d for d in ("ward", "group") if d not in da.dims]
    if missing:
        raise ValueError(f"{variable} has no {' or '.join(missing)} axis (its dimensions: {', '.join(da.dims)})")
    da = _one_record(da, time)
    population = _one_record(ds["population"], time) if "population" in ds.data_vars else None
    for dim, labels in (("target_group", target_group), ("venue_type", venue_type)):
        if labels is not None:
            da = _select(da, dim, labels, keep_dim=False)
    cells, how = _reduce(da, population, {"ward", "group", REPLICATE}, target_selected=target_group is not None)
    if REPLICATE in cells.dims:
        cells = cells.mean(REPLICATE)
        how = "; ".join(filter(None, [how, "mean over replicates"]))
    cells = cells.transpose("ward", "group")
    ax = _axes(ax, figsize=(7, 2 + 0.22 * cells.sizes["ward"]))
    units = ds[variable].attrs.get("units", "")
    name = _axis_name(variable, how)
    _heatmap(ax, cells.values, cmap, f"{name} ({units})" if units else name)
    ax.set_yticks(range(cells.sizes["ward"]), [str(w) for w in cells["ward"].values], fontsize="small")
    ax.set_xticks(range(cells.sizes["group"]), [str(g) for g in cells["group"].values], rotation=45, ha="right")
    ax.set_xlabel("group")
    ax.set_ylabel("ward")
    date = str(da["time"].values)[:10]
    description = _human_description(variable, ds[variable].attrs.get("description", variable), how)
    ax.set_title(_title(description, date + (f" ({how})" if how else "")),
                 fontsize="medium")
    return ax


def plot_contact_matrix(data: DataLike, kind: str = "both", share: bool = True, time=None, ax=None,
                        cmap=None):
    """Heatmap of intergroup encounters by (group, target_group), each cell annotated.

    Parameters
    ----------
    data : xarray.Dataset, path, or list of them
        Results holding ``contact_matrix_positive``/``_negative``; with replicates the cells
        show the replicate mean.
    kind : {"both", "positive", "negative"}
    share : bool, default True
        Row shares (each group's encounters split by the group met) instead of counts.
    time : None, int, date or slice, optional
        Records summed (see :func:`contactsim.results.contact_matrix`); None = whole run.
    ax : matplotlib.axes.Axes, optional
    cmap : str or Colormap

    Returns
    -------
    matplotlib.axes.Axes
    """
    ds = _one_comparison_arm(as_dataset(data))
    matrix = contact_matrix(ds, kind=kind, time=time, share=share)
    attrs = matrix.attrs
    if REPLICATE in matrix.dims:
        matrix = matrix.mean(REPLICATE)
    ax = _axes(ax, figsize=(7, 6))
    values = matrix.values
    image = _heatmap(ax, values, cmap, "share of the row's encounters" if share else "encounters")
    groups = [str(g) for g in matrix["group"].values]
    targets = [str(g) for g in matrix["target_group"].values]
    ax.set_yticks(range(len(groups)), groups)
    ax.set_xticks(range(len(targets)), targets, rotation=45, ha="right")
    ax.set_ylabel("group (experiencing the encounter)")
    ax.set_xlabel("target_group (met)")
    _annotate(ax, image, values, share)
    ax.set_title(_title(attrs["description"], f"({attrs['period']})"), fontsize="medium")
    return ax


def _annotate(ax, image, values: np.ndarray, share: bool) -> None:
    """Write each cell's value, in white on dark cells and black on light ones."""
    norm = image.norm
    for (i, j), value in np.ndenumerate(values):
        if np.isnan(value):
            text, dark = "–", False
        else:
            text = f"{value:.2f}" if share else f"{value:,.0f}"
            dark = norm(value) < 0.5
        ax.text(j, i, text, ha="center", va="center", fontsize="small", color="white" if dark else "black")


# ----------------------------------------------------------------------------- effects

# What a reader calls each metric of contactsim.effects / compare.
METRIC_NAMES = {
    "outgroup_warmth": "warmth toward other groups",
    "get_on_well_share": "share getting on well with other groups",
    "mean_anxiety": "intergroup anxiety",
    "perceived_cohesion": "share saying people get on well in their area",
    "no_intergroup_contact_share": "share with no intergroup contact in a year",
    "cross_group_friendship_share": "share with a friend in another group",
    "contacts_positive": "positive intergroup encounters",
    "contacts_negative": "negative intergroup encounters",
}
FACETS = ("ward", "group")
CITY_LABEL = "city (all wards)"
MAX_FACETS = 12


def _replicates_phrase(n) -> str:
    """"mean of 3 replicates", "1 replicate" (a mean of one is no mean)."""
    n = int(n)
    return "1 replicate" if n == 1 else f"mean of {n} replicates"


def _effect_rows(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    required = {"scenario", "point", "metric", "ward", "group", "time", "difference", "ci_low", "ci_high"}
    missing = required - set(frame.columns)
    if missing:
        raise ValueError(f"expected a table from contactsim.effects; it lacks the columns {', '.join(sorted(missing))}")
    rows = frame[frame["metric"] == metric]
    if rows.empty:
        raise ValueError(f"no rows for metric {metric!r}; the table holds: {', '.join(sorted(frame['metric'].unique()))}")
    return rows


def _chosen(rows: pd.DataFrame, column: str, wanted) -> pd.DataFrame:
    if wanted is None:
        return rows
    wanted = [wanted] if isinstance(wanted, (str, int, np.integer)) else list(wanted)
    valid = sorted(rows[column].unique().tolist())
    unknown = [w for w in wanted if w not in valid]
    if unknown:
        raise ValueError(f"unknown {column} {', '.join(map(repr, unknown))}; valid: {', '.join(map(str, valid))}")
    return rows[rows[column].isin(wanted)]


def _design_columns(frame: pd.DataFrame) -> list:
    """The sweep's parameters: effects() puts them between `point` and `metric`."""
    columns = list(frame.columns)
    return columns[columns.index("point") + 1:columns.index("metric")]


def _run_label(rows: pd.DataFrame, scenario, point, points: int) -> str:
    """The counterfactual, and at a sweep point the parameter values that define it."""
    if points == 1:
        return str(scenario)
    first = rows[(rows.scenario == scenario) & (rows.point == point)].iloc[0]
    values = [f"{name.rsplit('.', 1)[-1]} = {first[name]:g}" for name in _design_columns(rows)]
    return f"{scenario}, " + (", ".join(values) if values else f"point {point}")


def plot_effects(frame: pd.DataFrame, metric: str = "outgroup_warmth", facet: str = "ward", facets=None,
                 scenarios=None, points=None, real: bool = False, columns: int = 3):
    """Effects over time (:func:`contactsim.effects`) as ribbons, one panel per ward or group.

    Each panel shows every counterfactual (and sweep point) in its own colour: its mean paired
    difference from the baseline and the shaded confidence interval, with a zero line.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table :func:`contactsim.effects` returns.
    metric : str
    facet : {"ward", "group"}
        One panel per ward (the other dimension at "all") or per group.
    facets : list of str, optional
        The panels; default "all" then the labels with the largest effects, up to 12.
    scenarios, points : optional
        Restrict to these counterfactuals / sweep points.
    real : bool, default False
        Plot ``difference_real`` (real residents) instead of per-resident differences.

    Returns
    -------
    numpy array of matplotlib.axes.Axes, one per panel (flattened).
    """
    import matplotlib.pyplot as plt

    if facet not in FACETS:
        raise ValueError(f"facet must be 'ward' or 'group'; got {facet!r}")
    other = "group" if facet == "ward" else "ward"
    rows = _effect_rows(frame, metric)
    rows = _chosen(_chosen(rows, "scenario", scenarios), "point", points)
    rows = rows[rows[other] == "all"]
    value, low, high, units = (("difference_real", "real_ci_low", "real_ci_high", "real_units") if real
                               else ("difference", "ci_low", "ci_high", "units"))
    if real and (value not in rows or rows[value].isna().all()):
        raise ValueError(f"{metric} has no real-resident scaling (levels such as warmth do not scale); use real=False")
    labels = _default_facets(rows, facet, value) if facets is None else list(facets)
    rows = _chosen(rows, facet, labels)
    n = len(labels)
    ncols = min(columns, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.8 * nrows), squeeze=False, sharex=True,
                             layout="constrained")
    axes = axes.ravel()
    runs = rows[["scenario", "point"]].drop_duplicates().values.tolist()
    points_count = rows["point"].nunique()
    for ax, label in zip(axes, labels):
        for k, (scenario, point) in enumerate(runs):
            cell = rows[(rows[facet] == label) & (rows.scenario == scenario) & (rows.point == point)].sort_values("time")
            colour = f"C{k}"
            ax.plot(cell["time"].values, cell[value].values, color=colour, label=_run_label(rows, scenario, point, points_count))
            ax.fill_between(cell["time"].values, cell[low].values, cell[high].values, color=colour, alpha=BAND_ALPHA,
                            linewidth=0)
            if "flagged" in cell and cell["flagged"].any():
                ax.plot(cell["time"].values[-1:], cell[value].values[-1:], "x", color=colour)
        ax.axhline(0, color="0.4", linewidth=0.8)
        ax.set_title(str(label), fontsize="small")
        ax.set_ylabel(f"difference ({rows[units].iloc[0]})" if rows[units].iloc[0] else "difference", fontsize="small")
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small", frameon=False)
    name = METRIC_NAMES.get(metric, metric)
    replicates = _replicates_phrase(rows["n"].iloc[0]) if "n" in rows else ""
    fig.suptitle(f"Effect on {name} (counterfactual − baseline)\n{replicates}; shaded: confidence interval; "
                 f"×: flagged (see the table's flag columns)", fontsize="medium")
    return axes[:n]


def _default_facets(rows: pd.DataFrame, facet: str, value: str) -> list:
    """"all" first, then the labels whose last effect is largest in size."""
    last = rows[rows["time"] == rows["time"].max()]
    labelled = last[last[facet] != "all"]
    sizes = labelled[value].abs().groupby(labelled[facet]).max()
    ranked = sizes.sort_values(ascending=False).index.tolist()
    return (["all"] if (rows[facet] == "all").any() else []) + ranked[:MAX_FACETS - 1]


def forest_plot(frame: pd.DataFrame, metric: str = "outgroup_warmth", scenario=None, point=None, time=None,
                group: str = "all", real: bool = False, ax=None):
    """Each ward's effect at one record with its interval (a forest plot), city first.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table :func:`contactsim.effects` returns.
    metric : str
    scenario, point : optional
        Which counterfactual and sweep point; required when the table holds several (effects of
        different policies are never drawn as one).
    time : date, optional
        The record; default the last.
    group : str, default "all"
    real : bool, default False
        Real residents instead of per-resident differences.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = _effect_rows(frame, metric)
    rows = _chosen(_chosen(rows, "scenario", scenario), "point", point)
    for column in ("scenario", "point"):
        if rows[column].nunique() > 1:
            raise ValueError(f"the table holds several {column}s ({', '.join(map(str, rows[column].unique()))}); "
                             f"pass {column}= one of them: a forest plot shows one comparison")
    rows = _chosen(rows, "group", group)
    when = rows["time"].max() if time is None else pd.Timestamp(time)
    rows = rows[rows["time"] == when]
    if rows.empty:
        raise ValueError(f"no rows at {time}; the table's records end on "
                         f"{', '.join(str(t)[:10] for t in sorted(frame['time'].unique()))}")
    value, low, high, units = (("difference_real", "real_ci_low", "real_ci_high", "real_units") if real
                               else ("difference", "ci_low", "ci_high", "units"))
    city = rows[rows["ward"] == "all"]
    wards = rows[rows["ward"] != "all"].sort_values(value)
    ordered = pd.concat([wards, city])  # city at the top
    ax = _axes(ax, figsize=(7, 1.5 + 0.22 * len(ordered)))
    y = np.arange(len(ordered))
    flagged = ordered["flagged"].values if "flagged" in ordered else np.zeros(len(ordered), dtype=bool)
    for mask, style in ((~flagged, dict(color="C0", marker="o")),
                        (flagged, dict(color="0.6", marker="o", markerfacecolor="white"))):
        if mask.any():
            part = ordered[mask]
            ax.errorbar(part[value], y[mask], xerr=[part[value] - part[low], part[high] - part[value]],
                        linestyle="none", capsize=2, **style)
    ax.axvline(0, color="0.4", linewidth=0.8)
    ax.set_yticks(y, [CITY_LABEL if w == "all" else str(w) for w in ordered["ward"]], fontsize="small")
    unit = ordered[units].iloc[0] if units in ordered else ""
    ax.set_xlabel(f"counterfactual − baseline ({unit})" if unit else "counterfactual − baseline")
    name = METRIC_NAMES.get(metric, metric)
    replicates = _replicates_phrase(ordered["n"].iloc[0]) if "n" in ordered else ""
    who = "" if group == "all" else f", {group}"
    ax.set_title(_title(f"Effect on {name} by ward{who}, {str(when)[:10]}",
                        f"{ordered['scenario'].iloc[0]} vs baseline, {replicates}; grey, hollow: flagged"),
                 fontsize="medium")
    return ax
