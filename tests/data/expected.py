#!/usr/bin/env python3
"""Computes tests/data/expected-2022.json: the district value of every
indicator for 2022, from the sample figures in deploy/sample/, and
its status against the target that applies to 2022.

Independent of the C code on purpose: the formulas and the targets are
written out again here, from docs/CATALOG.md and the two source tables,
rather than read from the catalog, so that a mistake in the catalog or
in the engine shows up as a difference.

  ratio             sum(num) / sum(den) x factor, over units with both
  total             sum(x) x factor
  weighted_mean     sum(x w) / sum(w) x factor
  growth            (sum x(t) / sum x(t-1) - 1) x 100
  intensity_red.    (1 - (N(t)/D(t)) / (N(b)/D(b))) x 100
  cumulative        sum over the years from..t of sum(x) x factor
  life_expectancy   Chinese textbook: q0 = infant deaths / live births,
                    L0 = l1 + 0.15 d0, other closed groups
                    q = 2nM/(2+nM), L = n(l(x)+l(x+n))/2, open L = l/M,
                    radix 100000
  premature_mort.   40q30 = 1 - prod(1 - 5q), 5q = 5M/(1+2.5M), in %
  milestone         the district's status
  unit_threshold    the district ratio; met only if every unit meets
                    the unit target

A target that applies to 2022 is the first target year at or after 2022:
2022 for the health action, 2025 for the five-year plan. A "change"
target compares 2022 with 2021, over the units that reported both years.

Before its target year (the plan's 2025 targets, in 2022) a value is on
track or off track: against the path from the 2020 value (the plan's
column "2020年完成" in shared/domain/plan-indicators.tsv, or the first
year of the samples when it gives none, or 0 for a five-year total) to
the target, at a constant rate for a total or a target the plan gives an
average annual growth for (its column "年均增长"), in a straight line
otherwise. A growth rate ("增速", P03, P04, P06) is judged by its average
annual growth since 2020, (x(t)/x(2020))^(1/(t-2020)) - 1, which must
keep up with the target's rate. A value that meets the target already is
on track.

Run: python3 tests/data/expected.py  (writes tests/data/expected-2022.json)
"""
import csv
import json
import math
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "deploy", "sample")
OUT = os.path.join(ROOT, "tests", "data", "expected-2022.json")
YEAR = 2022
UNITS = ["wenchang", "pingan", "guyunhu", "wufengshan", "guide", "wande",
         "zhangxia", "xiaoli", "mashan", "shuangquan"]
DISTRICT = "changqing"
AGES = ["0", "1-4"] + ["%d-%d" % (a, a + 4) for a in range(5, 85, 5)] \
    + ["85+"]
NCD_AGES = ["%d-%d" % (a, a + 4) for a in range(30, 70, 5)]
LEVELS = {
    "H09": ["未建立", "已建立", "实现", "持续完善"],
    "H10": ["未建立", "已建立", "实现", "持续完善"],
    "H31": ["未开展", "试点开展", "全面开展"],
}


def read(year):
    """{unit: {element: value}} for one year, the district included."""
    out = {}
    for unit in UNITS + [DISTRICT]:
        path = os.path.join(SAMPLE, str(year), unit + ".csv")
        figures = {}
        with open(path, encoding="utf-8") as f:
            rows = csv.reader(f)
            for row in rows:
                if not row or row[0].startswith("#"):
                    continue
                if row == ["data_element", "value"]:
                    continue
                figures[row[0]] = float(row[1])
        out[unit] = figures
    return out


DATA = {y: read(y) for y in (2020, 2021, 2022)}


def plan_table():
    """{code: (value 2020 or None, has an annual growth)} from the plan's
    table, transcribed in shared/domain/plan-indicators.tsv."""
    path = os.path.join(os.path.dirname(ROOT), "shared", "domain",
                        "plan-indicators.tsv")
    out = {}
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            try:
                base = float(row["value_2020"])
            except ValueError:
                base = None
            growth = row["annual_growth_pct"].strip() not in ("", "--")
            out[row["code"]] = (base, growth)
    return out


PLAN = plan_table()


def sums(year, *elements):
    """Sums of the elements over the units that reported all of them."""
    units = [u for u in UNITS + [DISTRICT]
             if all(e in DATA[year][u] for e in elements)]
    return [sum(DATA[year][u][e] for u in units) for e in elements]


def ratio(year, num, den, factor):
    n, d = sums(year, num, den)
    return {"value": n / d * factor, "numerator": n, "denominator": d}


def total(year, element, factor):
    (x,) = sums(year, element)
    return {"value": x * factor}


def weighted_mean(year, element, weight, factor):
    units = [u for u in UNITS if element in DATA[year][u]
             and weight in DATA[year][u]]
    n = sum(DATA[year][u][element] * DATA[year][u][weight] for u in units)
    d = sum(DATA[year][u][weight] for u in units)
    return {"value": n / d * factor, "numerator": n, "denominator": d}


def growth(year, element):
    (now,) = sums(year, element)
    (before,) = sums(year - 1, element)
    (base,) = sums(2020, element)
    out = {"value": (now / before - 1) * 100}
    if year > 2020:
        out["average_growth"] = ((now / base) ** (1 / (year - 2020)) - 1) \
            * 100
    return out


def ratio_over_groups(year, num, grouped, factor):
    """num over every age group of grouped, summed."""
    codes = [grouped + "." + g for g in AGES]
    units = [u for u in UNITS + [DISTRICT]
             if num in DATA[year][u] and all(c in DATA[year][u]
                                             for c in codes)]
    n = sum(DATA[year][u][num] for u in units)
    d = sum(DATA[year][u][c] for u in units for c in codes)
    return {"value": n / d * factor, "numerator": n, "denominator": d}


def intensity_reduction(year, num, den, base):
    n, d = sums(year, num, den)
    nb, db = sums(base, num, den)
    return {"value": (1 - (n / d) / (nb / db)) * 100}


def cumulative(year, element, start, factor):
    return {"value": sum(sums(y, element)[0] for y in range(start, year + 1))
            * factor}


def life_expectancy(year):
    deaths = [sums(year, "deaths." + g)[0] for g in AGES]
    pop = [sums(year, "midyear_population." + g)[0] for g in AGES]
    (births,) = sums(year, "live_births")
    starts = [0, 1] + list(range(5, 90, 5))
    l = 100000.0
    T = 0.0
    for i in range(len(AGES)):
        M = deaths[i] / pop[i]
        if i == len(AGES) - 1:
            T += l / M
            break
        n = starts[i + 1] - starts[i]
        if i == 0:
            q = deaths[0] / births
            d = l * q
            L = (l - d) + 0.15 * d
        else:
            q = 2 * n * M / (2 + n * M)
            d = l * q
            L = n * (l + (l - d)) / 2
        T += L
        l -= d
    return {"value": T / 100000.0}


def premature_mortality(year):
    survive = 1.0
    for g in NCD_AGES:
        d, p = sums(year, "major_ncd_deaths." + g, "midyear_population." + g)
        m = d / p
        survive *= 1 - 5 * m / (1 + 2.5 * m)
    return {"value": (1 - survive) * 100}


def milestone(year, code, element):
    level = int(DATA[year][DISTRICT][element])
    return {"value": level, "label": LEVELS[code][level]}


def unit_threshold(year, num, den, factor, op, bound):
    r = ratio(year, num, den, factor)
    failing = [u for u in UNITS
               if not compare(DATA[year][u][num] / DATA[year][u][den]
                              * factor, op, bound)]
    r["failing_units"] = failing
    return r


def compare(v, op, bound):
    return {">=": v >= bound, ">": v > bound, "<=": v <= bound,
            "<": v < bound}[op]


# code: (kind function and arguments, the target that applies to 2022).
# Targets: (op, value) for comparators; ("change<=", -1) and the like on
# 2021; ("about", value, tolerance); ("level>=", n) for milestones;
# ("text",) and ("assigned",) are not judged.
R, T, W, G, I, C = (ratio, total, weighted_mean, growth,
                    intensity_reduction, cumulative)
INDICATORS = {
    "H01": ((life_expectancy,), (">=", 80)),
    "H02": ((R, "infant_deaths", "live_births", 1000), ("<=", 3.3)),
    "H03": ((R, "under5_deaths", "live_births", 1000), ("<=", 4.0)),
    "H04": ((R, "maternal_deaths", "live_births", 100000), ("<=", 9.3)),
    "H05": ((R, "fitness_qualified", "fitness_tested", 100), (">=", 92.6)),
    "H06": ((R, "physicians", "resident_population", 1000), (">=", 4.5)),
    "H07": ((R, "health_expenditure_oop", "health_expenditure_total", 100),
            ("<=", 25.0)),
    "H08": ((R, "literacy_adequate", "literacy_surveyed", 100), (">=", 24)),
    "H09": ((milestone, "H09", "health_edu_pool_status"), ("level>=", 2)),
    # 建立…机制, target 实现: the mechanism established, 已建立 (1) or more
    "H10": ((milestone, "H10", "health_edu_appraisal_status"),
            ("level>=", 1)),
    "H11": ((R, "exercise_regular", "exercise_surveyed", 100), (">=", 39)),
    "H12": ((R, "smokefree_population", "resident_population", 100),
            (">=", 100)),
    "H13": ((R, "prenatal_screened", "deliveries", 100), (">=", 86)),
    # Two coverage rates, as the annex's two baselines per scope say.
    "H14a": ((R, "rural_women_cervical_screened", "rural_women_eligible",
              100), (">=", 85)),
    "H14b": ((R, "rural_women_breast_screened", "rural_women_eligible",
              100), (">=", 85)),
    "H15": ((R, "newborns_metabolic_screened", "live_births", 100),
            (">", 99)),
    "H16": ((R, "students_fitness_good", "students_fitness_tested", 100),
            (">=", 52)),
    "H17": ((R, "myopia_cases", "myopia_screened", 100), ("change<=", -1)),
    "H18": ((W, "school_pe_hours", "school_students", 1), (">=", 1.5)),
    "H19": ((R, "schools_health_staffed", "schools", 100), (">=", 75)),
    "H20": ((R, "schools_mental_health", "schools", 100), (">=", 85)),
    "H21": ((R, "schools_pe_curriculum", "schools", 100), (">=", 100)),
    "H22": ((R, "pneumoconiosis_new_under5y", "pneumoconiosis_new", 100),
            ("text",)),
    "H23": ((R, "hospitals_geriatrics", "secondary_general_hospitals", 100),
            (">=", 75)),
    # A crude death rate: over the mid-year population (all age groups).
    "H24": ((ratio_over_groups, "cvd_deaths", "midyear_population", 100000),
            ("<=", 204.27)),
    "H25": ((premature_mortality,), ("<=", 14.6)),
    "H26": ((R, "crd_deaths_under70", "population_under70", 100000),
            ("<=", 7.25)),
    "H27": ((R, "hypertension_standard", "hypertension_managed", 100),
            (">=", 65)),
    "H28": ((R, "diabetes_standard", "diabetes_managed", 100), (">=", 65)),
    "H29": ((unit_threshold, "nip_vaccinated_children",
             "nip_eligible_children", 100, ">", 90), (">", 90)),
    "H30a": ((R, "primary_care_centres_tcm", "primary_care_centres", 100),
             (">=", 100)),
    "H30b": ((R, "village_clinics_tcm", "village_clinics", 100), (">=", 85)),
    "H31": ((milestone, "H31", "drinking_water_risk_status"), ("level>=", 1)),
    "H32": ((R, "vision_intervened_children", "vision_abnormal_children",
             100), (">=", 100)),
    "H33": ((R, "children6_myopic", "children6_screened", 100),
            ("change<", 0)),
    "H34": ((R, "mch_institutions_connected", "mch_institutions", 100),
            (">=", 100)),
    "H35": ((R, "mch_institutions_standard", "mch_institutions", 100),
            (">=", 80)),
    "P01": ((T, "resident_population", 0.0001), (">=", 67)),
    "P02": ((R, "urban_residents", "resident_population", 100), (">=", 60)),
    "P03": ((G, "gdp_2020_prices"), (">=", 9)),
    "P04": ((G, "industry_va_2020_prices"), (">=", 9)),
    "P05": ((T, "budget_revenue", 0.0001), (">=", 40.9)),
    "P06": ((G, "fixed_asset_investment"), (">=", 10)),
    "P07": ((T, "retail_sales", 0.0001), (">=", 156)),
    "P08": ((R, "digital_economy_va", "gdp", 100), (">", 50)),
    "P09": ((R, "four_new_economy_va", "gdp", 100), (">=", 25)),
    "P10": ((R, "rd_expenditure", "gdp", 100), (">=", 3.3)),
    "P11": ((R, "invention_patents", "resident_population", 10000),
            (">=", 23.5)),
    "P12": ((T, "trade_value", 0.0001), (">=", 16.6)),
    "P13": ((T, "fdi_used", 0.0001), (">=", 1.8)),
    "P14": ((I, "energy_consumption", "gdp_2020_prices", 2020),
            ("assigned",)),
    "P15": ((I, "water_use", "gdp_2020_prices", 2020), ("assigned",)),
    "P16": ((I, "co2_emissions", "gdp_2020_prices", 2020), ("assigned",)),
    "P17": ((R, "good_air_days", "air_quality_days", 100), ("assigned",)),
    "P18": ((W, "urban_income_per_capita", "urban_residents", 1),
            (">=", 61120)),
    "P19": ((W, "rural_income_per_capita", "rural_residents", 1),
            (">=", 29999)),
    "P20": ((C, "new_urban_jobs", 2021, 1), (">=", 16000)),
    "P21": ((R, "pension_insured", "pension_eligible", 100), (">=", 100)),
    "P22": ((R, "physicians", "resident_population", 1000), (">=", 3.05)),
    "P23": ((R, "eldercare_beds", "population_60plus", 1000), (">=", 45)),
    "P24": ((T, "cultivated_land", 0.0001), ("assigned",)),
    "P25": ((T, "grain_capacity", 0.0001), (">=", 26.89)),
}


def evaluate(year, spec):
    fn, *args = spec
    return fn(year, *args)


# The five-year plan's targets are for 2025; the health action's that
# apply to 2022 are for 2022.
TARGET_YEAR = {"H": 2022, "P": 2025}


def baseline(code, spec):
    """(year, value) the path to a later target starts from."""
    fn = spec[0]
    if fn is cumulative:
        return (spec[2] - 1, 0.0)
    base, _ = PLAN.get(code, (None, False))
    if base is not None:
        return (2020, base)
    return (2020, evaluate(2020, spec)["value"])


def on_track(code, spec, result, target, target_year):
    """True when the value is on its path to the later target."""
    op, bound = target[0], target[1]
    fn = spec[0]
    v = result["value"]
    if fn is growth:
        # The path of x at the target's constant rate: the average since
        # 2020 keeps up with it.
        return compare(result["average_growth"], op, bound)
    if compare(v, op, bound):
        return True
    year0, x0 = baseline(code, spec)
    along = (YEAR - year0) / (target_year - year0)
    rate = fn is total or PLAN.get(code, (None, False))[1]
    if rate:
        path = x0 * (bound / x0) ** along
    else:
        path = x0 + (bound - x0) * along
    result["path"] = path
    return v >= path if op in (">=", ">") else v <= path


def status(code, spec, result, previous, target):
    op = target[0]
    if op in ("text", "assigned"):
        return "not judged"
    v = result.get("value")
    if v is None:
        return "insufficient data"
    if op.startswith("change"):
        if previous is None or previous.get("value") is None:
            return "insufficient data"
        ok = compare(v - previous["value"], op[len("change"):], target[1])
    elif op == "about":
        ok = abs(v - target[1]) <= target[2]
    elif op == "level>=":
        ok = v >= target[1]
    else:
        judged = result.get("average_growth", v)
        ok = compare(judged, op, target[1])
        if "failing_units" in result and result["failing_units"]:
            ok = False
        target_year = TARGET_YEAR[code[0]]
        if target_year > YEAR and "failing_units" not in result:
            return "on track" if on_track(code, spec, result, target,
                                          target_year) else "off track"
    return "met" if ok else "not met"


def clean(x):
    """Whole sums as integers, other numbers to six decimals."""
    if isinstance(x, float):
        return int(x) if x.is_integer() else round(x, 6)
    return x


def main():
    out = {"period": str(YEAR), "indicators": {}}
    for code, (spec, target) in INDICATORS.items():
        res = evaluate(YEAR, spec)
        prev = None
        if target[0].startswith("change"):
            prev = evaluate(YEAR - 1, spec)
            res["previous"] = prev["value"]
            res["change"] = res["value"] - prev["value"]
        res["status"] = status(code, spec, res, prev, target)
        out["indicators"][code] = {k: clean(v) for k, v in res.items()}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return out


if __name__ == "__main__":
    result = main()
    for code, r in result["indicators"].items():
        print("%-5s %14s  %s%s" % (code, r["value"], r["status"],
                                   " " + ",".join(r["failing_units"])
                                   if r.get("failing_units") else ""))
