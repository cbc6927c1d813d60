"""The Makefile's Quick-start targets: `make run` builds only the command it runs (issue 15:
it used to build the test suite and benchmarks too, most of a fresh clone's five minutes)."""
import shutil
import subprocess

import pytest


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_builds_only_the_contactsim_target(source_dir, tmp_path):
    dry = subprocess.run(["make", "-n", "run", f"BUILD_DIR={tmp_path}", "JOBS=1"], cwd=source_dir,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    builds = [line for line in dry.stdout.splitlines() if line.startswith("cmake --build")]
    assert builds == [f"cmake --build {tmp_path} -j 1 --target contactsim"], dry.stdout
    assert any(line.startswith(f"{tmp_path}/contactsim run ") for line in dry.stdout.splitlines())


def test_make_deps_installs_the_netcdf_readers(source_dir):
    text = (source_dir / "Makefile").read_text(encoding="utf-8")
    packages = text.split("DEBIAN_PACKAGES :=")[1].split("\n\n")[0].split()
    assert {"python3-h5netcdf", "netcdf-bin"} <= set(packages)
