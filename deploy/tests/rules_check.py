#!/usr/bin/env python3
"""Conventions of the alert rules that promtool does not check.

Every alert: a CamelCase name; a `severity` of critical, warning or info; `summary`,
`description` and a `runbook_url` whose anchor is a heading of deploy/RUNBOOK.md; and unit
tests in vcsa-alerts.test.yml that expect it both firing and not firing; a row of the alert table
in deploy/README.md with its severity (and no row for an unknown alert).
Prints one line per problem; exits 1 if any.
"""
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "vcsa-alerts.yml"
TESTS = RULES.with_name("vcsa-alerts.test.yml")
RUNBOOK = ROOT / "deploy" / "RUNBOOK.md"
README = ROOT / "deploy" / "README.md"
RUNBOOK_URL = "https://github.com/vcsa-exporter/vcsa_exporter/blob/main/deploy/RUNBOOK.md#"


def github_anchor(heading):
    """The id GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def main():
    problems = []
    alerts = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r]
    anchors = {github_anchor(h) for h in re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), re.M)}
    listed = dict(re.findall(r"^\| `(Vcsa\w+)` \| (\w+) \|", README.read_text(), re.M))  # alert -> severity
    expectations = {}  # alertname -> set of "firing" / "silent"
    for test in yaml.safe_load(TESTS.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            expectations.setdefault(case["alertname"], set()).add("firing" if case.get("exp_alerts") else "silent")

    for alert in alerts:
        name = alert["alert"]
        labels, annotations = alert.get("labels", {}), alert.get("annotations", {})
        if not re.fullmatch(r"(?:[A-Z][a-z0-9]+)+", name):
            problems.append(f"{name}: not CamelCase")
        if labels.get("severity") not in ("critical", "warning", "info"):
            problems.append(f"{name}: severity must be critical, warning or info")
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"{name}: no {key} annotation")
        url = annotations.get("runbook_url", "")
        if not url.startswith(RUNBOOK_URL) or url[len(RUNBOOK_URL):] not in anchors:
            problems.append(f"{name}: runbook_url {url!r} is not a section of deploy/RUNBOOK.md")
        if url[len(RUNBOOK_URL):] != name.lower():
            problems.append(f"{name}: runbook_url anchor should be #{name.lower()}")
        if listed.get(name) != labels.get("severity"):
            problems.append(f"{name}: deploy/README.md's alert table should list it with severity {labels.get('severity')}"
                            f" (has {listed.get(name)})")
        missing = {"firing", "silent"} - expectations.get(name, set())
        if missing:
            problems.append(f"{name}: no unit test expecting it {' or '.join(sorted(missing))}")
    for name in expectations.keys() - {a["alert"] for a in alerts}:
        problems.append(f"unit tests name an unknown alert {name}")
    for name in listed.keys() - {a["alert"] for a in alerts}:
        problems.append(f"deploy/README.md lists an unknown alert {name}")

    for p in problems:
        print("FAIL", p)
    print(f"{len(alerts)} alerts checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
