"""The baseline's validation targets and the statistics that meet them (docs/validation.md).

Each target is a published figure with its source, the model quantity it is compared with and
a tolerance. :func:`baseline_statistics` reads one run's output; :func:`check` compares;
:func:`write_report` writes the model column of ``docs/validation.md`` and its figures from
several replicates (``make validate``).

    from contactsim.validation import baseline_statistics, check
    stats = baseline_statistics("results/baseline.h5")
    for row in check(stats): print(row)
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

import h5py
import numpy as np

from .results import record_dates

__all__ = ["ValidationTarget", "TARGETS", "YOUTH_TARGETS", "baseline_statistics", "youth_programme_statistics",
           "check", "summarise", "write_report"]


@dataclass(frozen=True)
class ValidationTarget:
    statistic: str     # key of baseline_statistics()
    description: str   # what the model quantity is
    low: float         # accepted band (inclusive)
    high: float
    value: str         # the published figure, as published
    source: str
    calibrated: bool   # fitted by history matching (else: judged only)


#: The targets every default baseline must meet (the ones asserted by ``make validate``).
TARGETS: List[ValidationTarget] = [
    ValidationTarget("ratio_min", "positive : negative intergroup encounters, the lowest simulated year",
                     2.5, 3.5, "positive contact reported ~3x as often as negative, in all five national samples",
                     "Graf, Paolini & Rubin 2014, EJSP 44:536", True),
    ValidationTarget("ratio_max", "positive : negative intergroup encounters, the highest simulated year",
                     2.5, 3.5, "as above, in every year", "Graf, Paolini & Rubin 2014", True),
    ValidationTarget("get_on_well_min_after_first_year",
                     "city get-on-well share, lowest record after the first year", 0.72, 0.82,
                     "agree 'people from different backgrounds get on well together': England 81-86% (CLS "
                     "2013-2021); West Midlands districts median 75.1%, quartiles 72.7-79.6% (Place Survey 2008)",
                     "Community Life Survey (DCMS); Place Survey NI001 (DCLG 2009)", True),
    ValidationTarget("get_on_well_max_after_first_year",
                     "city get-on-well share, highest record after the first year", 0.72, 0.82,
                     "as above", "as above", True),
    ValidationTarget("get_on_well_change_years_2_4",
                     "change in city get-on-well share from the end of year 1 to the end of year 4",
                     -0.02, 0.02, "national and local levels move a few points per decade, not per year",
                     "Citizenship Survey 2003-2011; Community Life Survey 2013-2021", True),
    ValidationTarget("outgroup_warmth_change_years_2_4",
                     "change in city mean outgroup warmth from the end of year 1 to the end of year 4",
                     -0.02, 0.02, "feeling thermometers toward immigrants and minorities move slowly",
                     "British Social Attitudes; Ford 2011, J Ethn Migr Stud 37:1017", False),
    ValidationTarget("contact_warmth_r", "Pearson r across residents: recent intergroup contact vs mean "
                     "outgroup warmth (the last record)", 0.10, 0.35,
                     "contact-prejudice r = -.21 (515 studies); stronger under Allport's conditions",
                     "Pettigrew & Tropp 2006, JPSP 90:751", True),
    ValidationTarget("work_and_school_lead", "where intergroup encounters happen: the smaller of the workplace "
                     "and school shares minus the largest other setting's share", 0.0, 1.0,
                     "people mixed with other ethnic or religious backgrounds most at work and at school or "
                     "college, then at shops, then in pubs, cafes and restaurants; least at places of worship "
                     "and nurseries", "DCLG Citizenship Survey 2010-11 (mixing by setting)", False),
]

#: Settings the Citizenship Survey found people mix in most (``work_and_school_lead``).
LEADING_SETTINGS = ("workplace", "school")

#: The youth programme (scenarios/youth_programme_targeted.toml) evaluated as the NCS evaluations
#: were: participants against matched non-participants (:func:`youth_programme_statistics`).
YOUTH_TARGETS: List[ValidationTarget] = [
    ValidationTarget("youth_d_4_months", "youth programme: participants' outgroup warmth vs matched "
                     "non-participants 4 months after the start (Cohen's d)", 0.05, 0.40,
                     "NCS: small positive effects on trust and mixing 3-6 months on; randomised contact "
                     "studies: mean d = 0.39, smaller in better-designed ones",
                     "Laurence 2019, J Youth Adolesc 48:1264; Paluck, Green & Green 2019, BPP 3:129", False),
    ValidationTarget("youth_d_12_months", "youth programme: the same a year after the start (Cohen's d)",
                     0.0, 0.40, "effects still visible a year on, but smaller",
                     "Laurence 2017 (NCS evaluations); Paluck et al. 2021, Annu Rev Psychol 72:533", False),
    ValidationTarget("youth_persistence", "youth programme: effect at 12 months / effect at 4 months",
                     0.0, 1.0, "fading but lasting", "as above", False),
]


def _attribute(f: h5py.File, name: str, default=None):
    value = f.attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else value


def _slope_per_year(time: Sequence[str], values: np.ndarray, keep: np.ndarray) -> float:
    """Least-squares trend of `values` per year over the records `keep` selects."""
    if keep.sum() < 2:
        return float("nan")
    days = np.array([_dt.date.fromisoformat(t).toordinal() for t in time], dtype=float)
    return float(np.polyfit(days[keep] / 365.25, values[keep], 1)[0])


def baseline_statistics(path: os.PathLike | str) -> Dict[str, object]:
    """The validation statistics of one run's output (every record is a period of the run)."""
    with h5py.File(path, "r") as f:
        s = f["series"]
        time = [str(day) for day in record_dates(s["time"])]
        population = s["population"][:].astype(float)                        # time, ward, group
        get_on_well = s["get_on_well_share"][:].astype(float)
        warmth = s["mean_warmth"][:].astype(float)                            # time, ward, group, target
        positive = s["contacts_positive"][:].astype(float)                   # time, ward, group, venue type
        negative = s["contacts_negative"][:].astype(float)
        r = s["contact_warmth_correlation"][:].astype(float) if "contact_warmth_correlation" in s else None
        venue_types = [v.decode() if isinstance(v, bytes) else str(v) for v in s["venue_type"][:]]
        spin_up_days = _attribute(f, "spin_up_days", 0)
    groups = warmth.shape[-1]
    outgroup = (warmth * (1 - np.eye(groups))).sum(-1) / max(groups - 1, 1)
    weights = population.sum(axis=(1, 2))
    city_gow = (get_on_well * population).sum(axis=(1, 2)) / weights
    city_warmth = (outgroup * population).sum(axis=(1, 2)) / weights
    years = np.array([int(t[:4]) for t in time])
    first = years.min()
    after = years > first
    end_of_first = np.flatnonzero(years == first)[-1]
    ratios = [float(positive[years == y].sum() / max(negative[years == y].sum(), 1.0)) for y in sorted(set(years))]
    by_type = (positive + negative).sum(axis=(0, 1, 2))
    shares = {t: float(by_type[k] / max(by_type.sum(), 1.0)) for k, t in enumerate(venue_types)}
    stats: Dict[str, object] = {
        "spin_up_days": int(spin_up_days),
        "years": sorted(int(y) for y in set(years)),
        "ratio_by_year": ratios,
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "get_on_well": city_gow.tolist(),
        "outgroup_warmth": city_warmth.tolist(),
        "time": time,
        "get_on_well_first": float(city_gow[0]),
        "get_on_well_mean_after_first_year": float(city_gow[after].mean()) if after.any() else float("nan"),
        "get_on_well_min_after_first_year": float(city_gow[after].min()) if after.any() else float("nan"),
        "get_on_well_max_after_first_year": float(city_gow[after].max()) if after.any() else float("nan"),
        "get_on_well_change_years_2_4": float(city_gow[-1] - city_gow[end_of_first]),
        "get_on_well_slope_per_year": _slope_per_year(time, city_gow, after),
        "ratio_mean": float(np.mean(ratios)),
        "outgroup_warmth_change_years_2_4": float(city_warmth[-1] - city_warmth[end_of_first]),
        "contact_warmth_r": float(r[-1]) if r is not None else float("nan"),
        "encounter_share_by_venue_type": shares,
        "work_and_school_lead": _lead_of(shares, LEADING_SETTINGS),
    }
    return stats


def _lead_of(shares: Mapping[str, float], leaders: Sequence[str]) -> float:
    """How far the least of `leaders` is ahead of every other setting (negative: overtaken);
    nan when a leading setting is not in the city."""
    if any(name not in shares for name in leaders):
        return float("nan")
    others = [v for k, v in shares.items() if k not in leaders]
    return min(shares[k] for k in leaders) - (max(others) if others else 0.0)


def check(stats: Mapping[str, object], targets: Sequence[ValidationTarget] = TARGETS) -> List[dict]:
    """Each target with the run's value and whether it lies in the band."""
    rows = []
    for t in targets:
        value = float(stats[t.statistic])
        rows.append({"statistic": t.statistic, "value": value, "low": t.low, "high": t.high,
                     "ok": bool(t.low <= value <= t.high)})
    return rows


def summarise(replicates: Sequence[Mapping[str, object]], targets: Sequence[ValidationTarget] = TARGETS) -> List[dict]:
    """Per target: mean and range over replicates, and whether every replicate lies in the band."""
    rows = []
    for t in targets:
        values = np.array([float(r[t.statistic]) for r in replicates])
        rows.append({"target": t, "mean": float(values.mean()), "min": float(values.min()),
                     "max": float(values.max()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                     "ok": bool(np.all((values >= t.low) & (values <= t.high)))})
    return rows


def _figure(replicates: Sequence[Mapping[str, object]], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for r in replicates:
        days = [(_dt.date.fromisoformat(t) - _dt.date.fromisoformat(r["time"][0])).days / 365.25 for t in r["time"]]
        axes[0].plot(days, r["get_on_well"], color="C0", alpha=0.6, lw=1)
        axes[1].plot(days, r["outgroup_warmth"], color="C1", alpha=0.6, lw=1)
        axes[2].plot(r["years"], r["ratio_by_year"], "o-", color="C2", alpha=0.6)
    axes[0].axhspan(0.72, 0.82, color="C0", alpha=0.12, label="justified band")
    axes[0].set(title="city get-on-well share", xlabel="years after the start", ylim=(0.6, 0.95))
    axes[1].set(title="mean outgroup warmth", xlabel="years after the start")
    axes[2].axhspan(2.5, 3.5, color="C2", alpha=0.12)
    axes[2].set(title="positive : negative, by year", xlabel="year")
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _table(rows: Sequence[Mapping[str, object]]) -> List[str]:
    lines = ["| target | band | model mean | replicate range | in band |", "|---|---|---|---|---|"]
    for row in rows:
        t = row["target"]
        lines.append(f"| {t.description} | {t.low:g} – {t.high:g} | {row['mean']:.3f} | "
                     f"{row['min']:.3f} – {row['max']:.3f} | {'yes' if row['ok'] else '**no**'} |")
    return lines


def _youth_lines(youth: Mapping[str, float]) -> List[str]:
    lines = ["", "The youth programme (matched pairs, one replicate; Cohen's d ± its standard error):", ""]
    lines += _table(summarise([youth], YOUTH_TARGETS)) + [""]
    for months in YOUTH_FOLLOW_UPS:
        lines.append(f"- {months} months: d = {youth[f'youth_d_{months}_months']:.3f} ± "
                     f"{youth[f'youth_d_se_{months}_months']:.3f} over {youth[f'youth_pairs_{months}_months']:.0f} "
                     f"pairs; participants from the more segregated half of blocks minus the rest: "
                     f"{youth[f'youth_segregated_minus_mixed_d_{months}_months']:+.3f}")
    return lines


def write_report(replicates: Sequence[Mapping[str, object]], markdown: os.PathLike | str,
                 figure: Optional[os.PathLike | str] = None, how: str = "",
                 youth: Optional[Mapping[str, float]] = None) -> List[dict]:
    """Rewrites the model column of `markdown` between its markers, and the figure."""
    rows = summarise(replicates)
    lines = _table(rows)
    shares = {k: np.mean([r["encounter_share_by_venue_type"][k] for r in replicates])
              for k in replicates[0]["encounter_share_by_venue_type"]}
    lines += ["", "Share of intergroup encounters by setting (model, mean over replicates):", "",
              "| setting | share |", "|---|---|"]
    lines += [f"| {k} | {v:.1%} |" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])]
    if youth is not None:
        lines += _youth_lines(youth)
        rows += summarise([youth], YOUTH_TARGETS)
    if how:
        lines += ["", how]
    block = "\n".join(lines)
    text = open(markdown, encoding="utf-8").read()
    begin, end = "<!-- model column: begin -->", "<!-- model column: end -->"
    if begin not in text or end not in text:
        raise ValueError(f"{markdown}: expected the markers {begin} and {end} around the model column")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new_text = head + begin + "\n" + block + "\n" + end + tail
    temporary = str(markdown) + ".partial"
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(new_text)
    os.replace(temporary, markdown)
    if figure:
        _figure(replicates, str(figure))
    return rows



# --------------------------------------------------------------------- the youth programme

#: Months after a cohort starts at which participants are compared with their matches: the NCS
#: evaluations' follow-ups (3-6 months; a year).
YOUTH_FOLLOW_UPS = (4, 12)


def add_months(day: _dt.date, months: int) -> _dt.date:
    """`day` plus `months` calendar months (days past the 28th become the 28th)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return _dt.date(year, month, min(day.day, 28))


def cohort_starts(item: Mapping[str, object]) -> List[_dt.date]:
    """A youth_programme timeline item's cohort start dates: each "MM-DD" of its `cohorts` in
    every year from its start to its end."""
    start, end = item["start"], item["end"]
    days = (_dt.date(year, int(md[:2]), int(md[3:])) for year in range(start.year, end.year + 1)
            for md in item["cohorts"])
    return sorted(d for d in days if start <= d <= end)


def follow_up_plan(starts: Sequence[_dt.date], months: Sequence[int]) -> Dict[_dt.date, List[tuple]]:
    """The days a matched-pairs evaluation stops on, each with what it takes there: ("pre", c)
    the day before cohort c starts, ("start", c) its first day, (k, c) k months on."""
    plan: Dict[_dt.date, List[tuple]] = {}
    for c in starts:
        plan.setdefault(c - _dt.timedelta(days=1), []).append(("pre", c))
        plan.setdefault(c, []).append(("start", c))
        for k in months:
            plan.setdefault(add_months(c, k), []).append((k, c))
    return plan


def _outgroup_warmth(sim, groups: int) -> np.ndarray:
    warmth = sim.warmth.copy()
    own = warmth[np.arange(warmth.shape[0]), sim.group.astype(np.int64)]
    return (warmth.sum(axis=1) - own) / (groups - 1)


def _block_own_share(sim, ids: np.ndarray, groups: int) -> np.ndarray:
    block, group = sim.block.astype(np.int64), sim.group.astype(np.int64)
    cells = np.bincount(block * groups + group, minlength=(block.max() + 1) * groups).reshape(-1, groups)
    return cells[block[ids], group[ids]] / cells[block[ids]].sum(axis=1)


def youth_programme_statistics(scenario: os.PathLike | str, scale: Optional[float] = None, cohorts: int = 2,
                               replicate: int = 0, threads: int = 0,
                               spin_up_cache: Optional[os.PathLike | str] = None) -> Dict[str, float]:
    """The youth programme evaluated as the NCS evaluations did: each participant of the first
    `cohorts` cohorts against a matched non-participant (same ward, group and age band), change in
    mean outgroup warmth from the day before the cohort starts, at each of YOUTH_FOLLOW_UPS.

    Effects are standardised by the pooled SD of pre-programme warmth (Cohen's d, as the
    intervention literature reports them). "Segregated" participants are those whose block's
    own-group share is above the participants' median. Pairs where either slot changed hands, or
    the match joined a later cohort, are dropped."""
    from .simulation import Scenario, Simulation
    base = Scenario.load(scenario)
    if scale is not None:
        base = base.override({"population.scale": scale})
    item = next(i for i in base.to_dict()["timeline"] if i["kind"] == "youth_programme")
    spin_up_days = int(base.to_dict()["simulation"].get("spin_up_days", 1095))
    plan = follow_up_plan(cohort_starts(item)[:cohorts], YOUTH_FOLLOW_UPS)
    groups = len(base.groups)
    pre, cohort, changes = {}, {}, {m: [] for m in YOUTH_FOLLOW_UPS}
    with Simulation(base, replicate=replicate, threads=threads, spin_up_cache=spin_up_cache) as sim:
        for day in sorted(plan):
            sim.step((day - sim.date).days)
            warmth = _outgroup_warmth(sim, groups)
            disposition = sim.agents("disposition").copy()
            start_day = sim.agents("programme_start_day").copy()
            for what, c in plan[day]:
                if what == "pre":
                    pre[c] = (warmth, disposition)
                elif what == "start":
                    index = (c - sim.start).days + spin_up_days
                    ids = np.flatnonzero(start_day == index)
                    matches = sim.matched_non_participants()[ids]
                    ids, matches = ids[matches >= 0], matches[matches >= 0]
                    w0, d0 = pre.pop(c)
                    cohort[c] = dict(ids=ids, matches=matches, w0=w0, d0=d0,
                                     segregation=_block_own_share(sim, ids, groups))
                else:
                    info = cohort[c]
                    ids, matches, w0, d0 = info["ids"], info["matches"], info["w0"], info["d0"]
                    same = ((disposition[ids] == d0[ids]) & (disposition[matches] == d0[matches])
                            & (start_day[matches] < 0))
                    effect = (warmth[ids] - w0[ids]) - (warmth[matches] - w0[matches])
                    changes[what].append((effect[same], info["segregation"][same]))
        pooled_sd = float(np.std(np.concatenate(
            [np.concatenate([info["w0"][info["ids"]], info["w0"][info["matches"]]]) for info in cohort.values()])))
    stats: Dict[str, float] = {}
    for months, parts in changes.items():
        effect = np.concatenate([e for e, _ in parts])
        segregation = np.concatenate([s for _, s in parts])
        segregated = segregation > np.median(segregation)
        stats[f"youth_pairs_{months}_months"] = float(effect.size)
        stats[f"youth_d_{months}_months"] = float(effect.mean() / pooled_sd)
        stats[f"youth_d_se_{months}_months"] = float(effect.std(ddof=1) / np.sqrt(effect.size) / pooled_sd)
        stats[f"youth_segregated_minus_mixed_d_{months}_months"] = float(
            (effect[segregated].mean() - effect[~segregated].mean()) / pooled_sd)
    stats["youth_persistence"] = stats[f"youth_d_{YOUTH_FOLLOW_UPS[1]}_months"] / stats[f"youth_d_{YOUTH_FOLLOW_UPS[0]}_months"]
    return stats


def run_replicates(scenario: os.PathLike | str, replicates: int, scale: Optional[float], workdir: os.PathLike | str,
                   threads: int = 0, seed: Optional[int] = None,
                   spin_up_cache: Optional[os.PathLike | str] = None) -> List[Dict[str, object]]:
    """Runs replicates 0..n-1 of `scenario` (at `scale` if given), recording into `workdir`, and
    returns their statistics. Replicates share the spin-up cache, not their spin-ups."""
    from .simulation import Scenario, Simulation
    base = Scenario.load(scenario)
    if scale is not None:
        base = base.override({"population.scale": float(scale)})
    os.makedirs(workdir, exist_ok=True)
    stats = []
    for r in range(replicates):
        output = os.path.join(os.fspath(workdir), f"replicate_{r}.h5")
        with Simulation(base, seed=seed, replicate=r, threads=threads, spin_up_cache=spin_up_cache) as sim:
            sim.run(output=output, progress=False, overwrite=True)
        stats.append(baseline_statistics(output))
    return stats


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m contactsim.validation``: run the default city, compare with every target,
    optionally rewrite docs/validation.md's model column and figure; exit 1 if a target fails."""
    import argparse
    import time
    parser = argparse.ArgumentParser(prog="python -m contactsim.validation", description=main.__doc__)
    parser.add_argument("--scenario", default="scenarios/stoke_on_trent.toml")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--workdir", default="results/validation")
    parser.add_argument("--spin-up-cache", default=None)
    parser.add_argument("--report", default=None, help="markdown file whose model column to rewrite")
    parser.add_argument("--figure", default=None, help="PNG of the baseline against the bands")
    parser.add_argument("--youth-scenario", default="scenarios/youth_programme_targeted.toml")
    parser.add_argument("--youth-scale", type=float, default=0.25,
                        help="scale of the youth-programme evaluation (0: skip it)")
    args = parser.parse_args(argv)
    started = time.time()
    stats = run_replicates(args.scenario, args.replicates, args.scale, args.workdir, args.threads,
                           spin_up_cache=args.spin_up_cache)
    youth = None
    if args.youth_scale > 0:
        youth = youth_programme_statistics(args.youth_scenario, args.youth_scale, threads=args.threads,
                                           spin_up_cache=args.spin_up_cache)
    seconds = time.time() - started
    rows = summarise(stats) + (summarise([youth], YOUTH_TARGETS) if youth else [])
    for row in rows:
        t = row["target"]
        print(f"{'ok  ' if row['ok'] else 'FAIL'} {t.statistic:36s} mean {row['mean']:.3f} "
              f"range {row['min']:.3f}-{row['max']:.3f} band {t.low:g}-{t.high:g}")
    if args.report:
        how = (f"Measured with `make validate`: `{args.scenario}` at scale {args.scale:g}, replicates "
               f"0-{args.replicates - 1} of its seed"
               + (f"; `{args.youth_scenario}` at scale {args.youth_scale:g}, its first two cohorts"
                  if youth else "")
               + f"; {os.cpu_count()} cores, {seconds / 60:.1f} minutes ({_dt.date.today().isoformat()}).")
        write_report(stats, args.report, args.figure, how, youth)
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
