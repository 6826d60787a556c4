#!/usr/bin/env python3
"""Data and pages for bench/report.sh.

  report_data.py replicate SAMPLE.json OUT.json N   the sample's packages copied, with distinct
                                                    ids (and purls, relationships, layer lists),
                                                    until there are at least N
  report_data.py render DATA.json OUT.html          the page, made as crates/cairn/src/report.rs's
                                                    render() makes it (the same assets, the same
                                                    escaping), for when no cairn binary writes it
"""
import copy, json, pathlib, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
ASSETS = ROOT / "crates/cairn/src/report"


def replicate(sample, n):
    data = json.loads(sample.read_text())
    base = data["sbom"]["packages"]
    rels = data["sbom"].get("relationships", [])
    packages, relationships, copies = [], [], 0
    while len(packages) < n:
        suffix = "" if copies == 0 else f"-copy{copies}"
        rename = {p["id"]: p["id"] + suffix for p in base}
        for p in base:
            q = copy.deepcopy(p)
            q["id"] = rename[p["id"]]
            if copies:
                q["name"] = f'{p["name"]}-{copies}'
                q["purl"] = (p.get("purl") or "") + suffix
            packages.append(q)
        relationships += [dict(r, **{"from": rename.get(r["from"], r["from"]), "to": rename.get(r["to"], r["to"])}) for r in rels]
        for layer in data["layers"]:
            if copies:
                layer["packages_added"] += [rename[i] for i in layer["packages_added"][: len(base)] if i in rename]
        copies += 1
    data["sbom"]["packages"] = packages
    data["sbom"]["relationships"] = relationships
    data["totals"]["packages"] = len(packages)
    return data


def render(data):
    html = (ASSETS / "report.html").read_text()
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        blob = blob.replace(a, b)
    for marker, fill in (("/*CAIRN:CSS*/", (ASSETS / "report.css").read_text()), ("/*CAIRN:DATA*/", blob),
                         ("/*CAIRN:JS*/", (ASSETS / "report.js").read_text())):
        html = html.replace(marker, fill, 1)
    return html


if __name__ == "__main__":
    cmd = sys.argv[1:2]
    if cmd == ["replicate"] and len(sys.argv) == 5:
        json.dump(replicate(pathlib.Path(sys.argv[2]), int(sys.argv[4])), open(sys.argv[3], "w"))
    elif cmd == ["render"] and len(sys.argv) == 4:
        pathlib.Path(sys.argv[3]).write_text(render(json.loads(pathlib.Path(sys.argv[2]).read_text())))
    else:
        sys.exit(__doc__)
