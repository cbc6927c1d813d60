"""The cells of notebooks/06_baseline_calibration.ipynb, written by make_notebooks.py.

By default the notebook runs in a minute or two (2% of the residents, short horizons, three
replicates); CONTACTSIM_NOTEBOOK_FULL=1 runs a quarter of the city with ten replicates. The
history matching itself is not rerun here (``make calibrate`` does, in about an hour): the
notebook reads its shipped results, scenarios/calibration/.
"""
from __future__ import annotations

from cells import cell_makers

CAVEATS = """\
**Data and assumptions.** The city total, the broad ethnic-group totals, the age split and the
37 ward names are real (Census 2021, ONS); how the groups are spread over the wards is an
illustrative allocation. The targets are national and regional survey levels and meta-analytic
averages, not measurements of Stoke-on-Trent: a baseline that meets them is *plausible*, not
*true*. Results are model outputs for exploring mechanisms and comparing scenarios, not
forecasts for real wards."""

FLAG_TEXT = """\
**Fast and full runs.** By default the runs here use 2% of the city's residents and two
replicates so that the notebook executes in a minute or two; set `CONTACTSIM_NOTEBOOK_FULL=1`
before starting Jupyter for a quarter of the city and ten replicates (about half an hour on 2
cores). Output files go to `CONTACTSIM_NOTEBOOK_OUTPUT` (default `../results/notebooks`)."""


md, code = cell_makers(CAVEATS, FLAG_TEXT)


CELLS = [
    md("""
    # 06 — A baseline to compare against: spin-up, targets, calibration with uncertainty

    **Question.** With no policy change at all, does the default city stay level, and at the
    levels residents report in surveys? And how much does the uncertainty left after
    calibration widen the effect of a community-centre cut?

    A counterfactual ("what if the community centres lose 40% of their budget?") is a
    difference between two runs. It means something only if the baseline is stationary when
    nothing happens and sits at levels people actually report. This notebook shows

    1. the targets the default city is held to, with their sources;
    2. why every run starts with a spin-up, and what the baseline does with and without it;
    3. the history matching that calibrated the behavioural parameters: the emulators, the
       implausibility measure and the set of parameter vectors that remain plausible;
    4. the centre-cut effect with and without parameter uncertainty.

    {CAVEATS}

    {FLAG_TEXT}
    """),
    code('''\
    import os, pathlib, tomllib
    import numpy as np
    import pandas as pd
    import matplotlib.pyplot as plt
    {FIGURE_SETUP}
    import contactsim
    from contactsim.validation import TARGETS, baseline_statistics
    from contactsim.history_matching import fit_emulators, implausibility
    from contactsim.baseline_calibration import BOX, TARGETS as MATCHED

    FULL = os.environ.get("CONTACTSIM_NOTEBOOK_FULL") == "1"
    ROOT = pathlib.Path.cwd().parent if pathlib.Path.cwd().name == "notebooks" else pathlib.Path.cwd()
    OUT = pathlib.Path(os.environ.get("CONTACTSIM_NOTEBOOK_OUTPUT", ROOT / "results" / "notebooks")) / "06"
    OUT.mkdir(parents=True, exist_ok=True)
    SCALE = 0.25 if FULL else 0.02
    REPLICATES = 10 if FULL else 2
    THREADS = 0 if FULL else 1  # two threads on a tiny city only wait for each other
    CACHE = OUT / "spin-up"   # paired runs share their spin-up
    print("scale", SCALE, "replicates", REPLICATES)'''),
    md("""
    ## 1. The targets

    Each row is a published figure, the band the model must stay in, and where it comes from
    (`docs/validation.md` explains each mapping, e.g. why "get on well" means a share of
    residents whose mean outgroup warmth is at least the thermometer's midpoint).
    """),
    code('''\
    pd.DataFrame([{"target": t.description, "band": f"{t.low:g}-{t.high:g}", "published": t.value,
                   "source": t.source, "calibrated": t.calibrated} for t in TARGETS])'''),
    md("""
    ## 2. Spin-up: the baseline starts at its own equilibrium

    The city is built from survey-like draws (warmth, anxiety, English). Those are not the
    model's equilibrium: contact memories are empty, nobody has friends from contact yet. Run
    from the built city (`spin_up_days = 0`), the first year is a transient; after the default
    three-year spin-up the same four years are flat.
    """),
    code('''\
    base = contactsim.Scenario.load(ROOT / "scenarios" / "stoke_on_trent.toml").override({"population.scale": SCALE})
    trajectories = {}
    for label, days in (("from the built city", 0), ("after the spin-up", 1095)):
        path = OUT / f"baseline_spin_up_{days}.h5"
        with contactsim.Simulation(base.override({"simulation.spin_up_days": days}), threads=THREADS,
                                   spin_up_cache=CACHE) as sim:
            sim.run(output=path, progress=False, overwrite=True)
        trajectories[label] = baseline_statistics(path)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, s in trajectories.items():
        ax.plot(pd.to_datetime(s["time"]), s["get_on_well"], label=label)
    ax.axhspan(0.72, 0.82, color="grey", alpha=0.15, label="justified band")
    ax.set(ylabel="city get-on-well share", title="The no-policy baseline")
    ax.legend(); plt.show()
    {k: round(v["get_on_well_change_years_2_4"], 4) for k, v in trajectories.items()}'''),
    md("""
    ## 3. History matching

    `make calibrate` ran three waves of 20 runs (a tenth of the city, four years after the
    spin-up). After each wave one Gaussian-process emulator per statistic was fitted to every
    run so far, and 20,000 candidate parameter vectors were scored by their implausibility

    $$I(x) = \\max_k \\frac{|E[f_k(x)] - z_k|}{\\sqrt{\\mathrm{Var}[f_k(x)] + \\sigma_k^2}}$$

    (emulator variance plus each target's tolerance). Vectors with $I > 3$ were ruled out and
    the next wave sampled the rest. The shipped history holds every run:
    """),
    code('''\
    history = pd.read_csv(ROOT / "scenarios" / "calibration" / "history_matching.csv")
    names = list(BOX)
    stats = [t.statistic for t in MATCHED]
    print(history.groupby("wave").size().rename("runs").to_dict())
    history.groupby("wave")[["implausibility"]].describe()'''),
    md("""
    The emulators, refitted here on every run, stand in for the model between runs. The map
    below fixes the other parameters at the best run and shows the implausibility over the two
    that matter most for the level: how strongly norms hold warmth to the societal level, and
    the valence intercept. White is plausible.
    """),
    code('''\
    import warnings
    from sklearn.exceptions import ConvergenceWarning

    lower = np.array([BOX[n][0] for n in names]); upper = np.array([BOX[n][1] for n in names])
    unit = (history[names].to_numpy() - lower) / (upper - lower)
    with warnings.catch_warnings():
        # A length scale at its upper bound only says that a statistic hardly depends on that parameter.
        warnings.simplefilter("ignore", ConvergenceWarning)
        emulators = fit_emulators(unit, history[stats].to_numpy())
    best = unit[history["implausibility"].to_numpy().argmin()]
    a, b = names.index("mechanisms.norms.societal_weight"), names.index("mechanisms.valence.beta0")
    grid = np.linspace(0, 1, 60)
    points = np.tile(best, (grid.size ** 2, 1))
    points[:, a] = np.repeat(grid, grid.size); points[:, b] = np.tile(grid, grid.size)
    worst, _ = implausibility(emulators, points, MATCHED)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    image = ax.imshow(worst.reshape(grid.size, grid.size).T, origin="lower", aspect="auto", cmap="magma_r",
                      vmin=0, vmax=6, extent=(BOX[names[a]][0], BOX[names[a]][1], BOX[names[b]][0], BOX[names[b]][1]))
    ax.contour(np.linspace(*BOX[names[a]], grid.size), np.linspace(*BOX[names[b]], grid.size),
               worst.reshape(grid.size, grid.size).T, levels=[3], colors="white")
    ax.scatter(history[names[a]], history[names[b]], c=history["wave"], s=12, cmap="viridis")
    ax.set(xlabel="societal_weight", ylabel="valence beta0", title="largest implausibility (white line: 3)")
    fig.colorbar(image); plt.show()'''),
    code('''\
    sets = tomllib.loads((ROOT / "scenarios" / "calibration" / "plausible_parameters.toml").read_text())["set"]
    plausible = pd.DataFrame(sets)
    print(len(plausible), "plausible parameter vectors; the defaults are the first")
    plausible.describe().loc[["mean", "min", "max"]]'''),
    md("""
    ## 4. The centre cut, with and without parameter uncertainty

    The same paired comparison (40% cut to community-centre budgets from April 2021) run two
    ways: every replicate with the default parameters (stochastic noise only), and replicate
    *r* with plausible vector *r* (noise and parameter uncertainty). The second interval is the
    honest one.
    """),
    code('''\
    cut = contactsim.Scenario.load(ROOT / "scenarios" / "cut_community_centres.toml").override({"population.scale": SCALE})
    baseline = contactsim.Scenario.load(ROOT / "scenarios" / "baseline.toml").override({"population.scale": SCALE})

    def centre_contacts(path):
        ds = contactsim.open_results(path)
        return float(ds["contacts_positive"].sel(venue_type="community_centre").sum())

    effects = {"defaults": [], "plausible sets": []}
    for r in range(REPLICATES):
        for how in effects:
            extra = {} if how == "defaults" else {k: float(v) for k, v in sets[r % len(sets)].items()}
            pair = []
            for name, scenario in (("base", baseline), ("cut", cut)):
                path = OUT / f"{name}_{how.replace(' ', '_')}_{r}.h5"
                with contactsim.Simulation(scenario.override(extra), replicate=r, threads=THREADS, spin_up_cache=CACHE) as sim:
                    sim.run(until="2021-12-31", output=path, progress=False, overwrite=True)
                pair.append(centre_contacts(path))
            effects[how].append(pair[1] / pair[0] - 1)
    summary = pd.DataFrame({how: {"mean effect": np.mean(v), "sd": np.std(v, ddof=1),
                                  "min": np.min(v), "max": np.max(v)} for how, v in effects.items()}).T
    summary'''),
    code('''\
    # Checks: both baselines cover the same calendar, the one after the spin-up meets its
    # stationarity target, every plausible vector lies inside the calibration box, every wave
    # ran, and the cut lowers positive contact in community centres in every replicate both ways.
    assert list(trajectories["after the spin-up"]["time"]) == list(trajectories["from the built city"]["time"])
    assert abs(trajectories["after the spin-up"]["get_on_well_change_years_2_4"]) <= 0.02
    assert len(plausible) >= 20
    assert ((plausible[names] >= lower) & (plausible[names] <= upper)).all().all()
    assert history["wave"].nunique() >= 3 and (history.groupby("wave").size() >= 10).all()
    assert all(len(v) == REPLICATES for v in effects.values())
    assert all(e < 0 for v in effects.values() for e in v), effects
    print("all checks passed")'''),
    md("""
    ## What this shows / limits

    - With the spin-up the no-policy baseline is flat; from the built city it first drifts,
      and every effect measured then would sit on that drift.
    - The plausible set is what the targets allow, not a posterior: history matching rules
      out, it does not weight. Its spread is the parameter uncertainty a comparison should
      carry; drawing one vector per replicate (ensembles' `parameter_sets`) does so.
    - **Limits.** The targets constrain the baseline's level and balance; they say little about
      how strongly a particular venue type matters, which is what a funding question turns on
      (docs/validation.md, "Not yet validated"). Fast mode is noisy: a few replicates at 2%.
    """),
]
