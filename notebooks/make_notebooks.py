#!/usr/bin/env python3
"""Write the contactsim notebooks from the Python source below, and store them executed.

The notebooks are generated so they stay reviewable: every cell is a string in this file and
cell ids are fixed, so a change to a notebook is a readable diff here. They are stored with the
outputs of a fast-mode execution (`make notebooks`), so they render with figures on a code
host. Those outputs are deterministic (fixed seeds; no wall times, absolute paths or git
revisions printed; no execution timestamps or interpreter metadata), so re-executing unchanged
notebooks gives unchanged files.

    /usr/bin/python3 notebooks/make_notebooks.py           # rewrite notebooks whose cells changed (without outputs)
    /usr/bin/python3 notebooks/make_notebooks.py --check   # exit 1 if a stored notebook's cells differ
    make notebooks                                         # build the package, execute and store them all
    make notebooks NOTEBOOKS="01_quickstart"               # ... or some

Each notebook runs in a few tens of seconds by default (small population, short horizon, few
replicates); CONTACTSIM_NOTEBOOK_FULL=1 runs the real scale and horizon. Outputs go to
CONTACTSIM_NOTEBOOK_OUTPUT (default ../results/notebooks, relative to this directory).
"""
from __future__ import annotations

import argparse
import copy
import os
import pathlib
import sys
import textwrap

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cells import code_cell  # noqa: E402

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def md(text: str) -> tuple[str, str]:
    """A markdown cell; {CAVEATS} and {FLAG_TEXT} are replaced after dedenting."""
    text = textwrap.dedent(text).strip("\n")
    return ("markdown", text.replace("{CAVEATS}", CAVEATS).replace("{FLAG_TEXT}", FLAG_TEXT))


code = code_cell


# Shared text -------------------------------------------------------------------------------

CAVEATS = """\
**Data and assumptions.** The city total, the broad ethnic-group totals, the age split and the
37 ward names are real (Census 2021, ONS). How the groups are spread over the wards is *not*
census data: ward populations are illustrative allocations of the real city totals (higher
Asian and Eastern European shares in Lightwood North and Normacot, Hanley Park and Shelton,
Etruria and Hanley, as the Keele evaluation describes). Behavioural parameters are partly
taken from the literature and partly illustrative (`docs/parameters.md` gives each one's
source). Results are model outputs for exploring mechanisms and comparing scenarios, not
forecasts for real wards."""

FLAG_TEXT = """\
**Fast and full runs.** By default this notebook runs a small population (a few percent of
the city's residents), a short horizon and few replicates so that it executes in well under a
minute; numbers from such a run are noisy. Set `CONTACTSIM_NOTEBOOK_FULL=1` in the environment
before starting Jupyter to run the real scale and horizon (much slower; see
`notebooks/README.md`). Output files go to `CONTACTSIM_NOTEBOOK_OUTPUT` (default
`../results/notebooks`)."""

SETUP = '''\
import datetime as dt
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

import contactsim
from contactsim import plotting

FULL = os.environ.get("CONTACTSIM_NOTEBOOK_FULL") == "1"
OUT = pathlib.Path(os.environ.get("CONTACTSIM_NOTEBOOK_OUTPUT", "../results/notebooks"))
OUT.mkdir(parents=True, exist_ok=True)
# Results do not depend on the thread count. Small fast-mode runs use one thread: on a busy
# 2-core machine, two worker threads that must meet every day can be many times slower.
THREADS = int(os.environ.get("CONTACTSIM_NOTEBOOK_THREADS", "2" if FULL else "1"))
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
# xarray's HTML view gives its elements random ids, which would change the stored outputs on every run.
xr.set_options(display_style="text")
{FIGURE_SETUP}
print(f"contactsim {contactsim.__version__}; {'FULL' if FULL else 'fast'} mode; {THREADS} thread(s); outputs in {OUT}")'''

HELPERS_INTERVALS = '''\
def t_interval(x):
    """Mean and 95% t-interval of the values in x (one per replicate or pair)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    mean = x.mean()
    half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def welch_interval(a, b):
    """Mean of a − b and its 95% Welch interval, treating a and b as independent samples."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1)) if se > 0 else 1.0
    diff = a.mean() - b.mean()
    half = stats.t.ppf(0.975, df) * se
    return diff, diff - half, diff + half'''


# 01 quickstart -----------------------------------------------------------------------------

QUICKSTART = [
    md("""
    # contactsim quickstart: one run of Stoke-on-Trent

    **Question.** Under current provision (schools, workplaces, community centres, places of
    worship, markets, parks, streets), how much intergroup contact do residents of Stoke-on-Trent's
    37 wards have, how much of it is positive, and how do feelings toward other groups
    ("outgroup warmth", a feeling thermometer / 100) and "getting on well" evolve?

    This notebook is a tour of the Python package: load the default scenario
    (`scenarios/stoke_on_trent.toml`), run it while recording to HDF5, read the end-of-run
    summary, open the results as an xarray Dataset, draw the standard figures, look directly at
    the residents' state through numpy views, and read the events table.

    {CAVEATS}

    {FLAG_TEXT}
    """),
    code(SETUP),
    md("""
    ## The scenario

    A `Scenario` is a validated scenario file; `override` returns a new scenario with dotted
    keys replaced (the same validation applies), so the file itself never changes.
    """),
    code('''\
    scenario = contactsim.Scenario.load("../scenarios/stoke_on_trent.toml")
    print(scenario)

    SCALE = 1.0 if FULL else 0.05            # share of the city's residents simulated
    UNTIL = scenario.end if FULL else dt.date(2021, 6, 30)
    small = scenario.override({"population.scale": SCALE})
    print(small)
    print("groups:     ", ", ".join(small.groups))
    print("venue types:", ", ".join(small.venue_types))
    print(f"{len(small.wards)} wards, e.g.", "; ".join(small.wards[:4]), "...")'''),
    md("""
    ## Run, recording to HDF5

    `Simulation` builds the world (residents, blocks, venues, memberships) once; `run` steps
    through the days. With `output`, every recording period (a week by default) is written to
    the file exactly as `contactsim run ... -o FILE --until DATE` would write it; `until` ends
    the run there (the last partial period is recorded) and the file is closed afterwards.
    """),
    code('''\
    RESULTS = OUT / "01_quickstart.h5"
    sim = contactsim.Simulation(small, threads=THREADS)        # seed: the scenario's [simulation] seed
    sim.run(until=UNTIL, output=RESULTS, overwrite=True, progress=False)
    print(f"{sim!r}\\nsimulated {small.start} to {sim.date}; "
          f"{sim.intergroup_encounters:,} intergroup encounters at venues")'''),
    md("""
    ## End-of-run summary

    One row per group: residents, mean outgroup warmth, the share "getting on well" (mean
    outgroup warmth ≥ 0.5), anxiety, positive and negative intergroup contacts over the run,
    English, the share with no intergroup contact in the last year, cross-group friendships,
    block-level dissimilarity and perceived cohesion.
    """),
    code('''\
    summary = sim.summary()
    summary.round(3)'''),
    code('''\
    ratio = summary["contacts_positive"].sum() / summary["contacts_negative"].sum()
    print(f"positive : negative intergroup contacts = {ratio:.2f} : 1")'''),
    md("""
    ## The results file as an xarray Dataset

    `open_results` reads every series into memory with named dimensions (`time`, `ward`,
    `group`, `target_group`, `venue_type`, `spatial_unit`) and keeps the provenance (version,
    git revision, seed, creation time, the merged scenario text and its hash) in `ds.attrs`.
    """),
    code('''\
    ds = contactsim.open_results(RESULTS)
    provenance = ["contactsim_version", "seed", "replicate", "population_scale",
                  "start_date", "end_date", "record_interval", "records", "scenario_sha256"]
    print({key: ds.attrs.get(key) for key in provenance})
    print("also in ds.attrs:", ", ".join(sorted(set(ds.attrs) - set(provenance))))
    # Shown without its attributes, whose git_revision and created_utc differ with every build and run
    # (this notebook is stored with its outputs).
    xr.Dataset(ds.data_vars, ds.coords)'''),
    md("""
    ### Outgroup warmth by group

    `plotting.plot_series` reduces a series to one line per group: for `mean_warmth` it averages
    over the *other* groups (outgroup warmth) and weights wards by population.
    `plotting.aggregate` returns the same numbers.
    """),
    code('''\
    ax = plotting.plot_series(ds, "mean_warmth", by="group")
    warmth_by_group = plotting.aggregate(ds, "mean_warmth", by="group")
    warmth_by_group.isel(time=[0, -1]).to_pandas().T.round(3)'''),
    md("""
    ### Ward × group heatmap

    Outgroup warmth at the last record for each ward and group. Small groups in small wards hold
    few simulated residents at the fast scale, so their cells are noisy (blank: nobody of that
    group lives there).
    """),
    code('''\
    ax = plotting.plot_ward_group_heatmap(ds, "mean_warmth", time=-1, cmap="viridis")'''),
    md("""
    ### Who meets whom: the contact matrix

    Row = the group experiencing the encounter, column = the group met; each row's shares sum
    to 1. The `white_british` column dominates every row because White British residents are
    78% of the city.
    """),
    code('''\
    ax = plotting.plot_contact_matrix(ds, kind="both", share=True)
    contactsim.contact_matrix(ds, kind="positive").to_pandas()'''),
    md("""
    ## Residents' state: numpy views

    `sim.group`, `sim.ward`, `sim.age_band`, `sim.english`, `sim.anxiety` and `sim.warmth`
    (N × G: each resident's warmth toward each group) are read-only views of the simulation's
    arrays, without a copy; `sim.agents(name)` gives the others (`contactsim.AGENT_ARRAYS`).
    A view follows the simulation as it steps: `.copy()` keeps a snapshot.
    """),
    code('''\
    warmth = sim.warmth                        # (residents, groups), float32, read-only
    group = sim.group
    G = len(small.groups)
    own = warmth[np.arange(group.size), group]
    outgroup = (warmth.sum(axis=1) - own) / (G - 1)    # each resident's mean warmth toward other groups
    agents = pd.DataFrame({
        "group": pd.Categorical.from_codes(group, small.groups),
        "age_band": pd.Categorical.from_codes(sim.age_band, contactsim.AGE_BANDS),
        "ward": np.asarray(small.wards)[sim.ward],
        "english": sim.english,
        "anxiety": sim.anxiety,
        "outgroup_warmth": outgroup,
    })
    print(warmth.shape, warmth.dtype, "writeable:", warmth.flags.writeable)
    agents.groupby("group", observed=True)["outgroup_warmth"].describe().reindex(small.groups).round(3)'''),
    code('''\
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    axes[0].boxplot([agents.loc[agents.group == g, "outgroup_warmth"] for g in small.groups], showfliers=False)
    axes[0].set_xticks(range(1, G + 1), small.groups)
    axes[0].set_ylabel("mean outgroup warmth (thermometer / 100)")
    axes[0].set_title(f"Outgroup warmth by group, {sim.date}")
    axes[0].tick_params(axis="x", rotation=30)
    for band in contactsim.AGE_BANDS:
        axes[1].hist(agents.loc[agents.age_band == band, "outgroup_warmth"], bins=40, range=(0, 1),
                     histtype="step", density=True, label=band)
    axes[1].axvline(0.5, color="grey", linestyle=":", label="'gets on well' threshold")
    axes[1].set_xlabel("mean outgroup warmth")
    axes[1].set_ylabel("density")
    axes[1].set_title("Distribution by age band")
    axes[1].legend(loc="upper left", fontsize="small");'''),
    md("""
    The summary's `mean_outgroup_warmth` is the same quantity averaged per group, so the two
    must agree:
    """),
    code('''\
    check = pd.DataFrame({"from agent arrays": agents.groupby("group", observed=True)["outgroup_warmth"].mean(),
                          "from summary()": summary["mean_outgroup_warmth"]}).reindex(small.groups)
    check["difference"] = check.iloc[:, 0] - check.iloc[:, 1]
    check'''),
    md("""
    ## Events

    `/events` logs what happened on the timeline: budget changes, closures, lockdowns,
    programme cohorts, festivals... The default scenario has no timeline, so its table is empty.
    To see one, add dated items through `override` (here a lockdown of schools, community centres
    and places of worship, and the defunding of the youth clubs in one ward — illustrative
    items, not the default scenario) and run a few months.
    """),
    code('''\
    print(f"{len(contactsim.read_events(RESULTS))} events in the default run")

    with_events = small.override({"timeline": [
        {"kind": "lockdown", "start": dt.date(2020, 3, 23), "end": dt.date(2020, 6, 30),
         "venue_types": ["school", "community_centre", "place_of_worship"], "label": "first Covid-19 lockdown"},
        {"kind": "budget", "date": dt.date(2020, 4, 1), "venue_type": "youth_club",
         "ward": "Hanley Park and Shelton", "change": -1.0, "label": "Shelton youth clubs defunded"},
    ]})
    EVENTS_RESULTS = OUT / "01_quickstart_events.h5"
    contactsim.Simulation(with_events, threads=THREADS).run(
        until=dt.date(2020, 8, 31), output=EVENTS_RESULTS, overwrite=True, progress=False)
    events = contactsim.read_events(EVENTS_RESULTS)
    events'''),
    code('''\
    ax = plotting.plot_series(EVENTS_RESULTS, "contacts_positive", by=None, venue_type="school")
    ax.axvspan(np.datetime64("2020-03-23"), np.datetime64("2020-06-30"), color="grey", alpha=0.2,
               label="lockdown")
    ax.legend();'''),
    md("""
    Schools hold no sessions during the lockdown. (The last point is a partial recording period:
    a run's last day is always recorded, so the final record may cover fewer than seven days.)
    """),
    md("## Sanity checks"),
    code('''\
    assert RESULTS.is_file() and EVENTS_RESULTS.is_file()
    assert summary["residents"].sum() == small.population_size
    assert summary["contacts_positive"].sum() > 0
    assert summary["contacts_positive"].sum() > summary["contacts_negative"].sum()
    assert ((summary["mean_outgroup_warmth"] > 0) & (summary["mean_outgroup_warmth"] < 1)).all()
    assert np.allclose(check["difference"], 0, atol=1e-4), check
    assert pd.Timestamp(ds["time"].values[-1]).date() == UNTIL == sim.date
    assert int(ds["population"].isel(time=-1).sum()) == small.population_size
    assert np.isfinite(warmth_by_group.values).all()
    assert {"lockdown", "lockdown_end", "budget"} <= set(events["kind"])
    matrix = contactsim.contact_matrix(ds, kind="positive")
    assert (np.diag(matrix.values) == 0).all()              # intergroup encounters only
    assert int(matrix.sum()) == int(ds["contacts_positive"].sum()) == summary["contacts_positive"].sum()
    print("all checks passed")'''),
    md("""
    ## What this shows / limits

    - One run gives the whole picture the package records: contact by ward, group and venue
      type; warmth toward each group; segregation; the events that shaped the run. Positive
      intergroup contact outnumbers negative contact by three or four to one, as the contact
      literature reports.
    - Outgroup warmth per resident is available directly (`sim.warmth`), so any quantity the
      recorded series do not hold can be computed from the agents.
    - **Limits.** This is a single replicate at a small scale in fast mode: differences between
      small groups or wards are mostly noise (notebook 02 shows how to compare scenarios with
      replicates). Ward compositions are illustrative allocations, not census counts, and the
      behavioural parameters are partly illustrative; over several years warmth drifts upward
      as cross-group friendships accumulate (README, Limitations).
    """),
]


# 02 funding cuts ----------------------------------------------------------------------------

FUNDING = [
    md("""
    # What would a 40% cut to community-centre budgets do?

    **Question.** If community-centre budgets are cut by 40% from 1 April 2021 (centres then run
    4 of their 6 weekly sessions, at 60% capacity, with less facilitation; none closes), how much
    intergroup contact is lost in each ward, and does outgroup warmth fall? Compared with the
    baseline (`scenarios/baseline.toml` vs `scenarios/cut_community_centres.toml`).

    **Design.** Both scenarios are run for `R` replicates with the same seed; replicate *r* of
    the two shares every random draw until their histories diverge (common random numbers). The
    effect of the cut is then estimated from *paired* differences (cut − baseline, replicate by
    replicate), with a 95% t-interval over replicates. The notebook also shows how much wider the
    interval would be without pairing.

    {CAVEATS}

    {FLAG_TEXT}
    """),
    code(SETUP),
    code(HELPERS_INTERVALS),
    md("## The two scenarios"),
    code('''\
    import difflib

    SCALE = 1.0 if FULL else 0.05
    R = 10 if FULL else 4                    # paired replicates
    SEED = 20200101
    CUT_DATE = dt.date(2021, 4, 1)
    scenarios = {
        "baseline": contactsim.Scenario.load("../scenarios/baseline.toml").override({"population.scale": SCALE}),
        "cut": contactsim.Scenario.load("../scenarios/cut_community_centres.toml").override({"population.scale": SCALE}),
    }
    UNTIL = scenarios["baseline"].end if FULL else dt.date(2021, 12, 31)
    for name, sc in scenarios.items():
        print(f"{name:9s} {sc}")
    # What differs between the merged scenarios: the cut's timeline item (and the title).
    print("".join(difflib.unified_diff((scenarios["baseline"].text + "\\n").splitlines(True),
                                       (scenarios["cut"].text + "\\n").splitlines(True), "baseline", "cut", n=0)))'''),
    md("""
    ## Paired replicates

    Replicate *r* of each scenario uses `seed=SEED, replicate=r`.
    """),
    code('''\
    paths = {name: [] for name in scenarios}
    for r in range(R):
        for name, sc in scenarios.items():
            path = OUT / f"02_{name}_r{r}.h5"
            contactsim.Simulation(sc, seed=SEED, replicate=r, threads=THREADS).run(
                until=UNTIL, output=path, overwrite=True, progress=False)
            paths[name].append(path)
    print(f"{2 * R} runs to {UNTIL}")
    base = contactsim.concat_replicates(paths["baseline"])
    cut = contactsim.concat_replicates(paths["cut"])
    xr.Dataset(base.data_vars, base.coords)   # without the attributes: git_revision differs with every build'''),
    md("""
    ## Did the cut bite?

    Community-centre sessions held after the cut, relative to the baseline (should be about 4/6),
    and the budget recorded in the output.
    """),
    code('''\
    after = slice(str(CUT_DATE), None)
    sessions = {name: ds["venue_sessions"].sel(time=after, venue_type="community_centre").sum(["time", "ward"])
                for name, ds in (("baseline", base), ("cut", cut))}
    session_ratio = (sessions["cut"] / sessions["baseline"]).values
    budget = {name: float(ds["venue_budget"].sel(venue_type="community_centre").isel(time=-1, replicate=0).sum())
              for name, ds in (("baseline", base), ("cut", cut))}
    print("community-centre sessions after the cut, cut / baseline, per replicate:", np.round(session_ratio, 3))
    print("community-centre budgets at the end (GBP/year):", {k: f"{v:,.0f}" for k, v in budget.items()})'''),
    md("""
    ## Outcomes per ward and replicate

    * **Positive intergroup contacts per resident** experienced from the cut to the end of the
      run (all venues, and at community centres alone), by the resident's ward.
    * **Mean outgroup warmth at the end of the run**, population-weighted over groups, in
      thermometer points (0–100).

    Each is a (replicate × ward) array for each scenario; the city value pools the wards.
    """),
    code('''\
    def contacts_per_resident(ds, venue_type=None, by_ward=True):
        contacts = ds["contacts_positive"].sel(time=after)
        contacts = contacts.sel(venue_type=venue_type) if venue_type else contacts.sum("venue_type")
        residents = ds["population"].sel(time=after).sum("group").mean("time")
        contacts = contacts.sum(["time", "group"])
        if not by_ward:
            contacts, residents = contacts.sum("ward"), residents.sum("ward")
        return (contacts / residents).transpose("replicate", ...)


    def end_warmth(ds, by_ward=True):
        series = plotting.aggregate(ds, "mean_warmth", by="ward" if by_ward else None)   # outgroup warmth
        return 100 * series.isel(time=-1).transpose("replicate", ...)                    # thermometer points


    OUTCOMES = {
        "positive contacts per resident": lambda ds, w: contacts_per_resident(ds, by_ward=w),
        "community-centre positive contacts per resident":
            lambda ds, w: contacts_per_resident(ds, "community_centre", by_ward=w),
        "outgroup warmth at end (points)": end_warmth,
    }
    wards = list(base["ward"].values)
    rows, city_rows = [], []
    for outcome, measure in OUTCOMES.items():
        b, c = measure(base, True).values, measure(cut, True).values          # (replicate, ward)
        for k, ward in enumerate(wards):
            m, lo, hi = t_interval(c[:, k] - b[:, k])
            _, ulo, uhi = welch_interval(c[:, k], b[:, k])
            rows.append(dict(outcome=outcome, ward=ward, baseline=b[:, k].mean(), effect=m, lo=lo, hi=hi,
                             unpaired_lo=ulo, unpaired_hi=uhi))
        b, c = measure(base, False).values, measure(cut, False).values        # (replicate,)
        m, lo, hi = t_interval(c - b)
        _, ulo, uhi = welch_interval(c, b)
        city_rows.append(dict(outcome=outcome, baseline=b.mean(), cut=c.mean(), effect=m, lo=lo, hi=hi,
                              unpaired_lo=ulo, unpaired_hi=uhi))
    ward_effects = pd.DataFrame(rows)
    city = pd.DataFrame(city_rows).set_index("outcome")
    city["paired width"] = city["hi"] - city["lo"]
    city["unpaired width"] = city["unpaired_hi"] - city["unpaired_lo"]
    city["unpaired / paired"] = city["unpaired width"] / city["paired width"]
    ward_effects.to_csv(OUT / "02_ward_effects.csv", index=False)
    city.to_csv(OUT / "02_city_effects.csv")
    print(f"city-wide effect of the cut (cut − baseline), mean and 95% interval over {R} paired replicates")
    city.round(4)'''),
    md("""
    ### Pairing narrows the interval

    The "unpaired" columns treat the two sets of runs as independent samples (Welch interval):
    they estimate the same mean difference, but the replicate-to-replicate noise that both
    scenarios share stays in. With common random numbers it cancels in the paired differences.
    Per ward, and in the figure (each point a ward; above the diagonal = pairing helps):
    """),
    code('''\
    ward_effects["paired width"] = ward_effects["hi"] - ward_effects["lo"]
    ward_effects["unpaired width"] = ward_effects["unpaired_hi"] - ward_effects["unpaired_lo"]
    by_outcome = ward_effects.groupby("outcome", sort=False)
    pd.DataFrame({
        "wards where paired is narrower": by_outcome.apply(lambda f: int((f["paired width"] < f["unpaired width"]).sum())),
        "median paired width": by_outcome["paired width"].median(),
        "median unpaired width": by_outcome["unpaired width"].median(),
        "median unpaired / paired": (ward_effects["unpaired width"] / ward_effects["paired width"]).groupby(ward_effects["outcome"], sort=False).median(),
    })'''),
    code('''\
    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    for outcome, frame in ward_effects.groupby("outcome", sort=False):
        ax.loglog(frame["paired width"], frame["unpaired width"], "o", alpha=0.7, label=outcome)
    low, high = ward_effects[["paired width", "unpaired width"]].min().min(), ward_effects[["paired width", "unpaired width"]].max().max()
    ax.plot([low, high], [low, high], color="grey", linestyle=":", label="equal width")
    ax.set_xlabel("paired 95% interval width")
    ax.set_ylabel("unpaired 95% interval width")
    ax.set_title("Interval widths per ward (each outcome in its own units)", fontsize="medium")
    ax.legend(fontsize="small");'''),
    md("""
    ## Forest plot by ward

    Paired effect of the cut per ward with its 95% interval, wards sorted by the contact effect.
    Wards differ in how many residents use community centres and in how mixed their centres are.
    """),
    code('''\
    def forest(ax, outcome, order):
        frame = ward_effects[ward_effects["outcome"] == outcome].set_index("ward").loc[order]
        y = np.arange(len(frame))
        ax.hlines(y, frame["lo"], frame["hi"], color="black", linewidth=1.5, label="paired 95% interval")
        ax.plot(frame["effect"], y, "o", color="C3", markersize=4, label="mean paired difference")
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_yticks(y, frame.index, fontsize="small")
        ax.set_ylim(len(frame) - 0.5, -0.5)
        ax.set_xlabel("cut − baseline")
        ax.set_title(outcome, fontsize="medium")


    order = (ward_effects[ward_effects["outcome"] == "positive contacts per resident"]
             .sort_values("effect")["ward"].tolist())
    fig, axes = plt.subplots(1, 3, figsize=(16, 10), sharey=True, layout="constrained")
    for ax, outcome in zip(axes, OUTCOMES):
        forest(ax, outcome, order)
    axes[0].legend(loc="lower left", fontsize="small")
    fig.suptitle(f"Effect of the 40% community-centre cut by ward: contacts {CUT_DATE} to {UNTIL}, "
                 f"warmth on {UNTIL}; {R} paired replicates");'''),
    md("""
    ## City-level series

    Left: positive intergroup contacts at community centres per recording period, replicate mean
    with the band spanning the replicates (the last, partial recording period is dotted). Right:
    the paired difference in city-wide outgroup warmth (cut − baseline), one thin line per
    replicate; before April 2021 the two runs are identical, so the difference is exactly zero.
    """),
    code('''\
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), layout="constrained")
    for ds in (base, cut):
        plotting.plot_series(ds, "contacts_positive", by=None, venue_type="community_centre", ax=axes[0], band=0.95)
    # One solid line per scenario (a partial last period adds unlabelled dotted segments).
    solid = [line for line in axes[0].get_lines() if not line.get_label().startswith("_")]
    axes[0].legend(solid, ["baseline", "40% cut"], loc="lower left")
    axes[0].axvline(np.datetime64(CUT_DATE), color="grey", linestyle=":")

    difference = (plotting.aggregate(cut, "mean_warmth", by=None)
                  - plotting.aggregate(base, "mean_warmth", by=None)) * 100
    times = difference["time"].values
    for r in range(R):
        axes[1].plot(times, difference.isel(replicate=r).values, color="C0", alpha=0.35, linewidth=0.8)
    axes[1].plot(times, difference.mean("replicate").values, color="C0", linewidth=2, label="mean of replicates")
    axes[1].axhline(0, color="grey", linewidth=0.8)
    axes[1].axvline(np.datetime64(CUT_DATE), color="grey", linestyle=":")
    axes[1].set_ylabel("cut − baseline (thermometer points)")
    axes[1].set_title("Paired difference in city-wide outgroup warmth", fontsize="medium")
    axes[1].legend();'''),
    md("## Sanity checks"),
    code('''\
    for p in paths["baseline"] + paths["cut"] + [OUT / "02_ward_effects.csv", OUT / "02_city_effects.csv"]:
        assert pathlib.Path(p).is_file(), p
    assert int(base["contacts_positive"].sum()) > 0 and int(cut["contacts_positive"].sum()) > 0
    # Identical histories before the cut (common random numbers): the first records agree exactly.
    before = slice(None, str(CUT_DATE - dt.timedelta(days=7)))
    assert (base["contacts_positive"].sel(time=before) == cut["contacts_positive"].sel(time=before)).all()
    # The cut runs 4 of 6 weekly sessions.
    assert ((session_ratio > 0.55) & (session_ratio < 0.8)).all(), session_ratio
    assert budget["cut"] < budget["baseline"]
    # Every interval is finite; the cut removes community-centre contact with certainty.
    assert np.isfinite(city[["effect", "lo", "hi", "unpaired_lo", "unpaired_hi"]].values).all()
    assert np.isfinite(ward_effects[["effect", "lo", "hi"]].values).all()
    assert city.loc["community-centre positive contacts per resident", "hi"] < 0
    assert city.loc["positive contacts per resident", "effect"] < 0
    assert city.loc["outgroup warmth at end (points)", "hi"] < 0
    # Pairing narrows the city-level intervals.
    assert (city["paired width"] < city["unpaired width"]).all(), city[["paired width", "unpaired width"]]
    print("all checks passed")'''),
    md("""
    ## What this shows / limits

    - The cut removes a clear, certain slice of intergroup contact: community-centre contact
      falls by roughly the share of sessions lost (a third), and almost all of it is lost rather
      than made up at other venues, so total positive contact per resident falls by nearly the
      same amount. The most diverse wards (Hanley Park and Shelton, Etruria and Hanley,
      Lightwood North and Normacot) lose the most, because their centres are the most mixed.
    - Community centres carry only a few percent of all intergroup encounters (schools,
      workplaces and streets carry most), so the effect on outgroup warmth is small — in the
      fast run a few hundredths of a thermometer point nine months after the cut — but it is not
      noise: the paired difference is below zero in every replicate and grows steadily while the
      cut lasts.
    - Common random numbers make the comparison far more precise than independent runs: the
      paired intervals are several to hundreds of times narrower, so far fewer replicates are
      needed to see effects of this size.
    - **Limits.** In fast mode the population is a few percent of the city and the horizon ends
      nine months after the cut, so ward-level estimates rest on a handful of centres; run with
      `CONTACTSIM_NOTEBOOK_FULL=1` for the full city to 2024. Replicates differ only in their
      random draws (including the drawing of the synthetic population from the same targets), so
      the intervals express simulation noise, not uncertainty in the parameters or in the
      illustrative ward compositions.
    """),
]


# 03 segregation --------------------------------------------------------------------------------

SEGREGATION = [
    md("""
    # Residential mobility and segregation

    **Question.** If residents who find too few own-group neighbours in their block move away
    (Schelling's mechanism, `[mechanisms.mobility]`), how segregated does the city become over
    four years, and how much does it matter how tolerant people are? Three versions of the
    default scenario are compared: moves without any neighbourhood preference (only life-course
    moves and migration: `base_threshold = 0`), the default preference (at least a third of
    own-group neighbours, less for residents who feel warmly toward other groups), and a less
    tolerant city (at least half, however warm their views).

    Segregation is measured by the dissimilarity index (each group vs everyone else), the
    isolation index (own-group share in the average member's unit) and the multigroup Theil H,
    over blocks (neighbourhoods of ~200 simulated residents) and over wards.

    **Maps.** The data hold no ward boundary geometries (only names and populations), so ward
    results are shown as ward-level charts — heatmaps and sorted dot charts — not maps.

    {CAVEATS}

    {FLAG_TEXT}
    """),
    code(SETUP),
    md("""
    ## Settings

    The preference is set by `[mechanisms.mobility]` (`docs/parameters.md`): a resident is
    dissatisfied when the own-group share of their block is below
    `base_threshold · (1 − warmth_relief · mean outgroup warmth)`, and then moves with
    `move_probability` a month. With the defaults (`base_threshold` 1/3, `warmth_relief` 0.5) and
    outgroup warmth around 0.6–0.7, residents are content with about a fifth of own-group
    neighbours. The less tolerant city sets `base_threshold = 0.5` and `warmth_relief = 0`: half,
    whatever one's views. "No preference" sets `base_threshold = 0`: only life-course moves,
    departures and arrivals (with chain migration) reshape the blocks.

    At the fast scale (5% of residents) blocks of 200 simulated residents would leave one or two
    blocks per ward, and block-level segregation would collapse into ward-level segregation; the
    fast mode therefore uses blocks of 50 simulated residents (several per ward). Full mode keeps
    the scenario's 200.
    """),
    code('''\
    SCALE = 1.0 if FULL else 0.05
    BLOCK_SIZE = 200 if FULL else 50
    R = 3 if FULL else 1
    SEED = 20200101
    # No spin-up here: the question is how each preference sorts the same city from the same
    # start, so every version starts from the city as built.
    base = contactsim.Scenario.load("../scenarios/stoke_on_trent.toml").override(
        {"population.scale": SCALE, "population.block_size": BLOCK_SIZE, "record.interval": "month",
         "simulation.spin_up_days": 0})
    mobility = base.to_dict().get("mechanisms", {}).get("mobility", {})
    print("mobility settings in the scenario (absent = documented defaults):", mobility or "defaults")
    VARIANTS = {
        "no preference": {"mechanisms.mobility.base_threshold": 0.0},
        "default (1/3)": {},
        "less tolerant (1/2)": {"mechanisms.mobility.base_threshold": 0.5, "mechanisms.mobility.warmth_relief": 0.0},
    }
    scenarios = {name: base.override(values) for name, values in VARIANTS.items()}
    print(scenarios["default (1/3)"])'''),
    code('''\
    def ward_block_dissimilarity(sim, majority=0):
        """Within-ward dissimilarity over blocks of the majority group vs everyone else, per ward."""
        ward, block, group = sim.ward.astype(np.int64), sim.block.astype(np.int64), sim.group
        result = np.full(len(base.wards), np.nan)
        for w in range(len(base.wards)):
            here = ward == w
            _, b = np.unique(block[here], return_inverse=True)
            maj = np.bincount(b, weights=(group[here] == majority), minlength=b.max() + 1)
            rest = np.bincount(b, weights=(group[here] != majority), minlength=b.max() + 1)
            if maj.sum() > 0 and rest.sum() > 0:
                result[w] = 0.5 * np.abs(maj / maj.sum() - rest / rest.sum()).sum()
        return result


    paths = {name: [] for name in scenarios}
    within_ward = {}          # variant -> (start, end) within-ward dissimilarity, replicate 0
    for name, sc in scenarios.items():
        for r in range(R):
            sim = contactsim.Simulation(sc, seed=SEED, replicate=r, threads=THREADS)
            if r == 0:
                at_start = ward_block_dissimilarity(sim)
            path = OUT / f"03_{name.split()[0]}_r{r}.h5"
            sim.run(output=path, overwrite=True, progress=False)
            if r == 0:
                within_ward[name] = (at_start, ward_block_dissimilarity(sim))
            paths[name].append(path)
    print(f"{len(scenarios) * R} runs of {base.start} to {base.end}")
    results = {name: contactsim.concat_replicates(p) for name, p in paths.items()}'''),
    md("""
    ## Segregation over time

    Multigroup Theil H over blocks and over wards. With common random numbers the three versions
    start from the same city; only the moves differ.
    """),
    code('''\
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), sharey=True, layout="constrained")
    for ax, unit in zip(axes, ("block", "ward")):
        for name, ds in results.items():
            plotting.plot_segregation(ds, "theil_h", unit=unit, ax=ax)
        ax.legend(ax.get_lines(), list(results), fontsize="small")
    theil = pd.DataFrame({name: plotting.aggregate(ds, "segregation_theil_h", None, spatial_unit="block")
                          .mean("replicate").to_series() for name, ds in results.items()})
    theil.iloc[[0, 11, 23, 35, -1]].round(4)'''),
    md("""
    ### Dissimilarity and isolation by group

    Dissimilarity: the share of a group that would have to move block for it to be spread like
    everyone else. Isolation: the own-group share of the block of the average member.
    """),
    code('''\
    for index in ("dissimilarity", "isolation"):
        fig, axes = plt.subplots(1, len(results), figsize=(16, 4.2), sharey=True, layout="constrained")
        for ax, (name, ds) in zip(axes, results.items()):
            plotting.plot_segregation(ds, index, unit="block", ax=ax)
            ax.set_title(f"{index} over blocks: {name}", fontsize="medium")
            if ax is not axes[-1]:
                ax.get_legend().remove()

    end_table = pd.concat({name: pd.DataFrame({
        "dissimilarity": plotting.aggregate(ds, "segregation_dissimilarity", "group", spatial_unit="block").isel(time=-1).mean("replicate").to_series(),
        "isolation": plotting.aggregate(ds, "segregation_isolation", "group", spatial_unit="block").isel(time=-1).mean("replicate").to_series(),
    }) for name, ds in results.items()}, axis=1)
    start_table = pd.DataFrame({
        "dissimilarity": plotting.aggregate(results["default (1/3)"], "segregation_dissimilarity", "group", spatial_unit="block").isel(time=0).mean("replicate").to_series(),
        "isolation": plotting.aggregate(results["default (1/3)"], "segregation_isolation", "group", spatial_unit="block").isel(time=0).mean("replicate").to_series()})
    print("first record (all versions start alike):")
    display(start_table.round(3))
    print("last record:")
    end_table.round(3)'''),
    md("""
    ## Ward-level charts (no maps: the data hold no ward geometries)

    Left: each ward's group shares at the first record, wards sorted by the share not White
    British. Right: the change in those shares by the end of the run in the less tolerant city
    (percentage points). Residential moves reshape blocks far more than wards: most moves stay
    within a ward, and newcomers follow chain migration.
    """),
    code('''\
    def shares(ds, time):
        population = ds["population"].isel(time=time).mean("replicate")
        return (population / population.sum("group")).to_pandas()


    tolerant_less = results["less tolerant (1/2)"]
    start_shares = shares(tolerant_less, 0)
    change = (shares(tolerant_less, -1) - start_shares) * 100
    order = start_shares["white_british"].sort_values().index
    fig, axes = plt.subplots(1, 2, figsize=(14, 10), sharey=True, layout="constrained")
    image = axes[0].imshow(start_shares.loc[order].values, aspect="auto", cmap="viridis")
    fig.colorbar(image, ax=axes[0], label="share of ward residents")
    limit = np.nanmax(np.abs(change.values))
    image = axes[1].imshow(change.loc[order].values, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=axes[1], label="change (percentage points)")
    axes[0].set_yticks(range(len(order)), order, fontsize="small")
    for ax, title in zip(axes, ("Group shares at the start", "Change by the end, less tolerant city")):
        ax.set_xticks(range(start_shares.shape[1]), start_shares.columns, rotation=45, ha="right")
        ax.set_title(title, fontsize="medium")'''),
    md("""
    Within each ward: dissimilarity over the ward's blocks of White British residents vs
    everyone else, computed from the residents' arrays (`sim.ward`, `sim.block`, `sim.group`)
    at the start and the end of replicate 0. Wards sorted by the end value in the less tolerant
    city (most segregated at the top); wards with very few minority residents have noisy values
    at the fast scale.
    """),
    code('''\
    within = pd.DataFrame({"start": within_ward["default (1/3)"][0]}, index=base.wards)
    for name in results:
        within[name] = within_ward[name][1]
    within = within.sort_values("less tolerant (1/2)", ascending=False)
    fig, ax = plt.subplots(figsize=(9, 11), layout="constrained")
    y = np.arange(len(within))
    ax.hlines(y, within.min(axis=1), within.max(axis=1), color="0.85", linewidth=1)
    for column, marker in zip(within.columns, ("o", "s", "D", "^")):
        style = dict(markerfacecolor="none", color="black") if column == "start" else {}
        ax.plot(within[column], y, marker, label=column, markersize=5, **style)
    ax.set_yticks(y, within.index, fontsize="small")
    ax.set_ylim(len(within) - 0.5, -0.5)
    ax.set_xlabel("within-ward block dissimilarity, White British vs others")
    ax.set_title("Segregation within wards: start, and end of each version", fontsize="medium")
    ax.legend(fontsize="small")
    within.describe().round(3)'''),
    md("""
    ## Does segregation cost contact?

    Streets are the block-level venue: their contact follows residential mixing. Positive
    intergroup contacts per resident in the last year of the run, and outgroup warmth at the end.
    """),
    code('''\
    def last_year(name, ds):
        window = ds.sel(time=slice(str(base.end - dt.timedelta(days=364)), None))
        residents = window["population"].sum(["ward", "group"]).mean("time")
        street = window["contacts_positive"].sel(venue_type="street").sum(["time", "ward", "group"]) / residents
        total = window["contacts_positive"].sum(["time", "ward", "group", "venue_type"]) / residents
        warmth = plotting.aggregate(ds, "mean_warmth", None).isel(time=-1)
        return pd.Series({"street positive contacts / resident": float(street.mean()),
                          "all positive contacts / resident": float(total.mean()),
                          "outgroup warmth at end": float(warmth.mean()),
                          "Theil H (blocks) at end": float(theil[name].iloc[-1])})


    contact_table = pd.DataFrame({name: last_year(name, ds) for name, ds in results.items()})
    contact_table.to_csv(OUT / "03_segregation_summary.csv")
    contact_table.round(4)'''),
    md("## Sanity checks"),
    code('''\
    for p in sum(paths.values(), []) + [OUT / "03_segregation_summary.csv"]:
        assert pathlib.Path(p).is_file(), p
    for name, ds in results.items():
        population = ds["population"].sum(["ward", "group"])
        assert (population == population.isel(time=0)).all(), f"{name}: the city's total changed"
        for index in ("dissimilarity", "isolation", "theil_h"):
            values = ds[f"segregation_{index}"]
            assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all(), (name, index)
        # Blocks nest in wards, so segregation over wards cannot exceed segregation over blocks.
        theil_units = ds["segregation_theil_h"]
        assert (theil_units.sel(spatial_unit="ward") <= theil_units.sel(spatial_unit="block") + 1e-6).all()
        assert int(ds["moves_out"].sum()) > 0
    # Same start for every version (common random numbers); a stronger preference segregates more.
    assert theil.iloc[0].nunique() == 1, theil.iloc[0]
    assert theil["less tolerant (1/2)"].iloc[-1] > theil["default (1/3)"].iloc[-1] > theil["no preference"].iloc[-1], theil.iloc[-1]
    assert contact_table.loc["street positive contacts / resident"].gt(0).all()
    print("all checks passed")'''),
    md("""
    ## What this shows / limits

    - Without any neighbourhood preference, moving home and migration slowly mix the synthetic
      city's initially clustered blocks: block-level segregation falls. The default mild
      preference (a third of own-group neighbours, less for residents warm toward other groups)
      is enough to stop that and hold segregation roughly where it started; wanting half,
      whatever one's views of other groups, raises it further. Under a preference the
      dissimilarity of Other White (mostly Eastern European) and Asian residents rises — groups
      large enough to fill blocks, helped by newcomers settling near co-ethnics — while that of
      the smallest groups falls.
    - Ward-level segregation moves much less than block-level segregation: the sorting happens
      between neighbouring blocks, which ward statistics (the only level with published counts)
      cannot see.
    - More segregated blocks mean fewer intergroup encounters on the street and a little less
      intergroup contact overall; the effect on warmth over four years is small relative to the
      warmth drift from contact elsewhere.
    - **Limits.** Households are single residents; the city's total and the group shares of
      arrivals are fixed; block size and ward compositions are illustrative; there are no
      housing prices or tenure. Fast mode runs one replicate at 5% scale with smaller blocks, so
      its numbers are noisy and not comparable in level with a full-scale run (block size changes
      the indices). No ward geometries are available, hence charts instead of maps.
    """),
]


# 04 youth programme ---------------------------------------------------------------------------

YOUTH = [
    md("""
    # Evaluating a youth social-mixing programme

    **Question.** Does an NCS-like youth programme (`scenarios/youth_programme_targeted.toml`:
    12% of eligible 16–17-year-olds a year, mixed teams of 14, 10 residential days and 60 hours
    of sessions, two cohorts a year 2021–2023, recruitment targeted at youth from segregated
    blocks) warm its participants toward other groups, 4 and 12 months after they start? And is
    the effect different in wards whose neighbourhoods are more segregated?

    **Design.** As the NCS evaluations did, each participant is compared with a matched
    non-participant of the same ward, group and age band (`sim.matched_non_participants()`),
    drawn on the cohort's first day. The outcome is the change in the resident's mean outgroup
    warmth from the day before the cohort starts; the effect is the mean difference in change,
    participant minus match, with a 95% t-interval over pairs. The simulation is stepped to each
    cohort start, and warmth snapshots (`sim.warmth.copy()` reduced to outgroup warmth) are taken
    at the start and monthly afterwards.

    {CAVEATS}

    {FLAG_TEXT} In fast mode only the 2021 cohorts are followed (to 12 months after the second
    cohort starts, October 2022), at 10% scale, so the intervals are wide; full mode follows all
    six cohorts at full scale.
    """),
    code(SETUP),
    code(HELPERS_INTERVALS),
    md("## The programme and its cohorts"),
    code('''\
    SCALE = 1.0 if FULL else 0.1
    scenario = contactsim.Scenario.load("../scenarios/youth_programme_targeted.toml").override(
        {"population.scale": SCALE, "record.interval": "month"})
    programme = next(item for item in scenario.to_dict()["timeline"] if item["kind"] == "youth_programme")
    SPIN_UP_DAYS = scenario.to_dict()["simulation"].get("spin_up_days", 1095)  # the default spin-up
    print(scenario)
    print(programme)


    # The cohorts' start dates and the days to stop on, as `make validate` evaluates the programme.
    from contactsim.validation import add_months, cohort_starts, follow_up_plan


    FOLLOW_UP = {"4 months": 4, "12 months": 12}
    MONTHS = list(range(1, 13))               # monthly snapshots after the start, for the trajectory
    cohorts = [c for c in cohort_starts(programme) if add_months(c, max(MONTHS)) <= scenario.end]
    if not FULL:
        cohorts = [c for c in cohorts if c.year == cohorts[0].year]
    print("cohorts followed:", [str(c) for c in cohorts])'''),
    md("""
    ## Stepping to each cohort and taking snapshots

    Checkpoints: the day before each cohort starts (baseline warmth for everyone), its first
    day (participants are known: `programme_start_day` holds the day index of each resident's
    cohort start, −1 for never; the matched non-participants are drawn), then 1 to 12 months
    later. Only the ids of participants and matches are followed, so memory stays small at full
    scale.

    **Who is still the same person?** When a resident leaves the city (or dies), their slot is
    re-used by a newcomer (or a newborn) with a freshly drawn `disposition`. A pair is dropped
    from a follow-up if either slot's disposition changed since the cohort started, or if the
    match has since joined a later cohort (no longer a non-participant).
    """),
    code('''\
    G = len(scenario.groups)


    def outgroup_warmth(sim):
        warmth = sim.warmth.copy()                         # snapshot, not the live view
        group = sim.group.astype(np.int64)
        own = warmth[np.arange(group.size), group]
        return (warmth.sum(axis=1) - own) / (G - 1)


    def day_index(day):
        # Day indexes count from the first simulated day: the spin-up's.
        return (day - scenario.start).days + SPIN_UP_DAYS


    def block_own_share(sim, ids):
        """Own-group share of the residents' blocks (themselves included)."""
        block, group = sim.block.astype(np.int64), sim.group.astype(np.int64)
        cells = np.bincount(block * G + group, minlength=(block.max() + 1) * G).reshape(-1, G)
        return cells[block[ids], group[ids]] / cells[block[ids]].sum(axis=1)


    checkpoints = follow_up_plan(cohorts, MONTHS)           # date -> list of (what, cohort)
    last_day = max(checkpoints)

    RESULTS = OUT / "04_youth_programme.h5"
    sim = contactsim.Simulation(scenario, threads=THREADS)
    sim.record_to(RESULTS, overwrite=True)
    pre, cohort_info, rows = {}, {}, []
    for day in sorted(checkpoints):
        if day == last_day:
            sim.run(until=day, progress=False)      # while recording: ends the run, records the last period
        else:
            sim.step((day - sim.date).days)
        assert sim.date == day, (sim.date, day)
        warmth_now = outgroup_warmth(sim)
        disposition = sim.agents("disposition").copy()
        start_day = sim.agents("programme_start_day").copy()
        for what, c in checkpoints[day]:
            if what == "pre":
                pre[c] = (warmth_now, disposition)
            elif what == "start":
                ids = np.flatnonzero(start_day == day_index(c))
                matches = sim.matched_non_participants()[ids]
                ids, matches = ids[matches >= 0], matches[matches >= 0]
                w0, d0 = pre.pop(c)
                cohort_info[c] = dict(ids=ids, matches=matches, w0_p=w0[ids], w0_m=w0[matches],
                                      d_p=d0[ids], d_m=d0[matches], ward=sim.ward[ids].astype(int),
                                      group=sim.group[ids].astype(int),
                                      own_share_p=block_own_share(sim, ids), own_share_m=block_own_share(sim, matches),
                                      strata_equal=bool((sim.ward[ids] == sim.ward[matches]).all()
                                                        and (sim.group[ids] == sim.group[matches]).all()
                                                        and (sim.age_band[ids] == sim.age_band[matches]).all()),
                                      eligible_unmatched=int((start_day == day_index(c)).sum()) - ids.size)
                if c == cohorts[0]:
                    block_state = (sim.ward.copy(), sim.block.copy(), sim.group.copy())
            else:
                info = cohort_info[c]
                ids, matches = info["ids"], info["matches"]
                valid = ((disposition[ids] == info["d_p"]) & (disposition[matches] == info["d_m"])
                         & (start_day[matches] < 0))
                rows.append(pd.DataFrame(dict(
                    cohort=str(c), months=what, participant=ids, match=matches, ward=info["ward"],
                    group=info["group"], valid=valid,
                    change_participant=warmth_now[ids] - info["w0_p"],
                    change_match=warmth_now[matches] - info["w0_m"])))
    print(f"simulated {scenario.start} to {sim.date}")
    pairs = pd.concat(rows, ignore_index=True)
    pairs["effect"] = pairs["change_participant"] - pairs["change_match"]
    pd.DataFrame({str(c): dict(participants_matched=info["ids"].size, without_match=info["eligible_unmatched"],
                               same_ward_group_age=info["strata_equal"])
                  for c, info in cohort_info.items()}).T'''),
    md("""
    ### Who took part

    Targeted recruitment oversamples youth from segregated blocks: compare the own-group share
    of the participants' blocks with that of their matches (same ward, group and age band), and
    their outgroup warmth before the programme.
    """),
    code('''\
    selection = []
    for c, info in cohort_info.items():
        selection.append(dict(cohort=str(c), n=info["ids"].size,
                              participants_block_own_share=info["own_share_p"].mean(),
                              matches_block_own_share=info["own_share_m"].mean(),
                              participants_warmth_before=info["w0_p"].mean(), matches_warmth_before=info["w0_m"].mean()))
    participants_by_group = pd.Series(np.concatenate([info["group"] for info in cohort_info.values()])).map(
        dict(enumerate(scenario.groups))).value_counts()
    display(pd.DataFrame(selection).round(3))
    participants_by_group.rename("participants")'''),
    md("""
    ## Effect at 4 and 12 months

    Mean change in outgroup warmth (thermometer points) of participants and of their matches,
    and the difference, over all followed cohorts.
    """),
    code('''\
    def effect_row(frame):
        frame = frame[frame["valid"]]
        m, lo, hi = t_interval(frame["effect"] * 100)
        return pd.Series(dict(pairs=len(frame), participants=frame["change_participant"].mean() * 100,
                              matches=frame["change_match"].mean() * 100, effect=m, lo=lo, hi=hi))


    effects = pd.DataFrame({label: effect_row(pairs[pairs["months"] == k]) for label, k in FOLLOW_UP.items()}).T
    dropped = pairs[~pairs["valid"]].groupby("months").size().reindex(list(FOLLOW_UP.values()), fill_value=0)
    print("pairs dropped (slot re-used, or the match joined a later cohort):", dict(zip(FOLLOW_UP, dropped)))
    effects.round(3)'''),
    code('''\
    def mean_and_half_width(values):
        """Per month: mean × 100 and half-width of the 95% t-interval (thermometer points)."""
        grouped = values.groupby(pairs.loc[values.index, "months"])
        half = stats.t.ppf(0.975, grouped.count() - 1) * grouped.sem()
        return grouped.mean() * 100, half * 100


    valid = pairs[pairs["valid"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")
    for column, label in (("change_participant", "participants"), ("change_match", "matched non-participants")):
        mean, half = mean_and_half_width(valid[column])
        months = np.r_[0, mean.index]                    # month 0: the day before the start, no change
        axes[0].plot(months, np.r_[0, mean], marker="o", label=label)
        axes[0].fill_between(months, np.r_[0, mean - half], np.r_[0, mean + half], alpha=0.2)
    axes[0].set_xlabel("months after the cohort started")
    axes[0].set_ylabel("change in outgroup warmth (points)")
    axes[0].set_title("Change since the day before the cohort started", fontsize="medium")
    axes[0].legend()
    mean, half = mean_and_half_width(valid["effect"])
    axes[1].errorbar(mean.index, mean, yerr=half, marker="o", capsize=3, color="C3")
    axes[1].axhline(0, color="grey", linewidth=0.8)
    for k in FOLLOW_UP.values():
        axes[1].axvline(k, color="grey", linestyle=":")
    axes[1].set_xlabel("months after the cohort started")
    axes[1].set_ylabel("participant − match (points)")
    axes[1].set_title("Programme effect, 95% t-interval over pairs", fontsize="medium");'''),
    md("""
    ## Does the effect depend on how segregated the ward is?

    Ward segregation is measured from the residents' arrays when the first cohort starts:
    dissimilarity over the ward's blocks of White British residents vs everyone else. Wards at or
    above the median are "more segregated". The same split by the ward's minority share is shown
    for comparison (the two are related but not the same: a ward can be diverse and evenly mixed).
    """),
    code('''\
    ward0, block0, group0 = block_state
    wards = np.arange(len(scenario.wards))
    dissimilarity = np.full(wards.size, np.nan)
    minority_share = np.full(wards.size, np.nan)
    for w in wards:
        here = ward0 == w
        _, b = np.unique(block0[here], return_inverse=True)
        white = np.bincount(b, weights=(group0[here] == 0), minlength=b.max() + 1)
        other = np.bincount(b, weights=(group0[here] != 0), minlength=b.max() + 1)
        minority_share[w] = other.sum() / here.sum()
        if white.sum() and other.sum():
            dissimilarity[w] = 0.5 * np.abs(white / white.sum() - other / other.sum()).sum()
    ward_table = pd.DataFrame({"block dissimilarity": dissimilarity, "minority share": minority_share},
                              index=scenario.wards)
    splits = {column: ward_table[column] >= ward_table[column].median() for column in ward_table}

    split_rows = []
    for column, high in splits.items():
        for label, k in FOLLOW_UP.items():
            at_k = pairs[(pairs["months"] == k) & pairs["valid"]]
            in_high = high.to_numpy()[at_k["ward"].to_numpy()]
            for part, name in ((at_k[in_high], "above median"), (at_k[~in_high], "below median")):
                split_rows.append(dict(split=column, follow_up=label, wards=name, **effect_row(part)))
            diff, lo, hi = welch_interval(at_k.loc[in_high, "effect"] * 100, at_k.loc[~in_high, "effect"] * 100)
            split_rows.append(dict(split=column, follow_up=label, wards="difference (above − below)",
                                   pairs=len(at_k), effect=diff, lo=lo, hi=hi))
    by_segregation = pd.DataFrame(split_rows)
    by_segregation.to_csv(OUT / "04_effects_by_ward_segregation.csv", index=False)
    effects.to_csv(OUT / "04_effects.csv")
    by_segregation.round(3)'''),
    code('''\
    fig, axes = plt.subplots(1, 2, figsize=(13, 4), sharey=True, layout="constrained")
    for ax, column in zip(axes, splits):
        frame = by_segregation[(by_segregation["split"] == column)
                               & (by_segregation["wards"] != "difference (above − below)")]
        for j, (name, part) in enumerate(frame.groupby("wards")):
            x = np.arange(len(part)) + (j - 0.5) * 0.25
            ax.errorbar(x, part["effect"], yerr=[part["effect"] - part["lo"], part["hi"] - part["effect"]],
                        fmt="o", capsize=4, label=f"wards {name} ({column})")
        ax.set_xticks(range(len(FOLLOW_UP)), list(FOLLOW_UP))
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_ylabel("participant − match (points)")
        ax.set_title(f"Split by ward {column}", fontsize="medium")
        ax.legend(fontsize="small")'''),
    md("## Sanity checks"),
    code('''\
    for p in (RESULTS, OUT / "04_effects.csv", OUT / "04_effects_by_ward_segregation.csv"):
        assert p.is_file(), p
    events = contactsim.read_events(RESULTS)
    logged = sorted(pd.to_datetime(events.loc[events["kind"] == "youth_programme_cohort", "date"]).dt.date)
    assert set(cohorts) <= set(logged), (cohorts, logged)
    for c, info in cohort_info.items():
        assert info["ids"].size >= 10, f"cohort {c}: only {info['ids'].size} matched participants"
        assert info["strata_equal"], f"cohort {c}: a match differs in ward, group or age band"
        assert not np.isin(info["matches"], info["ids"]).any(), "a match took part"
    assert (effects["pairs"] >= 10).all()
    assert np.isfinite(effects[["effect", "lo", "hi"]].to_numpy()).all()
    assert np.isfinite(by_segregation[["effect", "lo", "hi"]].to_numpy()).all()
    ds = contactsim.open_results(RESULTS)
    assert int(ds["contacts_positive"].sel(venue_type="youth_programme").sum()) > 0
    # Mixed, well-run teams make participants warmer than their matches while the programme runs.
    assert effects.loc["4 months", "effect"] > 0, effects
    print("all checks passed")'''),
    md("""
    ## What this shows / limits

    - Participants come out of the programme warmer toward other groups than comparable
      non-participants of the same ward, group and age band; part of the gain fades as everyday
      contact and local norms pull warmth back, so the 12-month effect is smaller than the
      4-month one. This mirrors the NCS evaluations' pattern of real but modest, fading effects.
      Matches change too (everyday contact and the norms act on everyone), which is why the
      effect is measured against them and not by the participants' change alone.
    - Targeted recruitment draws participants from blocks with a somewhat higher own-group share
      than their matches: youth with less everyday intergroup contact. Whether the effect differs
      between more and less segregated wards is shown with its interval: in fast mode the split
      rests on a few dozen pairs per half and the halves are indistinguishable; at full scale
      they differ by at most a few tenths of a point against an effect of about two and a half
      points, so the programme works about as well in segregated as in mixed wards.
    - **Limits.** Matching is on ward, group and age band only (as the evaluations did), and is
      with replacement, so pairs sharing a match are not independent and the t-intervals are
      somewhat too narrow. The programme's parameters (encounters, quality, depth) are
      illustrative. Fast mode follows two cohorts at 10% scale; run with
      `CONTACTSIM_NOTEBOOK_FULL=1` for all six cohorts at full scale. To compare with
      self-selected recruitment, override the programme item's `targeted` to `false`
      (`scenario.override({"timeline[0].targeted": False})`) and rerun.
    """),
]


from calibration_cells import CELLS as CALIBRATION  # noqa: E402  (05 keeps its own caveats)
from baseline_cells import CELLS as BASELINE  # noqa: E402  (06 too)

NOTEBOOKS = {
    "01_quickstart": QUICKSTART,
    "02_funding_cuts_counterfactual": FUNDING,
    "03_segregation": SEGREGATION,
    "04_youth_programme_evaluation": YOUTH,
    "05_calibration": CALIBRATION,
    "06_baseline_calibration": BASELINE,
}


def build(name: str) -> nbformat.NotebookNode:
    cells = []
    for k, (kind, source) in enumerate(NOTEBOOKS[name]):
        cell = new_markdown_cell(source) if kind == "markdown" else new_code_cell(source)
        cell["id"] = f"{name[:2]}-{k:02d}"      # fixed ids: regenerating gives identical files
        cells.append(cell)
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    """The notebook's text as stored before execution."""
    return nbformat.writes(build(name)) + "\n"


def path(name: str) -> pathlib.Path:
    return HERE / f"{name}.ipynb"


def without_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def stored_source(name: str) -> str | None:
    """The stored notebook with its outputs removed, as render() writes it (None if missing)."""
    if not path(name).is_file():
        return None
    return nbformat.writes(without_outputs(nbformat.read(path(name), as_version=4))) + "\n"


# Execution in fast mode: `make notebooks` stores what this gives, and the tests run it too.

# The stored outputs are those of fast mode with the default threads and output folder,
# whatever the caller's environment says; the kernel's inline backend draws the figures.
NOT_INHERITED = ("CONTACTSIM_NOTEBOOK_FULL", "CONTACTSIM_NOTEBOOK_THREADS", "CONTACTSIM_NOTEBOOK_OUTPUT",
                 "MPLBACKEND")


def kernel_env(output: pathlib.Path | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env["HDF5_USE_FILE_LOCKING"] = "FALSE"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"     # one debugpy frozen-modules warning on the terminal, not two
    if output is not None:
        env["CONTACTSIM_NOTEBOOK_OUTPUT"] = str(output)
    return env


def execute(name: str, output: pathlib.Path | None = None, timeout: int = 600) -> nbformat.NotebookNode:
    """Notebook `name` as generated, executed in fast mode with this folder as working directory
    and `contactsim` from the caller's PYTHONPATH; files go to `output` (default: the notebooks'
    own default, ../results/notebooks). Raises nbclient's CellExecutionError if a cell fails."""
    import nbclient     # only execution needs it

    nb = build(name)
    metadata = copy.deepcopy(nb.metadata)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(HERE)}})
    client.execute(env=kernel_env(output))
    nb.metadata = metadata      # the kernel's language_info names this machine's Python version
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    return nb


def coalesce_streams(outputs: list) -> list:
    """Consecutive prints to one stream as one output: how the kernel batches them depends on timing."""
    merged = []
    for out in outputs:
        previous = merged[-1] if merged else None
        if (out.output_type == "stream" and previous is not None and previous.output_type == "stream"
                and previous.name == out.name):
            previous.text += out.text
        else:
            merged.append(out)
    return merged


def store_executed(name: str) -> None:
    nb = execute(name)
    path(name).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    print(f"executed {path(name).name}: {path(name).stat().st_size / 1e6:.2f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"notebooks to handle (default: all of {', '.join(NOTEBOOKS)})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="compare the stored cells with this file instead of writing; exit 1 on a difference")
    mode.add_argument("--execute", action="store_true",
                      help="execute in fast mode and store the notebooks with their outputs "
                           "(contactsim must be importable: `make notebooks` sets PYTHONPATH)")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(NOTEBOOKS))
    if unknown:
        parser.error(f"unknown notebooks: {', '.join(unknown)}")
    names = args.names or list(NOTEBOOKS)
    if args.execute:
        for name in names:
            store_executed(name)
        return 0
    stale = [name for name in names if stored_source(name) != render(name)]
    if args.check:
        if stale:
            print("out of date (run `make notebooks`):", ", ".join(stale), file=sys.stderr)
        return 1 if stale else 0
    # Only changed notebooks are rewritten (losing their outputs): the others keep theirs.
    for name in stale:
        path(name).write_text(render(name), encoding="utf-8")
        print(f"wrote {path(name)} (without outputs: `make notebooks` executes it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
