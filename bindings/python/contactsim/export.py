"""Tidy (long) CSV export of a run or an ensemble, for R, Stata and spreadsheets.

One row per value: ``metric`` (the series name), ``time`` (ISO date, end of the record period),
one column per dimension a series may have (``ward``, ``group``, ``target_group``,
``venue_type``, ``spatial_unit``; empty where a series lacks it), ``value`` and ``units``. An
ensemble adds ``scenario``, ``point``, the sweep's parameters and ``replicate`` in front.

The numbers come through the package's own readers (:func:`contactsim.open_results`), the same
path every analysis in Python takes, so labels and the cut to complete records are the same.
Run as ``python3 -m contactsim export RUN.h5|ENSEMBLE.h5 -o FILE.csv [--force]``.

``-o FILE.nc`` writes netCDF-4 instead (:func:`export_netcdf`): the same Dataset with CF time
(``days since 1970-01-01``), which ``xr.open_dataset``, ``ncdump`` and R's ncdf4 read as dates.
The run files themselves keep ISO-string dates (their readers and checkpoints rely on them), so
their ``series`` group opens with h5netcdf but its time comes back as bytes.
"""
from __future__ import annotations

import os
import pathlib
from typing import Iterator, Optional, Sequence, Union

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from ._publish import check_output, existing_source, is_ensemble, publishing
from .results import _strings, open_results, read_events

__all__ = ["export", "export_csv", "export_netcdf", "ExportError", "DIMENSION_COLUMNS"]

PathLike = Union[str, "os.PathLike[str]"]
DIMENSION_COLUMNS = ("ward", "group", "target_group", "venue_type", "spatial_unit")


class ExportError(ValueError):
    """Bad input or an output that must not be written; the message names the file."""


def _long(da: xr.DataArray, name: str) -> pd.DataFrame:
    """One series as rows: metric, time, every dimension column, value, units."""
    frame = da.drop_vars([c for c in da.coords if c not in da.dims]).to_dataframe(name="value").reset_index()
    out = pd.DataFrame({"metric": np.full(len(frame), name, dtype=object),
                        "time": frame["time"].dt.strftime("%Y-%m-%d") if "time" in frame else ""})
    for column in DIMENSION_COLUMNS:
        out[column] = frame[column].values if column in frame else ""
    out["value"] = _as_text(frame["value"].values)
    out["units"] = da.attrs.get("units", "")
    return out


def _as_text(values: np.ndarray) -> np.ndarray:
    """Floats as the shortest text that reads back to the same float32/float64 (what h5dump
    shows, not 0.5924799442291260 for a float32 0.59247994); NaN as an empty field (NA in R and
    Stata). Integers are left to the CSV writer."""
    if values.dtype.kind != "f":
        return values
    text = values.astype(str)
    text[np.isnan(values)] = ""
    return text


def _run_frames(path: pathlib.Path, series: Optional[Sequence[str]]) -> Iterator[pd.DataFrame]:
    ds = open_results(path)
    names = list(ds.data_vars) if series is None else list(series)
    unknown = [n for n in names if n not in ds.data_vars]
    if unknown:
        raise ExportError(f"{path}: no series {', '.join(unknown)}; the file holds: {', '.join(ds.data_vars)}")
    for name in names:
        yield _long(ds[name], name)


def _ensemble_runs(master: pathlib.Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The master's /runs (scenario, point, replicate, file) and /design (point → parameters)."""
    with h5py.File(master, "r") as f:
        runs = {k: _strings(v) if v.dtype.kind in "OSU" else v for k, v in
                ((name, f["runs"][()][name]) for name in f["runs"].dtype.names)}
        design = {name: f["design"][()][name] for name in f["design"].dtype.names} if "design" in f else {}
    return pd.DataFrame(runs), pd.DataFrame(design)


def _ensemble_frames(master: pathlib.Path, series) -> Iterator[pd.DataFrame]:
    runs, design = _ensemble_runs(master)
    parameters = [c for c in design.columns if c != "point"]
    folder = master.parent
    for run in runs.itertuples(index=False):
        file = folder / run.file
        if not file.is_file():
            raise ExportError(f"{master}: run {run.name} is listed but its file {file} is missing")
        values = design[design["point"] == run.point].iloc[0] if parameters else {}
        for frame in _run_frames(file, series):
            frame.insert(0, "replicate", int(run.replicate))
            for k, name in enumerate(parameters):
                frame.insert(k, name, float(values[name]))
            frame.insert(0, "point", int(run.point))
            frame.insert(0, "scenario", str(run.scenario))
            yield frame


def export_csv(source: PathLike, output: PathLike, force: bool = False,
               series: Optional[Sequence[str]] = None) -> pathlib.Path:
    """Write `source` (a run's output or an ensemble's master file) as a long CSV at `output`.

    The CSV is written as ``<output>.partial`` and renamed when complete, so `output` is never
    half written. An existing `output` is refused unless `force`. `series` limits the metrics.
    Returns the output path.
    """
    source, output = existing_source(source), pathlib.Path(output)
    frames = _ensemble_frames(source, series) if is_ensemble(source, ExportError) else _run_frames(source, series)
    check_output(source, output, force, ExportError)
    with publishing(output) as partial, open(partial, "w", encoding="utf-8", newline="") as out:
        header = True
        for frame in frames:
            frame.to_csv(out, index=False, header=header)
            header = False
    return output


NETCDF_FORMAT = "contactsim-netcdf-1"
NETCDF_SUFFIXES = (".nc", ".nc4")
# The run file's own CF time (/series/time, core/recorder.cpp): one encoding in both files.
CF_TIME = {"units": "days since 1970-01-01", "calendar": "proleptic_gregorian", "dtype": "int64"}


def _events_dataset(path: pathlib.Path) -> xr.Dataset:
    """/events as a netCDF group: one `event` dimension, dates as CF time."""
    events = read_events(path)
    data = {column: ("event", events[column].to_numpy(dtype=object if events[column].dtype == object else None))
            for column in events.columns}
    return xr.Dataset(data)


def export_netcdf(source: PathLike, output: PathLike, force: bool = False) -> pathlib.Path:
    """Write `source` (a run or an ensemble) as netCDF-4 at `output`, time as CF numeric dates.

    A run gives the root group (every series, labels as coordinates, provenance attributes) and an
    ``events`` group; an ensemble gives :func:`contactsim.open_ensemble`'s Dataset. The root
    attribute ``format`` becomes ``contactsim-netcdf-1`` (``source_file`` names the original), so
    the copy is never taken for a run's output. Written as ``<output>.partial``, then renamed.
    """
    from .ensemble import open_ensemble

    source, output = existing_source(source), pathlib.Path(output)
    ensemble = is_ensemble(source, ExportError)
    ds = open_ensemble(source) if ensemble else open_results(source)
    check_output(source, output, force, ExportError)
    ds.attrs = {**ds.attrs, "format": NETCDF_FORMAT, "source_file": str(source)}
    with publishing(output) as partial:
        ds.to_netcdf(partial, engine="h5netcdf", encoding={"time": CF_TIME})
        if not ensemble:
            events = _events_dataset(source)
            encoding = {"date": CF_TIME} if events.sizes.get("event", 0) else {}
            events.to_netcdf(partial, mode="a", group="events", engine="h5netcdf", encoding=encoding)
    return output


def export(source: PathLike, output: PathLike, force: bool = False,
           series: Optional[Sequence[str]] = None) -> pathlib.Path:
    """CSV or netCDF by the output's suffix (``.nc``/``.nc4``: netCDF; anything else: CSV)."""
    if pathlib.Path(output).suffix.lower() in NETCDF_SUFFIXES:
        if series is not None:
            raise ExportError(f"{output}: --series applies to CSV; a netCDF export holds every series")
        return export_netcdf(source, output, force)
    return export_csv(source, output, force, series)
