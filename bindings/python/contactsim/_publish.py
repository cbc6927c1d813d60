"""How the Python commands (export, report) read their source and publish their output.

Shared so every file they write follows the CLI's rules: the source is a run's output or an
ensemble's master file, an existing output is refused unless forced, never the source itself,
and nothing is ever left half written under the output's name.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
from typing import Iterator

import h5py

from .results import _decode

ENSEMBLE_FORMAT = "contactsim-ensemble-"


def existing_source(source) -> pathlib.Path:
    """`source` as a path; FileNotFoundError (bad input) when there is no such file."""
    source = pathlib.Path(source)
    if not source.is_file():
        raise FileNotFoundError(2, "contactsim file not found", str(source))
    return source


def is_ensemble(path: pathlib.Path, error: type[Exception]) -> bool:
    """Whether `path` is an ensemble's master file (else it should be a run's output)."""
    if not h5py.is_hdf5(path):
        raise error(f"{path}: not an HDF5 file (expected a run's output or an ensemble's ensemble.h5)")
    with h5py.File(path, "r") as f:
        return str(_decode(f.attrs.get("format", ""))).startswith(ENSEMBLE_FORMAT)


def check_output(source: pathlib.Path, output: pathlib.Path, force: bool, error: type[Exception]) -> None:
    """Refuse `output` when it is the source (`error`, bad input), exists without `force`
    (FileExistsError) or lies in a folder that does not exist (`error`)."""
    if output.exists() and os.path.samefile(output, source):
        raise error(f"{output}: is the file being read; choose another output")
    if output.exists() and not force:
        raise FileExistsError(f"{output}: output file exists; pass --force to overwrite")
    if not output.parent.is_dir():
        raise error(f"{output}: folder {output.parent} does not exist")


@contextlib.contextmanager
def publishing(output: pathlib.Path) -> Iterator[pathlib.Path]:
    """Yields ``<output>.partial`` to write; renamed to `output` only when the block completes,
    removed when it fails, so a reader never finds a half-written file under `output`."""
    partial = output.with_name(output.name + ".partial")
    try:
        yield partial
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
