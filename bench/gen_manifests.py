#!/usr/bin/env python3
"""Writes N Kubernetes documents, a mix like a real repository's: workloads of every kind
with one to three containers and varied security contexts, and the Services and ConfigMaps
around them. Deterministic (seeded). usage: gen_manifests.py N [--split DIR]"""
import random
import sys

CAPS = ["NET_BIND_SERVICE", "NET_ADMIN", "SYS_TIME", "CHOWN", "SYS_PTRACE", "NET_RAW",
        "SYS_ADMIN", "IPC_LOCK", "SETUID", "SETGID"]


def security_context(rng, indent):
    pad = " " * indent
    choice = rng.random()
    if choice < 0.25:
        return ""
    lines = [f"{pad}securityContext:"]
    if rng.random() < 0.6:
        lines.append(f"{pad}  allowPrivilegeEscalation: {'false' if rng.random() < 0.8 else 'true'}")
    if rng.random() < 0.3:
        lines.append(f"{pad}  runAsUser: {rng.choice([0, 1000, 65534])}")
    if rng.random() < 0.05:
        lines.append(f"{pad}  privileged: true")
    if rng.random() < 0.3:
        lines.append(f"{pad}  readOnlyRootFilesystem: true")
    if rng.random() < 0.7:
        lines.append(f"{pad}  capabilities:")
        if rng.random() < 0.7:
            lines.append(f"{pad}    drop: [ALL]")
        adds = rng.sample(CAPS, rng.choice([0, 0, 1, 1, 2]))
        if adds:
            lines.append(f"{pad}    add: [{', '.join(adds)}]")
    return "\n".join(lines) + "\n"


def container(rng, i, indent):
    pad = " " * indent
    return (f"{pad}- name: c{i}\n"
            f"{pad}  image: registry.example.com/team/app-{rng.randrange(1000)}:1.{rng.randrange(40)}\n"
            f"{pad}  args: [\"--port=8080\", \"--log-level=info\"]\n"
            f"{pad}  ports:\n{pad}  - containerPort: {rng.choice([80, 443, 8080, 9090])}\n"
            f"{pad}  env:\n{pad}  - name: MODE\n{pad}    value: production\n"
            f"{pad}  - name: POD_NAME\n{pad}    valueFrom:\n{pad}      fieldRef: {{fieldPath: metadata.name}}\n"
            f"{pad}  resources:\n{pad}    requests: {{cpu: 100m, memory: 128Mi}}\n"
            f"{pad}    limits: {{cpu: 500m, memory: 256Mi}}\n"
            f"{pad}  readinessProbe:\n{pad}    httpGet: {{path: /healthz, port: 8080}}\n"
            + security_context(rng, indent + 2))


def pod_spec(rng, indent):
    pad = " " * indent
    out = ""
    if rng.random() < 0.5:
        out += f"{pad}securityContext:\n{pad}  runAsNonRoot: true\n{pad}  seccompProfile: {{type: RuntimeDefault}}\n"
    if rng.random() < 0.03:
        out += f"{pad}hostNetwork: true\n"
    out += f"{pad}containers:\n"
    for i in range(rng.choice([1, 1, 2, 3])):
        out += container(rng, i, indent)
    out += f"{pad}volumes:\n{pad}- name: config\n{pad}  configMap: {{name: app-config}}\n"
    return out


def workload(rng, n):
    kind = rng.choices(["Deployment", "Pod", "StatefulSet", "DaemonSet", "Job", "CronJob",
                        "Service", "ConfigMap"], [35, 10, 10, 5, 5, 5, 15, 15])[0]
    meta = f"metadata:\n  name: app-{n}\n  namespace: team-{n % 17}\n  labels: {{app: app-{n}}}\n"
    if kind == "Service":
        return f"apiVersion: v1\nkind: Service\n{meta}spec:\n  selector: {{app: app-{n}}}\n  ports:\n  - port: 80\n    targetPort: 8080\n"
    if kind == "ConfigMap":
        return f"apiVersion: v1\nkind: ConfigMap\n{meta}data:\n  config.yaml: |\n    level: info\n    port: 8080\n"
    if kind == "Pod":
        return f"apiVersion: v1\nkind: Pod\n{meta}spec:\n" + pod_spec(rng, 2)
    if kind == "CronJob":
        return (f"apiVersion: batch/v1\nkind: CronJob\n{meta}spec:\n  schedule: \"*/5 * * * *\"\n"
                "  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n"
                + pod_spec(rng, 10))
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return (f"apiVersion: {api}\nkind: {kind}\n{meta}spec:\n  selector:\n    matchLabels: {{app: app-{n}}}\n"
            f"  template:\n    metadata:\n      labels: {{app: app-{n}}}\n    spec:\n" + pod_spec(rng, 6))


def main():
    count = int(sys.argv[1])
    rng = random.Random(20261122)
    docs = [workload(rng, n) for n in range(count)]
    if len(sys.argv) > 3 and sys.argv[2] == "--split":
        for n, doc in enumerate(docs):
            with open(f"{sys.argv[3]}/m{n:05d}.yaml", "w") as f:
                f.write(doc)
    else:
        sys.stdout.write("---\n".join(docs))


main()
