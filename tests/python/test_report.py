"""`contactsim report`: one self-contained HTML page of a run or an ensemble — figures embedded,
nothing linked, the file's provenance shown, an ensemble's warnings shown — that a real browser
draws; bad input is named and an existing page is never overwritten without --force."""
import base64
import os
import pathlib
import re
import shutil
import subprocess

import h5py
import pytest

from conftest import cli_env, run_cli, run_scenario, small_ensemble_spec

TINY_RUN = """\
extends = "{base}"

[simulation]
end = 2020-04-30
spin_up_days = 0

[population]
scale = 0.02

[record]
interval = "month"
"""

# A budget change of 0% is a timeline item that changes nothing the runs measure; the sweep
# gives every comparison two points, which the page must tell apart.
NOTHING = """[[counterfactuals]]
name = "closed"
overrides = { "timeline" = [ { kind = "close", date = 2020-02-10, venue_type = "community_centre" } ] }

[[counterfactuals]]
name = "nothing"
overrides = { "timeline" = [ { kind = "budget", date = 2020-02-10, venue_type = "community_centre", change = 0.0 } ] }

[sweep]
design = "grid"
[sweep.parameters."mechanisms.valence.beta0"]
values = [1.0, 1.2]
"""

IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def report(cli, *args, check=True) -> subprocess.CompletedProcess:
    """`contactsim report ARGS` through the C++ command, which forwards to the Python package."""
    return run_cli(cli, "report", *args, check=check)


@pytest.fixture(scope="module")
def tiny_run(cli, base_scenario, tmp_path_factory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("report_run")
    _, output = run_scenario(cli, directory, "tiny", TINY_RUN.format(base=base_scenario.as_posix()), "--seed", 77,
                             "--threads", 2, "-q")
    return output


@pytest.fixture(scope="module")
def run_page(cli, tiny_run) -> tuple[pathlib.Path, str]:
    output = tiny_run.with_name("tiny_report.html")
    report(cli, tiny_run, "-o", output)
    return output, output.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def master(cli, base_scenario, tmp_path_factory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("report_ensemble")
    spec = directory / "spec.toml"
    spec.write_text(small_ensemble_spec("report test", base_scenario, seed=5, replicates=2, until="2020-03-31",
                                        scale=0.02, body=NOTHING), encoding="utf-8")
    run_cli(cli, "ensemble", spec, "-o", directory / "out", "-q")
    return directory / "out" / "ensemble.h5"


@pytest.fixture(scope="module")
def ensemble_page(cli, master) -> tuple[pathlib.Path, str]:
    output = master.parent.parent / "ensemble_report.html"
    report(cli, master, "-o", output)
    return output, output.read_text(encoding="utf-8")


def assert_self_contained(page: str) -> None:
    """Nothing the browser would fetch: every src/href is inline data, the styles import
    nothing. (Scenario comments shown as text may well quote a web address.)"""
    references = re.findall(r'\b(?:src|href|srcset|data)\s*=\s*["\']([^"\']*)', page, flags=re.IGNORECASE)
    assert references, "the figures are <img src=...>"
    for reference in references:
        assert reference.startswith("data:"), f"the page refers to {reference[:80]!r}"
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL))
    assert styles and "@import" not in styles and "url(" not in styles
    assert not re.search(r"<(?:link|script|iframe|object|embed)\b", page, flags=re.IGNORECASE)


def embedded_images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in IMAGE.findall(page)]


def attributes(path: pathlib.Path) -> dict:
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def test_a_run_report_is_self_contained_with_figures_and_provenance(tiny_run, run_page):
    path, page = run_page
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert_self_contained(page)
    images = embedded_images(page)
    assert len(images) >= 3 and all(image.startswith(PNG_SIGNATURE) for image in images)
    provenance = attributes(tiny_run)
    for name in ("scenario_path", "scenario_sha256", "seed", "contactsim_version", "git_revision", "start_date",
                 "end_date", "created_utc"):
        assert f"<td>{name}</td><td>{provenance[name]}</td>" in page, name
    assert str(provenance["seed"]) == "77" and "2020-04-30" in page
    assert "Who meets whom" in page, "the contact matrix"
    assert not path.with_name(path.name + ".partial").exists()


def test_an_ensemble_report_warns_about_a_counterfactual_that_changes_nothing(master, ensemble_page):
    _, page = ensemble_page
    assert_self_contained(page)
    assert len(embedded_images(page)) >= 3
    warnings_box = page[page.index('<div class="warnings">'):page.index("</div>", page.index('<div class="warnings">'))]
    assert "scenario &#x27;nothing&#x27; never differs from the baseline" in warnings_box
    assert "no_difference" in warnings_box, "the flagged rows are tabulated"
    assert page.index('<div class="warnings">') < page.index("<h2>Effects over time</h2>"), "warnings come first"
    provenance = attributes(master)
    for name in ("spec_sha256", "seed", "contactsim_version", "git_revision", "created_utc"):
        assert f"<td>{name}</td><td>{provenance[name]}</td>" in page, name
    assert "<td>replicates per scenario and point</td><td>2</td>" in page
    assert all(f"<td>{s}</td>" in page for s in ("baseline", "closed", "nothing"))
    assert "<h3>Sweep points</h3>" in page and "<th>point</th><th>mechanisms.valence.beta0</th><th>metric</th>" in page
    assert "Effect of closed at sweep point 1 on warmth toward other groups" in page


def test_bad_input_exits_2_naming_the_file(cli, tmp_path):
    not_hdf5 = tmp_path / "notes.h5"
    not_hdf5.write_text("hello", encoding="utf-8")
    result = report(cli, not_hdf5, "-o", tmp_path / "out.html", check=False)
    assert result.returncode == 2 and f"{not_hdf5}: not an HDF5 file" in result.stderr
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "something-else"
    result = report(cli, other, "-o", tmp_path / "out.html", check=False)
    assert result.returncode == 2 and str(other) in result.stderr
    missing = tmp_path / "missing.h5"
    result = report(cli, missing, "-o", tmp_path / "out.html", check=False)
    assert result.returncode == 2 and str(missing) in result.stderr
    assert not list(tmp_path.glob("out.html*"))


def test_an_existing_report_needs_force(cli, tiny_run, tmp_path):
    existing = tmp_path / "existing.html"
    existing.write_text("keep me", encoding="utf-8")
    result = report(cli, tiny_run, "-o", existing, check=False)
    assert result.returncode == 1 and f"{existing}: output file exists; pass --force to overwrite" in result.stderr
    assert existing.read_text(encoding="utf-8") == "keep me"
    report(cli, tiny_run, "-o", existing, "--force")
    assert existing.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (tmp_path / "existing.html.partial").exists()


def test_the_command_forwards_export_to_its_own_build(cli, tiny_run, tmp_path):
    env = cli_env()
    env["PYTHONPATH"] = ""
    result = run_cli(cli, "export", tiny_run, "-o", tmp_path / "run.csv", "--series", "tension", env=env)
    assert result.stdout.strip() == f"wrote {tmp_path / 'run.csv'}", "python3 -m contactsim export's own message"
    assert (tmp_path / "run.csv").read_text(encoding="utf-8").startswith("metric,time"), \
        "the binary finds its own build's package without PYTHONPATH"
    result = run_cli(cli, "export", tmp_path / "missing.h5", "-o", tmp_path / "x.csv", env=env, check=False)
    assert result.returncode == 2 and str(tmp_path / "missing.h5") in result.stderr, "its exit code passes through"


# ----------------------------------------------------------------------------- a real browser

def screenshot(page: pathlib.Path, shot: pathlib.Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package chromium; make deps)")
    # A sanitizer runtime preloaded for the tests would be loaded into the browser too.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    result = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                             "--window-size=1200,3000", page.resolve().as_uri()], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]


def test_a_browser_draws_the_report(run_page, tmp_path):
    from matplotlib import image

    shot = tmp_path / "shot.png"
    screenshot(run_page[0], shot)
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (3000, 1200)
    not_white = (pixels < 0.95).any(axis=-1).mean()
    assert pixels.std() > 0.05 and not_white > 0.05, f"a blank page: {not_white:.1%} of pixels are not white"
