"""The notebooks in notebooks/: stored with the outputs of a fast-mode execution (`make
notebooks`) and cells in step with make_notebooks.py, and each one runs end to end in fast
mode — its own last code cell asserts that the numbers make sense (contacts counted, intervals
finite, pairing narrows intervals, ...) — writing the files it promises.

Run through ctest (PYTHONPATH points at the built package), or by hand:
    PYTHONPATH=build/python HDF5_USE_FILE_LOCKING=FALSE /usr/bin/python3 -m pytest -q tests/python/test_notebooks.py
"""
import importlib.util
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS_DIR = pathlib.Path(__file__).resolve().parents[2] / "notebooks"

# Files each notebook writes to CONTACTSIM_NOTEBOOK_OUTPUT in fast mode.
EXPECTED_OUTPUTS = {
    "01_quickstart": ["01_quickstart.h5", "01_quickstart_events.h5"],
    "02_funding_cuts_counterfactual": [f"02_{name}_r{r}.h5" for name in ("baseline", "cut") for r in range(4)]
    + ["02_ward_effects.csv", "02_city_effects.csv"],
    "03_segregation": ["03_no_r0.h5", "03_default_r0.h5", "03_less_r0.h5", "03_segregation_summary.csv"],
    "04_youth_programme_evaluation": ["04_youth_programme.h5", "04_effects.csv",
                                      "04_effects_by_ward_segregation.csv"],
    "05_calibration": ["05_calibration_history.csv", "05_calibration_fit.csv"],
    "06_baseline_calibration": ["06/baseline_spin_up_1095.h5", "06/baseline_spin_up_0.h5"],
}
NOTEBOOKS = sorted(EXPECTED_OUTPUTS)
CHECKS_PASSED = "all checks passed"
# What a code host renders comfortably; the stored notebooks are a few hundred kB.
MAX_STORED_BYTES = 1_500_000


def load_generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS_DIR / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()


def read(name):
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def has_png(outputs_):
    return any("image/png" in out.get("data", {}) for out in outputs_)


def test_generator_writes_these_notebooks():
    """make_notebooks.py owns exactly the notebooks tested here (others in the folder have their own)."""
    assert sorted(GENERATOR.NOTEBOOKS) == NOTEBOOKS
    for name in NOTEBOOKS:
        assert (NOTEBOOKS_DIR / f"{name}.ipynb").is_file(), f"notebooks/{name}.ipynb is missing"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_executed(name):
    """Stored as one fast-mode execution left it (`make notebooks`): every code cell run once, in
    order, without errors, with a figure; small, and naming no path on this machine."""
    nb = read(name)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{name}: no code cells"
    counts = [cell.get("execution_count") for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"{name}: not executed in one run (`make notebooks`): {counts}"
    stored = outputs(nb)
    assert not [out for out in stored if out.output_type == "error"], f"{name}: stored with an error"
    assert has_png(stored), f"{name}: no PNG figure stored"
    text = (NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    assert len(text.encode()) < MAX_STORED_BYTES, f"{name}: {len(text.encode()):,} bytes"
    for machine_path in (str(NOTEBOOKS_DIR.parent), "site-packages", "dist-packages"):
        assert machine_path not in text, f"{name}: an output names a path on this machine ({machine_path})"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_in_step_with_generator(name):
    """Without its outputs the .ipynb is exactly what make_notebooks.py writes (edit the
    generator, then `make notebooks`)."""
    assert GENERATOR.stored_source(name) == GENERATOR.render(name), (
        f"notebooks/{name}.ipynb differs from notebooks/make_notebooks.py: run `make notebooks`")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_structure(name):
    """Question and caveats first, the full-run flag read, assertions last, then what it shows."""
    nb = read(name)
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and "**Question.**" in first.source
    assert "illustrative" in first.source
    assert last.cell_type == "markdown" and "What this shows / limits" in last.source
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert 'os.environ.get("CONTACTSIM_NOTEBOOK_FULL") == "1"' in code[0]
    assert "CONTACTSIM_NOTEBOOK_OUTPUT" in code[0]
    assert code[-1].count("assert ") >= 5 and CHECKS_PASSED in code[-1]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_executes(name, tmp_path):
    """Run the notebook in fast mode with its directory as the working directory, as `make
    notebooks` does; the stored notebook holds outputs wherever this run gives some."""
    output = tmp_path / "results"
    try:
        nb = GENERATOR.execute(name, output=output)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{name} failed:\n{error}")

    fresh = outputs(nb)
    errors = [out for out in fresh if out.output_type == "error"]
    assert not errors, f"{name}: error outputs: {[(e.ename, e.evalue) for e in errors]}"
    assert has_png([out for out in fresh if out.output_type == "display_data"]), f"{name}: drew no figure"
    last_code = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    printed = "".join(out.get("text", "") for out in last_code.outputs if out.output_type == "stream")
    assert CHECKS_PASSED in printed, f"{name}: the sanity-check cell did not finish: {printed!r}"
    for file_name in EXPECTED_OUTPUTS[name]:
        path = output / file_name
        assert path.is_file() and path.stat().st_size > 0, f"{name}: {file_name} was not written"
    assert_stored_like(name, nb)


def assert_stored_like(name, executed):
    """Every cell with outputs here has outputs stored, a figure wherever this run drew one."""
    stored = {cell.id: cell for cell in read(name).cells}
    for cell in executed.cells:
        if cell.cell_type != "code" or not cell.outputs:
            continue
        kept = stored.get(cell.id)
        assert kept is not None and kept.outputs, (
            f"{name}: cell {cell.id} gives outputs but is stored without: run `make notebooks`")
        assert has_png(kept.outputs) or not has_png(cell.outputs), (
            f"{name}: cell {cell.id} draws a figure the stored notebook lacks: run `make notebooks`")
