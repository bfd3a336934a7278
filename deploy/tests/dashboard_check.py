#!/usr/bin/env python3
"""Static checks of the Grafana dashboard, and its PromQL for the end-to-end test.

As a script: checks dashboards/vcsa-recovery-jobs.json (a raw JSON model, not an "export for
sharing"; a "Data source" variable used by every panel and query; job and instance variables;
every panel with a title, a description and a unit; every query following the job and instance
variables, which list vcsa_up's labels so that probed appliances are listed too; the layout; the
backup age thresholds against VcsaBackupTooOld's) and dashboards/provisioning.yaml.
Prints one line per problem; exits 1 if any.

As a module (stdlib only, for prometheus_e2e.py): `expressions()` lists every PromQL expression
of the dashboard with its origin, `variable_queries()` the `label_values()` queries of its
variables, and `substitute()` fills in Grafana variables.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboards" / "vcsa-recovery-jobs.json"
PROVISIONING = ROOT / "dashboards" / "provisioning.yaml"
RULES = ROOT / "deploy" / "prometheus" / "rules" / "vcsa-alerts.yml"
DATASOURCE = "${datasource}"
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range"}
LABEL_VALUES = re.compile(r"^label_values\((.+),\s*(\w+)\)$")


def load():
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panels(dashboard):
    """All panels, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def expressions(dashboard):
    """(origin, expr) for every panel query and every annotation query."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel.get('title')!r} query {target.get('refId')}", target.get("expr", "")
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            yield f"annotation {annotation.get('name')!r}", annotation["expr"]


def variable_queries(dashboard):
    """(variable, metric selector, label) for each `label_values(selector, label)` variable."""
    for var in dashboard["templating"]["list"]:
        if var.get("type") == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            match = LABEL_VALUES.match(query.strip())
            if not match:
                raise ValueError(f"variable {var['name']}: unsupported query {query!r}")
            yield var, match.group(1), match.group(2)


def interpolate(variable, selected):
    """The text Grafana's Prometheus data source puts in a query for the selected values:
    escaped for a PromQL string, and as a regex when the variable is multi-value or has All."""
    if not (variable.get("multi") or variable.get("includeAll")):
        return selected[0].replace("\\", "\\\\").replace("'", "\\\\'")
    escaped = [re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), v.replace("\\", "\\\\\\\\")) for v in selected]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def substitute(expr, values):
    """Replace $name and ${name} with values[name]; an unknown variable raises KeyError."""
    return VARIABLE.sub(lambda m: values[m.group(1) or m.group(2)], expr)


def check_dashboard(d, problems):
    def check(condition, message):
        if not condition:
            problems.append(message)

    check("__inputs" not in d and "__requires" not in d, "exported for sharing (__inputs/__requires): use the raw JSON model")
    check(d.get("id") is None, "id must be null (Grafana assigns it)")
    check(d.get("uid") == "vcsa-recovery-jobs", "uid must stay vcsa-recovery-jobs (links and provisioning use it)")
    check(36 <= d.get("schemaVersion", 0) <= 41, f"schemaVersion {d.get('schemaVersion')} is not around 39")
    check(bool(d.get("title")), "dashboard has no title")

    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource", {})
    check(ds.get("type") == "datasource" and ds.get("query") == "prometheus" and ds.get("label") == "Data source",
          "needs a `datasource` variable of type datasource, query prometheus, label \"Data source\"")
    for name in ("job", "instance"):
        var = variables.get(name, {})
        check(var.get("type") == "query" and var.get("datasource", {}).get("uid") == DATASOURCE,
              f"variable {name} must be a query on {DATASOURCE}")
    try:
        # Both ways of scraping have vcsa_up per appliance; vcsa_exporter_build_info is never in a
        # probe's answer (/probe), so variables built on it would miss every probed appliance.
        selectors = {var["name"]: selector for var, selector, _ in variable_queries(d)}
        for name in ("job", "instance"):
            check(selectors.get(name, "").startswith("vcsa_up"), f"variable {name} must list label_values(vcsa_up..., {name})")
    except ValueError as e:
        problems.append(str(e))

    seen_ids, cells = set(), {}
    for panel in panels(d):
        title = panel.get("title")
        check(bool(title), f"panel {panel.get('id')} has no title")
        check(panel.get("id") not in seen_ids, f"panel id {panel.get('id')} is not unique")
        seen_ids.add(panel.get("id"))
        pos = panel.get("gridPos", {})
        check(pos.get("x", 0) + pos.get("w", 0) <= 24, f"panel {title!r} is wider than the grid")
        area = {(x, y) for x in range(pos.get("x", 0), pos.get("x", 0) + pos.get("w", 0))
                for y in range(pos.get("y", 0), pos.get("y", 0) + pos.get("h", 0))}
        for other in sorted({cells[c] for c in area if c in cells}):
            problems.append(f"panel {title!r} overlaps {other!r}")
        cells.update(dict.fromkeys(area, title))
        if panel.get("type") == "row":  # a row only groups panels: no query, unit or description
            continue
        check(bool(panel.get("description")), f"panel {title!r} has no description")
        check(bool(panel.get("fieldConfig", {}).get("defaults", {}).get("unit")), f"panel {title!r} has no unit")
        check(panel.get("datasource", {}).get("uid") == DATASOURCE, f"panel {title!r} does not use {DATASOURCE}")
        check(bool(panel.get("targets")), f"panel {title!r} has no query")
        for target in panel.get("targets", []):
            check(target.get("datasource", {}).get("uid") == DATASOURCE, f"panel {title!r} query {target.get('refId')} does not use {DATASOURCE}")
            check(bool(target.get("expr")), f"panel {title!r} query {target.get('refId')} has no expr")
    for annotation in d.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            check(annotation.get("datasource", {}).get("uid") == DATASOURCE, f"annotation {annotation.get('name')!r} does not use {DATASOURCE}")

    # What the issue asks the dashboard to show, by panel type, unit and query.
    def has(type_, unit=None, expr_part=""):
        return any(p.get("type") == type_ and (unit is None or p["fieldConfig"]["defaults"].get("unit") == unit)
                   and any(expr_part in t.get("expr", "") for t in p.get("targets", [])) for p in panels(d))
    wanted = [
        ("stat", None, "vcsa_reconciliation_job_status"),
        ("state-timeline", None, "vcsa_reconciliation_job_status"),
        ("gauge", "percentunit", "vcsa_reconciliation_job_progress_ratio"),
        ("stat", "s", "vcsa_reconciliation_job_duration_seconds"),
        ("stat", None, "vcsa_reconciliation_job_start_time_seconds"),
        ("stat", None, "vcsa_reconciliation_job_end_time_seconds"),
        ("stat", None, "up{"),
        ("stat", None, "vcsa_up{"),
        ("timeseries", "s", "vcsa_scrape_duration_seconds"),
        ("timeseries", None, "sum by (instance, error_type) (rate(vcsa_api_request_errors_total"),
        ("stat", None, "vcsa_restore_job_state"),
        ("stat", "dtdurations", "time() - vcsa_backup_last_success_timestamp_seconds"),
        ("stat", None, "vcsa_backup_schedule_enabled"),
        ("table", None, "vcsa_backup_job_info"),
        ("table", None, "vcsa_backup_job_status"),
        ("timeseries", "bytes", "vcsa_backup_job_size_bytes"),
        ("timeseries", "s", "vcsa_backup_job_duration_seconds"),
    ]
    for type_, unit, expr_part in wanted:
        check(has(type_, unit, expr_part), f"no {type_} panel{' in ' + unit if unit else ''} querying {expr_part!r}")
    check_backup_age_thresholds(d, problems)
    for origin, expr in expressions(d):
        # Every query follows the Job and Instance pickers: one appliance, some, or all of them.
        for name in ("job", "instance"):
            check(f'{name}=~"${name}"' in expr, f'{origin}: does not select {name}=~"${name}"')
        if "rate(" in expr:
            check("[$__rate_interval]" in expr, f"{origin}: rate() must use [$__rate_interval]")
        used = {braced or bare for braced, bare in VARIABLE.findall(expr)}
        check(used <= variables.keys() | GRAFANA_BUILTINS, f"{origin}: undefined variables {used - variables.keys() - GRAFANA_BUILTINS}")


def check_backup_age_thresholds(d, problems):
    """The backup age stat turns red where VcsaBackupTooOld's threshold (`> H * 3600` in its rule) is,
    and orange 2 hours before it."""
    rule = re.search(r"- alert: VcsaBackupTooOld\n(?:.*\n)*?.*> (\d+) \* 3600", RULES.read_text(encoding="utf-8"))
    if not rule:
        problems.append(f"{RULES.name}: no `> H * 3600` threshold found in VcsaBackupTooOld")
        return
    threshold = int(rule.group(1)) * 3600
    age = [p for p in panels(d) if any("time() - vcsa_backup_last_success_timestamp_seconds" in t.get("expr", "")
                                       for t in p.get("targets", []))]
    for panel in age:
        steps = panel["fieldConfig"]["defaults"].get("thresholds", {}).get("steps", [])
        colors = {step.get("color"): step.get("value") for step in steps}
        if colors != {"green": None, "orange": threshold - 2 * 3600, "red": threshold}:
            problems.append(f"panel {panel.get('title')!r}: thresholds {colors} should be green, orange from "
                            f"{threshold - 2 * 3600}, red from {threshold} (VcsaBackupTooOld)")


def check_provisioning(problems):
    import yaml  # only the static check needs PyYAML; the e2e test imports this module without it

    config = yaml.safe_load(PROVISIONING.read_text(encoding="utf-8"))
    if config.get("apiVersion") != 1 or not config.get("providers"):
        problems.append("provisioning.yaml: needs apiVersion 1 and providers")
        return
    for provider in config["providers"]:
        if provider.get("type") != "file" or not provider.get("options", {}).get("path") or not provider.get("name"):
            problems.append(f"provisioning.yaml: provider {provider.get('name')!r} needs a name, type file and options.path")


def main():
    problems = []
    dashboard = load()
    check_dashboard(dashboard, problems)
    check_provisioning(problems)
    for p in problems:
        print("FAIL", p)
    print(f"{sum(1 for _ in panels(dashboard))} panels, {sum(1 for _ in expressions(dashboard))} queries checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
