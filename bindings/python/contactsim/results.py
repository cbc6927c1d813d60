"""Reading contactsim's HDF5 output into xarray and pandas.

The file layout is the contract described in the README ("Output (HDF5)"). Everything here
needs only numpy, h5py, pandas and xarray, so results can be read on a machine without the
compiled module.

Files are small (a city run is a few MB), so readers load everything eagerly and close the
file before returning: no HDF5 handle outlives a call, and a run may write a new file of
the same name afterwards.
"""
from __future__ import annotations

import errno
import os
import pathlib
import re
from collections.abc import Iterable, Sequence
from typing import Union

import h5py
import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["open_results", "read_table", "read_events", "concat_replicates", "contact_matrix", "as_dataset",
           "agent_snapshot_dates", "read_agents", "record_dates"]

PathLike = Union[str, os.PathLike]
DataLike = Union[xr.Dataset, PathLike, Sequence]

FORMAT_PREFIX = "contactsim-output"
TABLES = ("groups", "wards", "venue_types", "venues", "events")
EVENT_COLUMNS = ("date", "kind", "subject", "detail", "venues_affected")
CONTACT_MATRIX_KINDS = ("positive", "negative", "both")


# ----------------------------------------------------------------------------- decoding

def _decode(value):
    """HDF5 attribute or element → plain Python (str, int, float, bool, or list of those)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_decode(v) for v in value.tolist()] if value.ndim else _decode(value[()])
    if isinstance(value, np.generic):
        return _decode(value.item())
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _strings(values) -> np.ndarray:
    """Array of HDF5 strings (bytes, fixed or variable length) → numpy array of str."""
    return np.array([_decode(v) for v in np.asarray(values).tolist()], dtype=object).astype(str)


# ----------------------------------------------------------------------------- opening

def _source(path: PathLike) -> pathlib.Path:
    """Check that `path` is an existing contactsim output; return it as a Path."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "contactsim results file not found", str(path))
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path}: not an HDF5 file (expected a contactsim output written by `contactsim run`)")
    return path


def _check_format(f: h5py.File, path: pathlib.Path) -> None:
    fmt = _decode(f.attrs.get("format", ""))
    if not isinstance(fmt, str) or not fmt.startswith(FORMAT_PREFIX):
        found = f"format attribute {fmt!r}" if "format" in f.attrs else "no format attribute"
        raise ValueError(f"{path}: not a contactsim output ({found}; expected a root attribute "
                         f"format = '{FORMAT_PREFIX}-N', as written by `contactsim run`)")


def _open(path: PathLike) -> tuple[h5py.File, pathlib.Path]:
    path = _source(path)
    try:
        f = h5py.File(path, "r")
    except OSError:
        # A killed run's OUT.partial keeps HDF5's "open for SWMR writing" mark, which only an
        # SWMR reader opens (as `contactsim info` does); its `complete` attribute is 0.
        f = h5py.File(path, "r", swmr=True)
    try:
        _check_format(f, path)
    except Exception:
        f.close()
        raise
    return f, path


# ----------------------------------------------------------------------------- series

def _is_scale(dset: h5py.Dataset) -> bool:
    return _decode(dset.attrs.get("CLASS", "")) == "DIMENSION_SCALE"


def _dimension_names(dset: h5py.Dataset, path: pathlib.Path) -> list[str]:
    """Axis names of a series: its `dimensions` attribute (comma-separated), else the HDF5 labels."""
    raw = _decode(dset.attrs.get("dimensions", ""))
    if isinstance(raw, str):
        names = [n.strip() for n in raw.split(",") if n.strip()]
    else:
        names = [str(n).strip() for n in raw]
    if not names:
        names = [dim.label for dim in dset.dims]
    if len(names) != dset.ndim or not all(names):
        raise ValueError(f"{path}: {dset.name} has shape {dset.shape} but dimensions {names!r}")
    return names


def _scale_labels(dset: h5py.Dataset, axis: int, name: str, series: h5py.Group):
    """Labels of one axis: the attached dimension scale, else /series/<name>, else None."""
    scales = list(dset.dims[axis].values())
    if scales:
        return scales[0][()]
    if name in series and _is_scale(series[name]):
        return series[name][()]
    return None


# pandas and xarray hold times as datetime64[ns], which covers only these dates: converting one
# outside would silently wrap it (9999-12-31 became 1816-03-29).
_FIRST_DATE = np.datetime64(pd.Timestamp.min.ceil("D").date(), "D")
_LAST_DATE = np.datetime64(pd.Timestamp.max.floor("D").date(), "D")


_CF_DAYS = re.compile(r"days since (\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?")


def record_dates(time: h5py.Dataset) -> np.ndarray:
    """A run's /series/time as datetime64[D].

    Format 2 stores CF time (integer days since 1970-01-01, with `units` and `calendar`
    attributes), which netCDF readers decode by themselves; format 1 stored ISO strings.
    """
    if time.dtype.kind in "iu":
        units = str(_decode(time.attrs.get("units", b"")))
        match = _CF_DAYS.fullmatch(units)
        if match is None:
            raise ValueError(f"{time.file.filename}: {time.name} has units {units!r}, expected 'days since YYYY-MM-DD'")
        return np.datetime64(match[1], "D") + time[()].astype("timedelta64[D]")
    return _strings(time[()]).astype("datetime64[D]")


def _datetimes(texts: np.ndarray, path: pathlib.Path, where: str) -> np.ndarray:
    """ISO dates (or datetime64[D]) as datetime64[ns]; a ValueError naming the file for a date pandas cannot hold."""
    days = np.asarray(texts).astype("datetime64[D]")
    outside = (days < _FIRST_DATE) | (days > _LAST_DATE)
    if outside.any():
        raise ValueError(f"{path}: {where} holds the date {days[outside][0]}, outside the dates pandas can represent "
                         f"({_FIRST_DATE} to {_LAST_DATE}); read it with h5py to see it as text")
    return days.astype("datetime64[ns]")


def _read_series(f: h5py.File, path: pathlib.Path) -> xr.Dataset:
    if "series" not in f or "time" not in f["series"]:
        raise ValueError(f"{path}: no /series/time (not a contactsim output, or written before its first record)")
    series = f["series"]
    # /series/time is written last in each record, so its length is the number of complete
    # records; a run killed mid-flush may leave longer series, which we cut back to it.
    records = series["time"].shape[0]
    dates = _datetimes(record_dates(series["time"]), path, "/series/time")
    coords: dict[str, np.ndarray] = {"time": dates}
    variables = {}
    for name, dset in series.items():
        if not isinstance(dset, h5py.Dataset) or _is_scale(dset):
            continue
        dims = _dimension_names(dset, path)
        index = tuple(slice(0, records) if d == "time" else slice(None) for d in dims)
        if "time" in dims and dset.shape[dims.index("time")] < records:
            raise ValueError(f"{path}: {dset.name} holds {dset.shape[dims.index('time')]} records, "
                             f"fewer than /series/time's {records}")
        values = dset[index]
        for axis, dim in enumerate(dims):
            if dim in coords:
                continue
            labels = _scale_labels(dset, axis, dim, series)
            if labels is not None:
                coords[dim] = _strings(labels)
        attrs = {key: _decode(dset.attrs[key]) for key in ("description", "units") if key in dset.attrs}
        variables[name] = xr.Variable(dims, values, attrs=attrs)
    return xr.Dataset(variables, coords=coords)


def _table_column(f: h5py.File, table: str, column: str, labels: np.ndarray) -> np.ndarray | None:
    """Column of a /table aligned with coordinate `labels` by the table's `name` column."""
    fields = f[table].dtype.names or () if table in f else ()
    if "name" not in fields or column not in fields:
        return None
    rows = f[table][()]
    lookup = dict(zip(_strings(rows["name"]), _strings(rows[column])))
    return np.array([lookup.get(label, "") for label in labels], dtype=object).astype(str)


def open_results(path: PathLike) -> xr.Dataset:
    """Read a contactsim output file into an in-memory :class:`xarray.Dataset`.

    Parameters
    ----------
    path : str or os.PathLike
        HDF5 file written by ``contactsim run``.

    Returns
    -------
    xarray.Dataset
        One variable per series in ``/series``, with the dimension names the file declares
        (``time``, ``ward``, ``group``, ``target_group``, ``venue_type``, ``spatial_unit``).
        ``time`` holds the end date of each record period (``datetime64[ns]``); other index
        coordinates hold string labels. ``ward_code`` (on ``ward``) and ``group_label`` (on
        ``group``) come from the ``/wards`` and ``/groups`` tables. Each variable's attrs
        hold ``description`` and ``units``; ``ds.attrs`` holds the root provenance attributes
        (``seed``, ``replicate``, ``scenario_text``, ...) as plain Python values.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If `path` is not a contactsim output.

    Notes
    -----
    Only complete records are returned: every series is cut to the length of
    ``/series/time``, which a run writes last in each record.
    """
    f, source = _open(path)
    with f:
        ds = _read_series(f, source)
        if "ward" in ds.coords:
            codes = _table_column(f, "wards", "code", ds["ward"].values)
            if codes is not None:
                ds = ds.assign_coords(ward_code=("ward", codes))
        if "group" in ds.coords:
            labels = _table_column(f, "groups", "label", ds["group"].values)
            if labels is not None:
                ds = ds.assign_coords(group_label=("group", labels))
        ds.attrs = {key: _decode(value) for key, value in f.attrs.items()}
    ds.encoding["source"] = str(source)
    return ds


def as_dataset(data: DataLike) -> xr.Dataset:
    """A Dataset from a Dataset, a path, or a sequence of either (combined as replicates)."""
    if isinstance(data, xr.Dataset):
        return data
    if isinstance(data, (str, os.PathLike)):
        return open_results(data)
    if isinstance(data, Iterable):
        return concat_replicates(list(data))
    raise TypeError(f"expected an xarray.Dataset, a path or a list of them, got {type(data).__name__}")


def _name(ds: xr.Dataset) -> str:
    """How to name a dataset in error messages: its source file when known."""
    return ds.encoding.get("source") or "dataset"


# ----------------------------------------------------------------------------- tables

def _empty_events() -> pd.DataFrame:
    return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"),
                         "kind": pd.Series([], dtype=object), "subject": pd.Series([], dtype=object),
                         "detail": pd.Series([], dtype=object),
                         "venues_affected": pd.Series([], dtype="int64")})


def _frame(rows: np.ndarray) -> pd.DataFrame:
    columns = {}
    for column in rows.dtype.names:
        values = rows[column]
        if values.dtype.kind in "OSU":
            columns[column] = pd.Series(_strings(values), dtype=object)
        else:
            columns[column] = pd.Series(values)
    return pd.DataFrame(columns)


def read_table(path: PathLike, name: str) -> pd.DataFrame:
    """Read one table (``groups``, ``wards``, ``venue_types``, ``venues`` or ``events``).

    Parameters
    ----------
    path : str or os.PathLike
        contactsim output file.
    name : str
        Table name: a compound dataset at the file's root.

    Returns
    -------
    pandas.DataFrame
        One column per field, strings decoded to ``str``. ``events`` is returned as stored
        (``date`` as ISO strings; see :func:`read_events`), and empty when the run logged none.
    """
    f, source = _open(path)
    with f:
        tables = sorted(k for k, v in f.items() if isinstance(v, h5py.Dataset) and v.dtype.names)
        if name not in tables:
            if name == "events":
                # /events only appears once something has happened.
                frame = _empty_events()
                frame["date"] = frame["date"].astype(object)
                return frame
            raise ValueError(f"{source}: no table {name!r}; tables in this file: {', '.join(tables)}")
        return _frame(f[name][()])


def read_events(path: PathLike) -> pd.DataFrame:
    """Read ``/events`` with ``date`` parsed to ``datetime64[ns]``.

    Returns an empty frame with columns ``date, kind, subject, detail, venues_affected`` when
    the run logged no event.
    """
    frame = read_table(path, "events")
    if frame.empty:
        return _empty_events()
    frame["date"] = _datetimes(frame["date"].to_numpy(dtype=str), pathlib.Path(path), "/events/date")
    return frame


# ----------------------------------------------------------------------------- agent snapshots

AGE_BAND_NAMES = ("child", "youth", "adult", "older")


def _snapshot_dates(f: h5py.File) -> list[str]:
    """Dates of the complete snapshots: /agents/date is extended after each snapshot's arrays, so
    rows of the arrays beyond it (a run killed mid-snapshot) are ignored."""
    if "agents" not in f or "date" not in f["agents"]:
        return []
    return [str(d) for d in _strings(f["agents"]["date"][()])]


def agent_snapshot_dates(path: PathLike) -> list[str]:
    """ISO dates of the agent snapshots in `path` (``[record.agents]`` in the scenario), oldest first."""
    f, _ = _open(path)
    with f:
        return _snapshot_dates(f)


def read_agents(path: PathLike, date) -> pd.DataFrame:
    """One agent snapshot (``/agents/<field>[k]`` for the date's row k) as a DataFrame indexed by
    resident slot.

    Parameters
    ----------
    path : str or os.PathLike
        contactsim output written with ``[record.agents]`` in the scenario.
    date : str or datetime.date
        A snapshot date (see :func:`agent_snapshot_dates`).

    Returns
    -------
    pandas.DataFrame
        Index ``slot`` (the panel's resident slots); columns ``group``, ``ward`` and
        ``age_band`` (names), ``block``, ``english``, ``anxiety``, one ``warmth_<group>`` column
        per group, ``positive_memory``, ``negative_memory`` and, when those mechanisms ran,
        ``friends``, ``cross_group_friends``, ``knowledge`` and ``trust``. ``frame.attrs`` holds
        the panel's attributes (``sample``, ``interval``, ``residents``, ``sampled``,
        ``selection``) and the ``date``.
    """
    iso = date.isoformat() if hasattr(date, "isoformat") else str(date)
    f, source = _open(path)
    with f:
        dates = _snapshot_dates(f)
        if iso not in dates:
            available = ", ".join(dates) if dates else "none (the scenario has no [record.agents])"
            raise KeyError(f"{source}: no agent snapshot for {iso}; snapshots: {available}")
        k = dates.index(iso)
        agents = f["agents"]
        groups = _strings(f["groups"]["name"])
        wards = _strings(f["wards"]["name"])
        columns = {
            "group": groups[agents["group"][k]],
            "ward": wards[agents["ward"][k]],
            "age_band": np.array(AGE_BAND_NAMES, dtype=object)[agents["age_band"][k]],
        }
        for name in ("block", "english", "anxiety"):
            columns[name] = agents[name][k]
        warmth = agents["warmth"][k]
        for g, group in enumerate(groups):
            columns[f"warmth_{group}"] = warmth[:, g]
        for name in ("positive_memory", "negative_memory", "friends", "cross_group_friends", "knowledge", "trust"):
            if name in agents:
                columns[name] = agents[name][k]
        frame = pd.DataFrame(columns, index=pd.Index(agents["slot"][()], name="slot"))
        frame.attrs = {name: _decode(value) for name, value in agents.attrs.items()}
        frame.attrs["date"] = iso
        return frame


# ----------------------------------------------------------------------------- replicates

INDEX_DIMS_CHECKED_FIRST = ("time", "ward", "group")


def _check_coords(datasets: list[xr.Dataset], names: list[str]) -> None:
    first = datasets[0]
    dims = list(INDEX_DIMS_CHECKED_FIRST) + sorted(set(first.indexes) - set(INDEX_DIMS_CHECKED_FIRST))
    for k, ds in enumerate(datasets[1:], start=1):
        for dim in dims + sorted(set(ds.indexes) - set(dims)):
            a, b = first.indexes.get(dim), ds.indexes.get(dim)
            if a is None and b is None:
                continue
            if a is None or b is None or not a.equals(b):
                raise ValueError(f"concat_replicates: coordinate {dim!r} differs between {names[0]} and "
                                 f"{names[k]}: {_describe_index(a)} vs {_describe_index(b)}")
        if set(ds.data_vars) != set(first.data_vars):
            extra = sorted(set(ds.data_vars) ^ set(first.data_vars))
            raise ValueError(f"concat_replicates: {names[0]} and {names[k]} hold different series "
                             f"(in one only: {', '.join(extra)}); replicates must come from the same scenario")


def _describe_index(index) -> str:
    if index is None:
        return "absent"
    values = [str(v)[:10] for v in index.values]
    shown = ", ".join(values[:3]) + (", ..." if len(values) > 3 else "")
    return f"{len(values)} labels [{shown}]"


def _replicate_ids(datasets: list[xr.Dataset]) -> np.ndarray:
    ids = [ds.attrs.get("replicate") for ds in datasets]
    if any(not isinstance(i, (int, np.integer)) for i in ids) or len(set(ids)) != len(ids):
        return np.arange(len(datasets))
    return np.array(ids, dtype=np.int64)


def concat_replicates(datasets: Sequence[xr.Dataset | PathLike], dim: str = "replicate") -> xr.Dataset:
    """Stack replicate runs of one scenario along a new leading dimension.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset or paths
        Results from :func:`open_results`, or files to open.
    dim : str, default ``"replicate"``
        Name of the new dimension.

    Returns
    -------
    xarray.Dataset
        Every variable with `dim` first. Its coordinate is each run's ``replicate`` attribute,
        or ``0..n-1`` when those are missing or repeated (e.g. runs differing only in seed);
        a ``seed`` coordinate on `dim` holds each run's seed. Attributes equal in all runs are
        kept; the others (seed, created_utc, ...) are dropped.

    Raises
    ------
    ValueError
        If the runs differ in a coordinate (time, ward, group, ...) or in their series.
    """
    items = list(datasets)
    if not items:
        raise ValueError("concat_replicates: no datasets given")
    names = [str(d) if isinstance(d, (str, os.PathLike)) else None for d in items]
    loaded = [as_dataset(d) if isinstance(d, (str, os.PathLike)) else d for d in items]
    for k, ds in enumerate(loaded):
        if not isinstance(ds, xr.Dataset):
            raise TypeError(f"concat_replicates: item {k} is a {type(ds).__name__}, not a Dataset or path")
        if dim in ds.dims:
            raise ValueError(f"concat_replicates: item {k} already has a {dim!r} dimension")
        names[k] = names[k] or ds.encoding.get("source") or f"dataset {k}"
    _check_coords(loaded, names)

    ids = _replicate_ids(loaded)
    # Labels were checked equal above, so non-index coordinates (ward_code, ...) are taken
    # from the first run rather than repeated along the new dimension.
    combined = xr.concat(loaded, dim=pd.Index(ids, name=dim), coords="minimal", compat="override",
                         combine_attrs="drop_conflicts")
    seeds = [ds.attrs.get("seed") for ds in loaded]
    if all(isinstance(s, (int, np.integer)) for s in seeds):
        combined = combined.assign_coords(seed=(dim, np.array(seeds, dtype=np.int64)))
    for attr in ("seed", "replicate"):
        combined.attrs.pop(attr, None)
    combined = combined.transpose(dim, ...)
    combined.encoding["source"] = ", ".join(names)
    return combined


# ----------------------------------------------------------------------------- contact matrix

def _select_time(da: xr.DataArray, time) -> xr.DataArray:
    """Records selected by `time`: None (all), an index, a date, or a slice of either."""
    if time is None:
        return da
    if isinstance(time, slice):
        bounds = (time.start, time.stop)
        if all(b is None or isinstance(b, (int, np.integer)) for b in bounds):
            return da.isel(time=time)
        return da.sel(time=time)
    if isinstance(time, (int, np.integer)):
        return da.isel(time=[time])
    try:
        return da.sel(time=[np.datetime64(pd.Timestamp(time), "ns")])
    except KeyError:
        dates = ", ".join(str(d)[:10] for d in da["time"].values)
        raise ValueError(f"no record dated {time}; records end on {dates}") from None


def contact_matrix(data: DataLike, kind: str = "both", time=None, share: bool = False) -> xr.DataArray:
    """Intergroup encounters by (group, target_group), summed over a time range.

    Parameters
    ----------
    data : xarray.Dataset, path, or sequence of them
        Results holding ``contact_matrix_positive`` and ``contact_matrix_negative``.
    kind : {"both", "positive", "negative"}
        Which encounters; ``"both"`` adds positive and negative.
    time : None, int, date or slice, optional
        Records to sum: None for the whole run, an index or date for one record, or a slice
        of indices (positional) or dates (inclusive, by label).
    share : bool, default False
        Divide each row by its total, giving the share of `group`'s intergroup encounters
        that were with each `target_group` (NaN for a row without encounters).

    Returns
    -------
    xarray.DataArray
        Dimensions ``(group, target_group)``, plus ``replicate`` if `data` has one.
        Row = the group experiencing the encounter. ``attrs`` hold ``description``, ``units``
        and ``period`` (the end dates of the first and last records summed).

    Raises
    ------
    ValueError
        If the series are absent (outputs written before they were added) or `kind` is unknown.
    """
    if kind not in CONTACT_MATRIX_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CONTACT_MATRIX_KINDS)}; got {kind!r}")
    ds = as_dataset(data)
    wanted = ("positive", "negative") if kind == "both" else (kind,)
    names = [f"contact_matrix_{k}" for k in wanted]
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise ValueError(f"{_name(ds)}: series {', '.join('/series/' + n for n in missing)} missing; the "
                         "contact matrix needs an output written by a contactsim that records it")
    selected = [_select_time(ds[n], time) for n in names]
    if selected[0].sizes["time"] == 0:
        raise ValueError(f"{_name(ds)}: time={time!r} selects no record")
    total = sum(s.sum("time") for s in selected)
    ends = selected[0]["time"].values
    period = f"records ending {str(ends[0])[:10]} to {str(ends[-1])[:10]}"
    total.name = f"contact_matrix_{kind}"
    description = {"both": "Intergroup encounters", "positive": "Positive intergroup encounters",
                   "negative": "Negative intergroup encounters"}[kind]
    if share:
        total = total / total.sum("target_group").where(lambda s: s > 0)
        total.name = f"contact_matrix_{kind}_share"
        total.attrs = {"description": f"{description}: share of group's encounters with each target_group",
                       "units": "share", "period": period}
    else:
        total.attrs = {"description": f"{description} of members of group with members of target_group",
                       "units": "encounters", "period": period}
    return total.transpose(..., "group", "target_group")
