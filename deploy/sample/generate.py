#!/usr/bin/env python3
"""Writes the bundled sample figures: deploy/sample/<year>/<unit>.csv.

The figures are synthetic, made deterministically (no randomness) from a
few per-unit parameters, and calibrated so that the district's 2020
values land near the published baselines: resident population 59.55
(10,000 persons), 2.69 physicians per 1,000 (plan-indicators.tsv P01,
P22). Units differ in size and rates, so the district value (from sums)
differs from the mean of the unit rates; Wande misses the infant
mortality target in 2022 and Mashan the hypertension management target.

Run it from anywhere: python3 deploy/sample/generate.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
YEARS = (2020, 2021, 2022)

# unit: (population 2020, yearly growth, births per 1,000, infant deaths
# per 1,000 births by year, physicians per 1,000 in 2020, hypertension
# patients managed to the standard, % by year)
UNITS = {
    "wenchang":   (140000, 0.021, 8.6, (1.9, 1.8, 1.6), 3.71, (69, 70, 71)),
    "pingan":     (85000, 0.018, 8.3, (2.4, 2.3, 2.1), 2.79, (67, 68, 68)),
    "guyunhu":    (60000, 0.024, 7.9, (2.1, 2.3, 1.9), 2.99, (66, 67, 69)),
    "wufengshan": (45000, 0.012, 7.6, (3.0, 2.9, 2.7), 2.48, (65, 66, 67)),
    "guide":      (55000, 0.008, 7.8, (3.3, 3.1, 2.9), 2.17, (64, 66, 66)),
    "wande":      (40000, 0.004, 7.4, (3.9, 4.3, 5.9), 1.96, (63, 65, 66)),
    "zhangxia":   (42000, 0.006, 7.5, (3.2, 3.0, 2.8), 2.06, (65, 66, 67)),
    "xiaoli":     (48000, 0.005, 7.7, (2.7, 2.6, 2.4), 2.11, (66, 66, 67)),
    "mashan":     (35000, 0.003, 7.2, (2.8, 2.8, 2.9), 1.86, (61, 62, 60)),
    "shuangquan": (45500, 0.007, 7.6, (2.6, 2.5, 2.2), 2.27, (65, 67, 68)),
}

# Deaths under 5 are infant deaths plus deaths aged 1-4 (per 1,000 births).
DEATHS_1_4_PER_1000 = 0.9
# Maternal deaths are rare: one, in Guide, in 2021.
MATERNAL = {("guide", 2021): 1}
HYPERTENSION_MANAGED_SHARE = 0.061  # of the resident population


def figures(unit, year):
    pop0, growth, birth_rate, imr, phys, std = UNITS[unit]
    k = year - YEARS[0]
    pop = round(pop0 * (1 + growth) ** k)
    births = round(pop * birth_rate / 1000)
    infant = round(births * imr[k] / 1000)
    under5 = infant + round(births * DEATHS_1_4_PER_1000 / 1000)
    physicians = round(pop * phys * (1.04 ** k) / 1000)
    managed = round(pop * HYPERTENSION_MANAGED_SHARE * (1 + 0.02 * k))
    standard = round(managed * std[k] / 100)
    return [
        ("live_births", births),
        ("infant_deaths", infant),
        ("under5_deaths", under5),
        ("maternal_deaths", MATERNAL.get((unit, year), 0)),
        ("physicians", physicians),
        ("resident_population", pop),
        ("hypertension_managed", managed),
        ("hypertension_standard", standard),
    ]


def main():
    for year in YEARS:
        os.makedirs(os.path.join(HERE, str(year)), exist_ok=True)
        for unit in UNITS:
            path = os.path.join(HERE, str(year), unit + ".csv")
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write("# %s %d: synthetic sample figures "
                        "(deploy/sample/generate.py)\n" % (unit, year))
                f.write("data_element,value\n")
                for code, value in figures(unit, year):
                    f.write("%s,%d\n" % (code, value))


if __name__ == "__main__":
    main()
