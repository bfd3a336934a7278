#!/usr/bin/env python3
"""Validate deploy/kubernetes/*.yaml offline, then check what the manifests promise.

Schemas: built-in kinds against the Kubernetes OpenAPI schemas shipped by `kubernetes-validate`
(strict: unknown fields are errors), for the oldest and newest versions it knows; Prometheus
Operator kinds against the CRD models of `cloudcoil.models.prometheus_operator` (pydantic models
generated from the operator's CRDs: patterns and types are enforced, and a field that the model
drops on a round trip is an unknown field).

Then the cross-references a schema cannot see: hardening of the Deployment, probes, the Service
and ServiceMonitor selecting the pods, the Secret keys used, the PrometheusRule's spec being
exactly the rule file, and the probe example (Probe and ConfigMap) agreeing with the Service, the
rules' job name and the Secret the Deployment mounts. Prints one line per problem; exits 1 if any.
"""
import pathlib
import sys

import kubernetes_validate
import yaml
from cloudcoil.models.prometheus_operator import v1 as promop

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "deploy" / "kubernetes"
RULES = ROOT / "deploy" / "prometheus" / "rules" / "vcsa-alerts.yml"
K8S_VERSIONS = ("1.25.0", "1.37.0")
CRD_MODELS = {"ServiceMonitor": promop.ServiceMonitor, "PrometheusRule": promop.PrometheusRule, "Probe": promop.Probe}
PROBE_JOB = "vcsa_probe"  # the job name the rules select for probed appliances

problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def dropped(given, kept, path=""):
    """Paths in `given` that are missing or changed in `kept` (the model's round trip)."""
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield f"{path}.{key}"
            else:
                yield from dropped(value, kept[key], f"{path}.{key}")
    elif isinstance(given, list) and isinstance(kept, list) and len(given) == len(kept):
        for i, (g, k) in enumerate(zip(given, kept)):
            yield from dropped(g, k, f"{path}[{i}]")
    elif given != kept:
        yield f"{path} (read as {kept!r})"


def validate_schema(name, doc):
    kind = doc.get("kind")
    if kind in CRD_MODELS:
        try:
            model = CRD_MODELS[kind].model_validate(doc)
        except Exception as e:  # pydantic.ValidationError: report, keep going
            problems.append(f"{name}: {kind} does not match the CRD: {e}")
            return
        dumped = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
        for path in dropped(doc, dumped):
            problems.append(f"{name}: {kind} field unknown to the CRD: {path}")
        return
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{name}: no schema for {doc.get('apiVersion')} {kind}")
            return
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{name}: invalid {kind} for Kubernetes {version}: {e.message} at {list(e.path)}")


def load_all():
    docs = {}
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                docs[doc["kind"]] = (path.name, doc)
    return docs


def check_references(docs):
    expected = {"Deployment", "Service", "Secret", "ServiceMonitor", "PrometheusRule"}
    check(expected <= docs.keys(), f"missing kinds: {expected - docs.keys()}")
    if not expected <= docs.keys():
        return
    dep, svc, secret, sm, rule = (docs[k][1] for k in ("Deployment", "Service", "Secret", "ServiceMonitor", "PrometheusRule"))

    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    sc, psc = container.get("securityContext", {}), pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, "Deployment: pod must run as a non-root user")
    check(sc.get("readOnlyRootFilesystem") is True, "Deployment: root filesystem must be read-only")
    check(sc.get("allowPrivilegeEscalation") is False, "Deployment: allowPrivilegeEscalation must be false")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], "Deployment: capabilities must drop ALL")
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        check({"cpu", "memory"} <= resources.get(kind, {}).keys(), f"Deployment: resources.{kind} needs cpu and memory")
    check(container.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/-/healthy", "Deployment: liveness probe must GET /-/healthy")
    check(container.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/-/ready", "Deployment: readiness probe must GET /-/ready")
    port_names = {p["name"] for p in container.get("ports", [])}
    check(container["livenessProbe"]["httpGet"]["port"] in port_names, "Deployment: probes must use a declared port")

    # Files passed by flag must be in a mounted volume; Secret keys used must exist.
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    for arg in container.get("args", []):
        if arg.startswith(("--vcenter.password-file=", "--vcenter.tls.ca-file=")):
            path = arg.split("=", 1)[1]
            check(any(path.startswith(mp + "/") for mp in mounts.values()), f"Deployment: {arg} is not in a mounted volume")
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            check(volume["secret"]["secretName"] == secret["metadata"]["name"], "Deployment: volume uses another Secret")
            for item in volume["secret"].get("items", []):
                check(item["key"] in secret_keys, f"Deployment: Secret key {item['key']!r} missing from the example")
    for env in container.get("env", []):
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            check(ref["name"] == secret["metadata"]["name"] and ref["key"] in secret_keys, f"Deployment: env {env['name']} uses a missing Secret key")

    # Service -> pods, ServiceMonitor -> Service, by labels and port name.
    check(svc["spec"]["selector"].items() <= pod_labels.items(), "Service: selector does not match the pods")
    check({p["targetPort"] for p in svc["spec"]["ports"]} <= port_names, "Service: targetPort is not a container port")
    check(sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items(), "ServiceMonitor: selector does not match the Service")
    svc_ports = {p["name"] for p in svc["spec"]["ports"]}
    for endpoint in sm["spec"]["endpoints"]:
        check(endpoint["port"] in svc_ports, f"ServiceMonitor: port {endpoint['port']!r} is not a Service port")
    # The Operator names the job after the Service: the rules select job="vcsa-exporter".
    check(svc["metadata"]["name"] == "vcsa-exporter", "Service: must be named vcsa-exporter (the rules' job label)")

    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    check(rule["spec"] == rules, "PrometheusRule: spec differs from deploy/prometheus/rules/vcsa-alerts.yml")
    check_probe(docs, svc, secret, dep)


def check_probe(docs, svc, secret, dep):
    """The probe example: the Probe reaches the Service's /probe under the rules' job name, and
    probes exactly the targets of the exporter's config file in the ConfigMap, whose modules read
    their password and CA where the Deployment mounts the Secret's keys."""
    check({"Probe", "ConfigMap"} <= docs.keys(), "missing the probe example (Probe and ConfigMap)")
    if not {"Probe", "ConfigMap"} <= docs.keys():
        return
    probe, config_map = docs["Probe"][1], docs["ConfigMap"][1]
    spec = probe["spec"]
    check(spec.get("jobName") == PROBE_JOB, f"Probe: jobName must be {PROBE_JOB} (the rules' job label)")
    check(spec.get("prober", {}).get("path") == "/probe", "Probe: prober.path must be /probe")
    port = next((p["port"] for p in svc["spec"]["ports"] if p["name"] == "http-metrics"), None)
    check(spec.get("prober", {}).get("url") == f"{svc['metadata']['name']}:{port}", "Probe: prober.url must be the Service's name and port")
    (config_text,) = config_map["data"].values()
    config = yaml.safe_load(config_text)
    targets = spec.get("targets", {}).get("staticConfig", {}).get("static", [])
    check(sorted(targets) == sorted(config.get("targets", {})), f"Probe: targets {targets} are not the ConfigMap's {sorted(config.get('targets', {}))}")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    secret_mount = next((m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] == "secret"), None)
    mounted = {f"{secret_mount}/{item['path']}" for v in dep["spec"]["template"]["spec"]["volumes"] if "secret" in v
               for item in v["secret"].get("items", [])}
    for name, module in config.get("modules", {}).items():
        for key in ("password_file", "ca_file"):
            if key in module:
                check(module[key] in mounted, f"ConfigMap: module {name}'s {key} {module[key]} is not a Secret key the Deployment mounts")


def main():
    docs = load_all()
    for name, doc in docs.values():
        validate_schema(name, doc)
    check_references(docs)
    for p in problems:
        print("FAIL", p)
    print(f"{len(docs)} manifests checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
