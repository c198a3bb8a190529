#!/usr/bin/env python3
"""Writes the sample figures for the full catalog (catalog/draft/changqing.json):
deploy/sample/<year>/<unit>.csv for the ten reporting units, and
deploy/sample/<year>/changqing.csv for the elements the district
office reports itself (reported_by: district).

The figures are synthetic, made deterministically (no randomness) from
per-unit parameters, and calibrated so that the district's 2020 values
land near the published baselines: resident population 59.55 (10,000
persons), 2.69 physicians per 1,000, urbanisation 57.3 %, income per head
43,578 yuan (urban) and 20,417 yuan (rural), and the plan's 2020 column
generally; life expectancy about 80 years. The eight elements of the
first catalog (live_births ... hypertension_standard) are made exactly as
deploy/sample/generate.py makes them, so those figures do not change.

Some units and indicators miss their 2022 target on purpose, so that the
report has something to show: Mashan's vaccination coverage is below
90 % (H29 fails and names it), myopia falls by less than one point (H17),
smoke-free coverage and both cancer screenings stay short (H12, H14a,
H14b), the
appraisal mechanism is not yet in place (H10), and most five-year-plan
indicators are still short of their 2025 targets in 2022.

Run it from anywhere: python3 deploy/sample/generate.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
YEARS = (2020, 2021, 2022)
DISTRICT = "changqing"

# --- The first catalog's elements, exactly as deploy/sample/generate.py ---

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
ORDER = list(UNITS)

DEATHS_1_4_PER_1000 = 0.9
MATERNAL = {("guide", 2021): 1}
HYPERTENSION_MANAGED_SHARE = 0.061


def first_catalog(unit, year):
    """The eight elements of the first catalog, unchanged."""
    pop0, growth, birth_rate, imr, phys, std = UNITS[unit]
    k = year - YEARS[0]
    pop = round(pop0 * (1 + growth) ** k)
    births = round(pop * birth_rate / 1000)
    infant = round(births * imr[k] / 1000)
    under5 = infant + round(births * DEATHS_1_4_PER_1000 / 1000)
    physicians = round(pop * phys * (1.04 ** k) / 1000)
    managed = round(pop * HYPERTENSION_MANAGED_SHARE * (1 + 0.02 * k))
    standard = round(managed * std[k] / 100)
    return {
        "live_births": births,
        "infant_deaths": infant,
        "under5_deaths": under5,
        "maternal_deaths": MATERNAL.get((unit, year), 0),
        "physicians": physicians,
        "resident_population": pop,
        "hypertension_managed": managed,
        "hypertension_standard": standard,
    }


# --- Age structure and mortality (H01, H25, H26, H24, P23) ---

AGE_GROUPS = ["0", "1-4"] + ["%d-%d" % (a, a + 4) for a in range(5, 85, 5)] \
    + ["85+"]
NCD_GROUPS = ["%d-%d" % (a, a + 4) for a in range(30, 70, 5)]

# Shares (%) of the population aged 5 and over, before the unit's
# adjustments: an ageing rural district with a university town.
SHARES_5UP = {
    "5-9": 5.6, "10-14": 5.2, "15-19": 4.6, "20-24": 5.0, "25-29": 6.0,
    "30-34": 8.0, "35-39": 6.8, "40-44": 6.5, "45-49": 8.0, "50-54": 8.8,
    "55-59": 7.4, "60-64": 5.6, "65-69": 5.8, "70-74": 4.2, "75-79": 2.7,
    "80-84": 1.7, "85+": 1.1,
}
# Death rates per person-year in 2020 for ages 5 and over (ages 0 and 1-4
# come from infant_deaths and under5_deaths, so that they agree).
DEATH_RATES = {
    "5-9": 0.00013, "10-14": 0.00016, "15-19": 0.00030, "20-24": 0.00042,
    "25-29": 0.00052, "30-34": 0.00075, "35-39": 0.00110, "40-44": 0.00170,
    "45-49": 0.00265, "50-54": 0.00410, "55-59": 0.00630, "60-64": 0.00990,
    "65-69": 0.01560, "70-74": 0.02330, "75-79": 0.03900, "80-84": 0.06850,
    "85+": 0.15500,
}
MORTALITY_TREND = 0.975  # death rates fall 2.5 % a year
# Share of deaths aged 30-69 due to the four major NCDs (cardiovascular,
# cancer, diabetes, chronic respiratory), falling 1.5 % a year.
NCD_SHARE = {
    "30-34": 0.45, "35-39": 0.55, "40-44": 0.65, "45-49": 0.72,
    "50-54": 0.77, "55-59": 0.80, "60-64": 0.82, "65-69": 0.83,
}
NCD_SHARE_TREND = 0.985
CRD_SHARE_OF_NCD = 0.0305     # chronic respiratory, of NCD deaths 30-69
CVD_SHARE_OF_DEATHS = (0.262, 0.258, 0.252)  # of all deaths, by year

# unit: (older-age factor, student-age factor (15-24), mortality factor)
AGE = {
    "wenchang":   (0.85, 1.10, 0.92),
    "pingan":     (0.90, 1.05, 0.96),
    "guyunhu":    (0.80, 1.90, 0.94),
    "wufengshan": (1.10, 0.95, 1.02),
    "guide":      (1.10, 0.90, 1.04),
    "wande":      (1.20, 0.85, 1.08),
    "zhangxia":   (1.15, 0.85, 1.05),
    "xiaoli":     (1.12, 0.90, 1.03),
    "mashan":     (1.25, 0.80, 1.10),
    "shuangquan": (1.30, 0.85, 0.98),  # "hometown of longevity"
}


def apportion(total, weights):
    """Splits total into whole numbers proportional to weights that add
    up to total exactly (largest remainder)."""
    s = sum(weights.values())
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[:rest]:
        out[k] += 1
    return out


def ages(unit, year, base):
    """Mid-year population and deaths by age group."""
    old, student, mort = AGE[unit]
    _, growth, *_ = UNITS[unit]
    k = year - YEARS[0]
    births = base["live_births"]
    midyear = round(base["resident_population"] / (1 + growth / 2))
    pop = {"0": round(births * 0.995), "1-4": round(births * 4.1)}
    weights = {}
    for g, s in SHARES_5UP.items():
        lo = int(g.rstrip("+").split("-")[0])
        if lo >= 60:
            s *= old * (1 + 0.02 * k)   # the district ages
        elif g in ("15-19", "20-24"):
            s *= student
        weights[g] = s
    pop.update(apportion(midyear - pop["0"] - pop["1-4"], weights))
    deaths = {"0": base["infant_deaths"],
              "1-4": base["under5_deaths"] - base["infant_deaths"]}
    for g, m in DEATH_RATES.items():
        deaths[g] = round(pop[g] * m * mort * MORTALITY_TREND ** k)
    return pop, deaths


# --- Everything else: a district rate by year and per-unit offsets ---

def part(whole, pct):
    """A whole number share of whole, never above it."""
    return max(0, min(whole, round(whole * pct / 100)))


# Per-unit offsets in percentage points, in ORDER (wenchang ... shuangquan).
def off(*values):
    return dict(zip(ORDER, values))


# (district rate by year, unit offsets)
RATES = {
    # H05 residents passing the physical fitness standard, %
    "fitness": ((91.9, 92.3, 92.8), off(1.2, 0.8, 1.0, -0.4, -0.6, -1.4,
                                         -0.8, -0.5, -1.6, -0.2)),
    # H08 health literacy, %
    "literacy": ((19.5, 22.0, 24.6), off(4.5, 2.5, 5.5, -2.0, -2.5, -4.0,
                                          -3.0, -2.5, -4.5, -2.0)),
    # H11 exercise regularly, %
    "exercise": ((37.0, 38.2, 39.5), off(3.0, 1.5, 4.0, -1.0, -1.5, -3.0,
                                          -2.0, -1.5, -1.0, -2.5)),
    # H13 prenatal screening, %
    "prenatal": ((83.0, 85.0, 87.2), off(4.0, 2.0, 2.5, -1.5, -2.0, -4.0,
                                          -3.0, -1.5, -3.5, -1.0)),
    # rural women screened for both cancers, % (the old H14's numerator)
    "two_cancer": ((45.0, 62.0, 78.0), off(6.0, 3.0, 4.0, -1.0, -2.0, -5.0,
                                            -3.0, -2.0, -6.0, 0.0)),
    # H14a and H14b: screened for each, with the same offsets, so that no
    # unit has more screened for both than for either
    "cervical": ((58.0, 71.0, 83.5), off(6.0, 3.0, 4.0, -1.0, -2.0, -5.0,
                                          -3.0, -2.0, -6.0, 0.0)),
    "breast": ((50.0, 66.0, 80.0), off(6.0, 3.0, 4.0, -1.0, -2.0, -5.0,
                                        -3.0, -2.0, -6.0, 0.0)),
    # H15 newborn metabolic screening, %
    "metabolic": ((99.5, 99.6, 99.72), off(0.3, 0.2, 0.2, -0.1, -0.1, -0.4,
                                            -0.2, -0.1, -0.5, 0.0)),
    # H16 students good or excellent, %
    "student_fitness": ((35.0, 44.0, 53.2), off(5.0, 3.0, 4.0, -2.0, -2.0,
                                                 -4.0, -3.0, -2.0, -5.0,
                                                 -1.0)),
    # H17 myopia among children and adolescents, %: falls 0.7 in 2022
    "myopia": ((56.0, 55.1, 54.4), off(4.0, 2.5, 3.0, -1.5, -2.0, -3.5,
                                        -2.5, -2.0, -4.0, -1.5)),
    # H28 diabetes patients managed to the standard, %
    "diabetes": ((63.0, 64.5, 66.0), off(3.0, 2.0, 1.5, 0.0, -1.0, -2.5,
                                          -1.5, -0.5, -3.0, -1.0)),
    # H29 vaccination coverage, %: Mashan below 90 in 2022
    "vaccination": ((95.0, 95.3, 95.6), off(2.0, 1.5, 1.0, 0.0, -0.5, -1.5,
                                             -1.0, -0.5, -3.5, 0.5)),
    # H30b village clinics offering TCM non-drug therapies, %
    "tcm_village": ((80.0, 83.0, 86.2), off(8.0, 5.0, 4.0, 0.0, -2.0,
                                             -6.0, -3.0, -1.0, -7.0, 1.0)),
    # H32 early intervention for children 0-6, %
    "vision_intervention": ((92.0, 96.0, 98.2), off(3.0, 2.0, 2.0, 0.0,
                                                     -1.0, -3.0, -1.0,
                                                     -1.0, -4.0, 0.0)),
    # H33 myopia among 6-year-olds, %
    "myopia6": ((4.2, 3.9, 3.6), off(0.8, 0.4, 0.6, -0.3, -0.3, -0.6,
                                      -0.4, -0.3, -0.7, -0.3)),
    # H22 new pneumoconiosis cases with under 5 years of exposure, %
    "pneumo_short": ((21.0, 19.5, 15.0), off(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    # P02 urbanisation, %, by unit (not offsets: see URBAN)
    # P21 pension coverage, %
    "pension": ((99.99, 99.991, 99.994), off(0.005, 0.004, 0.004, -0.002,
                                              -0.003, -0.006, -0.004,
                                              -0.003, -0.007, -0.002)),
}


# A unit's rate that departs from its usual offset: Mashan's vaccination
# coverage drops below 90 % in 2022 (a vaccine shortage), so H29 fails.
OVERRIDES = {("vaccination", "mashan", 2022): 88.6}


def rate(name, unit, year):
    if (name, unit, year) in OVERRIDES:
        return OVERRIDES[(name, unit, year)]
    district, offsets = RATES[name]
    return district[year - YEARS[0]] + offsets[unit]


# Urbanisation by unit in 2020 (%), rising 0.7 points a year.
URBAN = off(90.8, 66.8, 64.8, 42.8, 40.8, 35.8, 37.8, 38.8, 32.8, 36.8)
URBAN_TREND = 0.70

# Economy, by unit: share of the district's GDP in 2020 (weights), and
# real GDP growth in 2021 and 2022 (%).
ECON = {
    #             GDP   growth21 growth22 industry fai  retail trade
    "wenchang":   (26.0, 9.4, 5.2, 0.12, 0.18, 0.30, 0.08),
    "pingan":     (19.0, 9.8, 5.6, 0.42, 0.16, 0.12, 0.30),
    "guyunhu":    (13.0, 9.0, 4.8, 0.10, 0.14, 0.10, 0.06),
    "wufengshan": (6.0, 7.6, 4.0, 0.25, 0.08, 0.07, 0.08),
    "guide":      (8.5, 8.2, 4.2, 0.30, 0.10, 0.08, 0.12),
    "wande":      (5.0, 7.0, 3.6, 0.26, 0.06, 0.06, 0.10),
    "zhangxia":   (5.5, 7.2, 3.8, 0.28, 0.06, 0.07, 0.10),
    "xiaoli":     (6.0, 7.4, 4.0, 0.18, 0.07, 0.07, 0.04),
    "mashan":     (4.5, 6.8, 3.2, 0.15, 0.07, 0.06, 0.03),
    "shuangquan": (6.5, 8.0, 4.4, 0.35, 0.08, 0.07, 0.09),
}
GDP_2020 = 3100000          # 10,000 yuan (31 billion)
DEFLATOR = (1.0, 1.035, 1.060)   # current prices over 2020 prices
INDUSTRY_GROWTH = (None, 12.0, 9.6)    # district, real, %
FAI_2020 = 2050000          # 10,000 yuan
FAI_GROWTH = (None, 11.0, 6.0)
RETAIL = (1060000, 1170000, 1220000)   # 10,000 yuan
TRADE = (113000, 124000, 133000)       # 10,000 yuan
FDI = (11000, 12000, 13000)            # 10,000 US dollars
DIGITAL_SHARE = (40.0, 43.0, 45.0)     # % of GDP
FOUR_NEW_SHARE = (15.0, 17.5, 19.6)
RD_SHARE = (2.63, 2.78, 2.92)
PATENTS_PER_10K = (19.5, 20.8, 22.0)
# Share of patents, R&D and digital economy by unit (weights).
INNOVATION = off(30, 22, 30, 3, 4, 2, 2, 3, 2, 2)
ENERGY_INTENSITY = (0.500, 0.4825, 0.465)   # tce per 10,000 yuan (2020 prices)
WATER_INTENSITY = (30.0, 28.9, 27.6)        # m3 per 10,000 yuan
CO2_PER_TCE = (2.50, 2.48, 2.45)            # tonnes per tce
# Energy intensity of a unit relative to the district (industry heavier).
ENERGY_FACTOR = off(0.70, 1.35, 0.70, 1.05, 1.20, 1.10, 1.15, 0.90, 0.80,
                    1.25)

INCOME = {  # yuan per head in 2020: (urban, rural) before calibration
    "wenchang": (47000, 23500), "pingan": (44500, 22000),
    "guyunhu": (45500, 22500), "wufengshan": (40000, 19800),
    "guide": (39500, 20200), "wande": (38000, 18600),
    "zhangxia": (38500, 19000), "xiaoli": (39000, 20000),
    "mashan": (37000, 18200), "shuangquan": (39200, 19600),
}
INCOME_2020 = (43578, 20417)     # the plan's 2020 column (P18, P19)
INCOME_GROWTH = ((6.8, 5.2), (8.6, 6.4))  # urban, rural, % in 2021, 2022
NEW_JOBS = (3900, 3400, 3100)    # district, by year
ELDERCARE_PER_1000 = (40.0, 41.5, 43.0)   # per 1,000 aged 60+
CULTIVATED_MU = off(20000, 52000, 48000, 72000, 98000, 88000, 76000, 96000,
                    60000, 67000)          # 2020, sum 677,000 mu
GRAIN_TONNES = (263600, 265000, 269500)   # district, by year
GRAIN_SHARE = off(2, 7, 6, 11, 16, 13, 11, 16, 9, 9)

# District-only elements, by year.
DISTRICT_FIGURES = {
    2020: {"health_expenditure_total": 168000, "health_expenditure_oop": 45530,
           "health_edu_pool_status": 1, "health_edu_appraisal_status": 0,
           "drinking_water_risk_status": 0,
           "secondary_general_hospitals": 4, "hospitals_geriatrics": 2,
           "budget_revenue": 266000, "good_air_days": 219,
           "air_quality_days": 366},
    2021: {"health_expenditure_total": 181000, "health_expenditure_oop": 47420,
           "health_edu_pool_status": 1, "health_edu_appraisal_status": 1,
           "drinking_water_risk_status": 0,
           "secondary_general_hospitals": 4, "hospitals_geriatrics": 2,
           "budget_revenue": 295000, "good_air_days": 237,
           "air_quality_days": 365},
    2022: {"health_expenditure_total": 192000, "health_expenditure_oop": 48770,
           "health_edu_pool_status": 2, "health_edu_appraisal_status": 1,
           "drinking_water_risk_status": 1,
           "secondary_general_hospitals": 4, "hospitals_geriatrics": 3,
           "budget_revenue": 310000, "good_air_days": 230,
           "air_quality_days": 365},
}

# Schools and health institutions by unit (counts are stable).
# (schools, primary care centres, village clinics, MCH institutions,
#  pneumoconiosis cases by year)
INSTITUTIONS = {
    "wenchang":   (32, 3, 28, 6, (1, 1, 1)),
    "pingan":     (18, 2, 45, 4, (5, 4, 4)),
    "guyunhu":    (14, 2, 40, 3, (0, 1, 0)),
    "wufengshan": (10, 1, 52, 2, (2, 2, 2)),
    "guide":      (12, 1, 60, 2, (4, 4, 3)),
    "wande":      (9, 1, 58, 2, (6, 5, 5)),
    "zhangxia":   (9, 1, 55, 2, (5, 5, 4)),
    "xiaoli":     (10, 1, 62, 2, (2, 2, 2)),
    "mashan":     (8, 1, 50, 2, (1, 1, 1)),
    "shuangquan": (9, 1, 48, 2, (2, 2, 2)),
}
# Of those, the ones meeting the requirement, by year (2020, 2021, 2022).
SCHOOLS_HEALTH_STAFFED = off((20, 24, 27), (10, 12, 15), (8, 10, 12),
                             (5, 7, 7), (6, 8, 9), (4, 5, 6), (4, 6, 7),
                             (5, 6, 8), (3, 5, 5), (4, 6, 7))
SCHOOLS_MENTAL_HEALTH = off((27, 28, 30), (15, 16, 17), (12, 12, 13),
                            (7, 8, 8), (9, 10, 10), (6, 7, 7), (7, 7, 8),
                            (7, 8, 9), (5, 6, 6), (7, 7, 8))
CENTRES_TCM = off((3, 3, 3), (2, 2, 2), (2, 2, 2), (1, 1, 1), (1, 1, 1),
                  (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1))
MCH_CONNECTED = off((6, 6, 6), (4, 4, 4), (3, 3, 3), (2, 2, 2), (2, 2, 2),
                    (1, 2, 2), (2, 2, 2), (1, 2, 2), (1, 1, 2), (2, 2, 2))
MCH_STANDARD = off((5, 5, 6), (3, 3, 4), (2, 3, 3), (1, 2, 2), (1, 1, 1),
                   (1, 1, 1), (1, 1, 2), (1, 1, 2), (0, 1, 1), (1, 1, 2))
# Units whose whole population a comprehensive smoke-free rule covers.
SMOKEFREE = {2020: (), 2021: ("wenchang",), 2022: ("wenchang", "pingan")}
# Daily in-school PE time, hours, the unit's mean.
PE_HOURS = off((1.30, 1.45, 1.60), (1.25, 1.40, 1.55), (1.25, 1.40, 1.55),
               (1.15, 1.30, 1.50), (1.15, 1.30, 1.45), (1.10, 1.25, 1.45),
               (1.10, 1.30, 1.45), (1.15, 1.30, 1.50), (1.05, 1.20, 1.40),
               (1.15, 1.30, 1.50))


def district_weighted(values, weights):
    return sum(values[u] * weights[u] for u in ORDER) / sum(weights.values())


def economy():
    """GDP and the other economic figures by unit and year."""
    out = {u: {} for u in ORDER}
    wsum = sum(e[0] for e in ECON.values())
    for u in ORDER:
        gdp_w, g21, g22, ind, fai, retail, trade = ECON[u]
        real = GDP_2020 * gdp_w / wsum
        reals = [real, real * (1 + g21 / 100), real * (1 + g21 / 100) *
                 (1 + g22 / 100)]
        for k, y in enumerate(YEARS):
            out[u][y] = {"gdp_2020_prices": round(reals[k]),
                         "gdp": round(reals[k] * DEFLATOR[k])}
    # Industry, investment, retail, trade, FDI: shares of district totals
    # that follow the district's path.
    ind_total = [GDP_2020 * 0.26]
    for k in (1, 2):
        ind_total.append(ind_total[-1] * (1 + INDUSTRY_GROWTH[k] / 100))
    fai_total = [FAI_2020]
    for k in (1, 2):
        fai_total.append(fai_total[-1] * (1 + FAI_GROWTH[k] / 100))
    for key, col, totals in (("industry_va_2020_prices", 3, ind_total),
                             ("fixed_asset_investment", 4, fai_total),
                             ("retail_sales", 5, RETAIL),
                             ("trade_value", 6, TRADE),
                             ("fdi_used", 6, FDI)):
        weights = {u: ECON[u][col] * ECON[u][0] for u in ORDER}
        for k, y in enumerate(YEARS):
            parts = apportion(round(totals[k]), weights)
            for u in ORDER:
                out[u][y][key] = parts[u]
    for k, y in enumerate(YEARS):
        gdp_total = sum(out[u][y]["gdp"] for u in ORDER)
        real_total = sum(out[u][y]["gdp_2020_prices"] for u in ORDER)
        for key, share, weights in (
                ("digital_economy_va", DIGITAL_SHARE[k], INNOVATION),
                ("four_new_economy_va", FOUR_NEW_SHARE[k], INNOVATION),
                ("rd_expenditure", RD_SHARE[k], INNOVATION)):
            # Half by GDP, half by innovation weight.
            w = {u: out[u][y]["gdp"] / gdp_total + weights[u] /
                 sum(weights.values()) for u in ORDER}
            parts = apportion(round(gdp_total * share / 100), w)
            for u in ORDER:
                out[u][y][key] = parts[u]
        # Energy, water and CO2 from intensities on real GDP.
        w = {u: out[u][y]["gdp_2020_prices"] * ENERGY_FACTOR[u]
             for u in ORDER}
        energy = apportion(round(real_total * ENERGY_INTENSITY[k]), w)
        water = apportion(round(real_total * WATER_INTENSITY[k]), w)
        for u in ORDER:
            out[u][y]["energy_consumption"] = energy[u]
            out[u][y]["water_use"] = water[u]
            out[u][y]["co2_emissions"] = round(energy[u] * CO2_PER_TCE[k])
    return out


def figures_all():
    """{year: {unit: {element: value}}}, district included."""
    econ = economy()
    result = {}
    for k, year in enumerate(YEARS):
        per_unit = {}
        for u in ORDER:
            f = first_catalog(u, year)
            pop = f["resident_population"]
            births = f["live_births"]
            midpop, deaths = ages(u, year, f)
            for g in AGE_GROUPS:
                f["deaths." + g] = deaths[g]
            for g in AGE_GROUPS:
                f["midyear_population." + g] = midpop[g]
            ncd = {}
            for g in NCD_GROUPS:
                ncd[g] = round(deaths[g] * NCD_SHARE[g] * NCD_SHARE_TREND ** k)
                f["major_ncd_deaths." + g] = ncd[g]
            all_deaths = sum(deaths.values())
            f["cvd_deaths"] = round(all_deaths * CVD_SHARE_OF_DEATHS[k])
            f["crd_deaths_under70"] = round(sum(ncd.values()) *
                                            CRD_SHARE_OF_NCD)
            f["population_under70"] = sum(
                midpop[g] for g in AGE_GROUPS[:AGE_GROUPS.index("70-74")])
            f["population_60plus"] = sum(
                midpop[g] for g in AGE_GROUPS[AGE_GROUPS.index("60-64"):])

            # Surveys and programmes.
            f["fitness_tested"] = round(pop * 0.008)
            f["fitness_qualified"] = part(f["fitness_tested"],
                                          rate("fitness", u, year))
            f["literacy_surveyed"] = round(pop * 0.004)
            f["literacy_adequate"] = part(f["literacy_surveyed"],
                                          rate("literacy", u, year))
            f["exercise_surveyed"] = round(pop * 0.004)
            f["exercise_regular"] = part(f["exercise_surveyed"],
                                         rate("exercise", u, year))
            f["smokefree_population"] = pop if u in SMOKEFREE[year] else 0
            f["deliveries"] = births - round(births * 0.01)
            f["prenatal_screened"] = part(f["deliveries"],
                                          rate("prenatal", u, year))
            urban_pct = URBAN[u] + URBAN_TREND * k
            urban = round(pop * urban_pct / 100)
            rural = pop - urban
            f["rural_women_eligible"] = round(rural * 0.215)
            f["rural_women_cervical_screened"] = part(
                f["rural_women_eligible"], rate("cervical", u, year))
            f["rural_women_breast_screened"] = part(
                f["rural_women_eligible"], rate("breast", u, year))
            f["rural_women_screened"] = part(f["rural_women_eligible"],
                                             rate("two_cancer", u, year))
            f["newborns_metabolic_screened"] = part(
                births, rate("metabolic", u, year))
            students = round(pop * 0.118)
            f["school_students"] = students
            f["students_fitness_tested"] = round(students * 0.96)
            f["students_fitness_good"] = part(
                f["students_fitness_tested"], rate("student_fitness", u, year))
            f["myopia_screened"] = round(students * 0.98)
            f["myopia_cases"] = part(f["myopia_screened"],
                                     rate("myopia", u, year))
            f["school_pe_hours"] = PE_HOURS[u][k]
            schools, centres, clinics, mch, pneumo = INSTITUTIONS[u]
            f["schools"] = schools
            f["schools_health_staffed"] = SCHOOLS_HEALTH_STAFFED[u][k]
            f["schools_mental_health"] = SCHOOLS_MENTAL_HEALTH[u][k]
            f["schools_pe_curriculum"] = schools
            f["pneumoconiosis_new"] = pneumo[k]
            f["diabetes_managed"] = round(pop * 0.026 * (1 + 0.03 * k))
            f["diabetes_standard"] = part(f["diabetes_managed"],
                                          rate("diabetes", u, year))
            f["nip_eligible_children"] = round(births * 5.6)
            f["nip_vaccinated_children"] = part(f["nip_eligible_children"],
                                                rate("vaccination", u, year))
            f["primary_care_centres"] = centres
            f["primary_care_centres_tcm"] = CENTRES_TCM[u][k]
            f["village_clinics"] = clinics
            f["village_clinics_tcm"] = part(clinics,
                                            rate("tcm_village", u, year))
            f["vision_abnormal_children"] = round(births * 7 * 0.032)
            f["vision_intervened_children"] = part(
                f["vision_abnormal_children"],
                rate("vision_intervention", u, year))
            f["children6_screened"] = round(births * 1.12)
            f["children6_myopic"] = part(f["children6_screened"],
                                         rate("myopia6", u, year))
            f["mch_institutions"] = mch
            f["mch_institutions_connected"] = MCH_CONNECTED[u][k]
            f["mch_institutions_standard"] = MCH_STANDARD[u][k]

            # Five-year plan.
            f["urban_residents"] = urban
            f["rural_residents"] = rural
            f.update(econ[u][year])
            f["new_urban_jobs"] = 0            # filled below
            eligible = round(pop * 0.70)
            f["pension_eligible"] = eligible
            f["pension_insured"] = part(eligible, rate("pension", u, year))
            f["cultivated_land"] = CULTIVATED_MU[u] - 150 * k
            per_unit[u] = f
        # The pneumoconiosis cases with under 5 years of exposure.
        short_total = round(sum(per_unit[u]["pneumoconiosis_new"]
                                for u in ORDER) * RATES["pneumo_short"][0][k]
                            / 100)
        order = sorted(ORDER, key=lambda u: -per_unit[u]["pneumoconiosis_new"])
        for u in ORDER:
            per_unit[u]["pneumoconiosis_new_under5y"] = 0
        for u in order[:short_total]:
            per_unit[u]["pneumoconiosis_new_under5y"] = 1
        # Patents, beds, jobs and grain: district totals apportioned.
        pop_total = sum(per_unit[u]["resident_population"] for u in ORDER)
        for key, total, weights in (
                ("invention_patents", round(pop_total * PATENTS_PER_10K[k]
                                            / 10000), INNOVATION),
                ("eldercare_beds", round(sum(
                    per_unit[u]["population_60plus"] for u in ORDER) *
                    ELDERCARE_PER_1000[k] / 1000),
                 {u: per_unit[u]["population_60plus"] for u in ORDER}),
                ("new_urban_jobs", NEW_JOBS[k],
                 {u: per_unit[u]["urban_residents"] for u in ORDER}),
                ("grain_capacity", GRAIN_TONNES[k], GRAIN_SHARE)):
            parts = apportion(total, weights)
            for u in ORDER:
                per_unit[u][key] = parts[u]
        # Incomes: the unit's 2020 levels scaled so that the district's
        # resident-weighted mean is the plan's 2020 value, then grown.
        for i, (key, wkey) in enumerate(
                (("urban_income_per_capita", "urban_residents"),
                 ("rural_income_per_capita", "rural_residents"))):
            weights = {u: per_unit[u][wkey] for u in ORDER}
            raw = {u: INCOME[u][i] for u in ORDER}
            if k == 0:
                scale = INCOME_2020[i] / district_weighted(raw, weights)
            else:
                scale = INCOME_2020[i] / district_weighted(
                    raw, {u: result[2020][u][wkey] for u in ORDER})
            growth = 1.0
            for j in range(k):
                growth *= 1 + INCOME_GROWTH[j][i] / 100
            for u in ORDER:
                per_unit[u][key] = round(raw[u] * scale * growth)
        per_unit[DISTRICT] = dict(DISTRICT_FIGURES[year])
        result[year] = per_unit
    return result


def fmt(value):
    if isinstance(value, int):
        return "%d" % value
    return ("%.4f" % value).rstrip("0").rstrip(".")


def main():
    data = figures_all()
    for year in YEARS:
        os.makedirs(os.path.join(HERE, str(year)), exist_ok=True)
        for unit in ORDER + [DISTRICT]:
            path = os.path.join(HERE, str(year), unit + ".csv")
            what = ("district office's own" if unit == DISTRICT
                    else "synthetic sample")
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write("# %s %d: %s figures "
                        "(deploy/sample/generate.py)\n"
                        % (unit, year, what))
                f.write("data_element,value\n")
                for code, value in data[year][unit].items():
                    f.write("%s,%s\n" % (code, fmt(value)))


if __name__ == "__main__":
    main()
