#!/usr/bin/env python3
"""bench/import_file.py CATALOG UNITS VALUES OUT_CATALOG OUT_CSV

A province-sized import for bench/import.sh and bench/import_threads.sh:
CATALOG (the built-in Changqing one) with UNITS towns added in counties
of 100 under the district, and a long-form CSV of every town's VALUES
figures for 2022 (the elements the load generator may send, about 75,
for past them the catalog's summing rules break; then plain counts
added to the catalog that no rule reads).
"""
import json, sys
c = json.load(open(sys.argv[1]))
u, nv = int(sys.argv[2]), int(sys.argv[3])
for g in range((u + 99) // 100):
    c["units"].append({"code": "g%04d" % g, "parent": "changqing", "level": "county",
                       "name_zh": "测试县%d" % g, "name_en": "County %d" % g})
for i in range(10, u):
    c["units"].append({"code": "t%06d" % i, "level": "town", "parent": "g%04d" % (i // 100),
                       "name_zh": "测试镇%d" % i, "name_en": "Town %d" % i})
# As tally-loadgen picks them: the counts and amounts every town reports,
# but for those a summing rule reads (one value for every element keeps
# the rules that compare one element with another, not those that sum).
grouped = {e["code"] for e in c["data_elements"] if e.get("age_groups")}
def sums(side):
    if isinstance(side, dict) and "sum" in side:
        return len(side["sum"]) > 1 or sums(side["sum"][0])
    return isinstance(side, str) and (".." in side or side in grouped)
def read_by_a_sum(code):
    base = code.split(".")[0]
    for r in c.get("rules", []):
        if not (sums(r.get("left")) or sums(r.get("right"))):
            continue
        text = json.dumps(r)
        if '"%s"' % base in text or '"%s.' % base in text:
            return True
    return False
els = []
for e in c["data_elements"]:
    if e.get("type") == "status" or "reported_by" in e or read_by_a_sum(e["code"]):
        continue
    for g in e.get("age_groups") or [None]:
        els.append(e["code"] + ("." + g if g else ""))
els = els[:nv]
# A province's form has more elements than the district's: the rest of the
# nv as plain counts that no indicator or rule reads.
for k in range(nv - len(els)):
    code = "extra_%02d" % (k + 1)
    c["data_elements"].append({"code": code, "name_zh": "附加计数%d" % (k + 1),
                               "name_en": "Extra count %d" % (k + 1),
                               "unit": "persons", "type": "count"})
    els.append(code)
# Without the Chinese units of measure, which builds before 91a75f8
# refuse, so that BENCH_AB may compare with them.
for e in c["data_elements"] + c["indicators"]:
    e.pop("unit_zh", None)
json.dump(c, open(sys.argv[4], "w"), ensure_ascii=False)
parents = {y.get("parent") for y in c["units"]}
towns = [x["code"] for x in c["units"] if x.get("parent") and x["code"] not in parents]
with open(sys.argv[5], "w") as f:
    f.write("unit,period,element,value\n")
    for t in towns[:u]:
        for e in els:
            f.write("%s,2022,%s,100\n" % (t, e))
