"""The Makefile's Quick-start targets: `make run` builds only the command it runs (issue 15:
it used to build the test suite and benchmarks too, most of a fresh clone's five minutes)."""
import os
import shutil
import subprocess

import pytest


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(source_dir, *arguments):
    """The commands `make -n ARGUMENTS` would run, one per line (recursive makes only print too).
    As a top-level make even when the suite runs under one (`make test`): an inherited MAKELEVEL
    would add "make[1]: Entering directory" lines."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    dry = subprocess.run(["make", "-n", *arguments], cwd=source_dir, capture_output=True, text=True, timeout=60,
                         env=env)
    assert dry.returncode == 0, dry.stderr
    return [line.rstrip() for line in dry.stdout.splitlines()]   # empty optional arguments leave spaces


def builds(lines):
    return [line for line in lines if line.startswith("cmake --build")]


@needs_make
def test_make_run_builds_only_the_contactsim_target(source_dir, tmp_path):
    lines = dry_run(source_dir, "run", f"BUILD_DIR={tmp_path}", "JOBS=1")
    assert builds(lines) == [f"cmake --build {tmp_path} -j 1 --target contactsim"], lines
    assert any(line.startswith(f"{tmp_path}/contactsim run ") for line in lines)


@needs_make
def test_make_notebooks_executes_them_with_the_builds_package(source_dir, tmp_path):
    lines = dry_run(source_dir, "notebooks", f"BUILD_DIR={tmp_path}", "JOBS=1", "NOTEBOOKS=01_quickstart")
    assert builds(lines) == [f"cmake --build {tmp_path} -j 1 --target contactsim_python"], lines
    assert lines[-1] == (f"PYTHONPATH={tmp_path}/python /usr/bin/python3 notebooks/make_notebooks.py "
                         "--execute 01_quickstart"), lines


@needs_make
def test_make_jupyter_installs_and_starts_debians_notebook(source_dir, tmp_path):
    """Only `make jupyter` installs the front end; it runs on /usr/bin/python3 with the build's package."""
    lines = dry_run(source_dir, "jupyter", f"BUILD_DIR={tmp_path}", "JOBS=1")
    installs = [line for line in lines if "for p in" in line]
    assert any("for p in jupyter-notebook;" in line for line in installs), installs
    assert lines[-1].startswith(f"cd notebooks && PYTHONPATH={tmp_path}/python HDF5_USE_FILE_LOCKING=FALSE "
                                "/usr/bin/python3 -m notebook"), lines
    assert not any("jupyter-notebook" in line for line in dry_run(source_dir, "deps"))


def test_make_deps_installs_the_netcdf_readers(source_dir):
    text = (source_dir / "Makefile").read_text(encoding="utf-8")
    packages = text.split("DEBIAN_PACKAGES :=")[1].split("\n\n")[0].split()
    assert {"python3-h5netcdf", "netcdf-bin"} <= set(packages)


@needs_make
def test_only_make_test_installs_the_browser_of_the_report_check(source_dir, tmp_path):
    """Chromium (test_report.py's real browser) comes with `make test`, not with `make run`'s deps."""
    installs = [line for line in dry_run(source_dir, "test", f"BUILD_DIR={tmp_path}", "JOBS=1") if "for p in" in line]
    assert any("for p in chromium;" in line for line in installs), installs
    assert not any("chromium" in line for line in dry_run(source_dir, "run", f"BUILD_DIR={tmp_path}", "JOBS=1"))
