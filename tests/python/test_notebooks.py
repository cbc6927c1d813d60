"""The notebooks in notebooks/: stored without outputs and in step with make_notebooks.py, and
each one runs end to end in fast mode — its own last code cell asserts that the numbers make
sense (contacts counted, intervals finite, pairing narrows intervals, ...) — writing the files
it promises.

Run through ctest (PYTHONPATH points at the built package), or by hand:
    PYTHONPATH=build/python HDF5_USE_FILE_LOCKING=FALSE /usr/bin/python3 -m pytest -q tests/python/test_notebooks.py
"""
import importlib.util
import pathlib
import time

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


def load_generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS_DIR / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(name):
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def test_generator_writes_these_notebooks():
    """make_notebooks.py owns exactly the notebooks tested here (others in the folder have their own)."""
    assert sorted(load_generator().NOTEBOOKS) == NOTEBOOKS
    for name in NOTEBOOKS:
        assert (NOTEBOOKS_DIR / f"{name}.ipynb").is_file(), f"notebooks/{name}.ipynb is missing"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_without_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{name}: no code cells"
    for cell in code:
        assert cell.get("outputs") == [], f"{name}: cell {cell.get('id')} is stored with outputs"
        assert cell.get("execution_count") is None, f"{name}: cell {cell.get('id')} has an execution count"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_in_step_with_generator(name):
    """The .ipynb is exactly what make_notebooks.py writes (edit the generator, then rerun it)."""
    generator = load_generator()
    stored = (NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    assert stored == generator.render(name), (
        f"notebooks/{name}.ipynb differs from notebooks/make_notebooks.py: run "
        "`/usr/bin/python3 notebooks/make_notebooks.py`")


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
def test_executes(name, tmp_path, monkeypatch):
    """Run the notebook in fast mode with its directory as the working directory."""
    output = tmp_path / "results"
    monkeypatch.setenv("CONTACTSIM_NOTEBOOK_OUTPUT", str(output))
    monkeypatch.delenv("CONTACTSIM_NOTEBOOK_FULL", raising=False)
    monkeypatch.setenv("HDF5_USE_FILE_LOCKING", "FALSE")
    monkeypatch.delenv("MPLBACKEND", raising=False)        # the kernel's inline backend draws the figures
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = read(name)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    started = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{name} failed:\n{error}")
    elapsed = time.perf_counter() - started
    print(f"{name}: executed in {elapsed:.1f} s")

    outputs = [(cell, out) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    errors = [out for _, out in outputs if out.output_type == "error"]
    assert not errors, f"{name}: error outputs: {[(e.ename, e.evalue) for e in errors]}"
    images = [out for _, out in outputs if out.output_type == "display_data" and "image/png" in out.get("data", {})]
    assert images, f"{name}: drew no figure"
    last_code = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    printed = "".join(out.get("text", "") for out in last_code.outputs if out.output_type == "stream")
    assert CHECKS_PASSED in printed, f"{name}: the sanity-check cell did not finish: {printed!r}"
    for file_name in EXPECTED_OUTPUTS[name]:
        path = output / file_name
        assert path.is_file() and path.stat().st_size > 0, f"{name}: {file_name} was not written"
