"""The Tiltfile loads: Tilt cannot be built here (its module is not served by the Go proxy) and no
Docker engine runs, so the Tiltfile is executed by the Go Starlark interpreter Tilt itself embeds
(starlark-go), with Tilt's built-ins recorded. ``helm()`` runs the real helm template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import starlark_go
import yaml

from .conftest import ROOT, Helm

SERVICES = [
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
    "gateway",
]


class TiltRecorder:
    def __init__(self, helm: Helm) -> None:
        self.helm = helm
        self.builds: dict[str, dict[str, Any]] = {}
        self.yaml_docs: list[dict[str, Any]] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.local: dict[str, dict[str, Any]] = {}
        self.helm_calls: list[list[Any]] = []
        self.yaml_refs: list[str] = []

    def globals(self) -> dict[str, Any]:
        return {
            "allow_k8s_contexts": lambda contexts: None,
            "docker_build": self.docker_build,
            "sync": lambda src, dest: {"sync": [src, dest]},
            "run": lambda cmd, trigger=None: {"run": cmd},
            "fall_back_on": lambda files: {"fall_back_on": files},
            "helm": self.helm_template,
            "k8s_yaml": self.k8s_yaml,
            "k8s_resource": self.k8s_resource,
            "link": lambda url, name="": {"link": url},
            "local_resource": self.local_resource,
        }

    def docker_build(self, ref: str, context: str, **kw: Any) -> None:
        assert (ROOT / context).is_dir()
        assert (ROOT / kw["dockerfile"]).is_file()
        dockerfile = (ROOT / kw["dockerfile"]).read_text()
        assert f"AS {kw['target']}" in dockerfile, f"Dockerfile has no target {kw['target']}"
        for step in kw.get("live_update", []):
            if "sync" in step:
                assert (ROOT / step["sync"][0]).is_dir(), f"live_update syncs a missing path {step['sync'][0]}"
        self.builds[ref] = kw

    # Starlark callbacks run on a Go thread where forking a subprocess crashes the interpreter, so
    # helm() only records its arguments; the real `helm template` runs after the Tiltfile is loaded.
    def helm_template(self, chart: str, name: str, namespace: str, values: list[str]) -> str:
        self.helm_calls.append([chart, name, namespace, list(values)])
        return f"__helm_{len(self.helm_calls) - 1}__"

    def k8s_yaml(self, ref: str) -> None:
        self.yaml_refs.append(ref)

    def k8s_resource(self, workload: str, **kw: Any) -> None:
        self.resources[workload] = kw

    def resolve(self) -> None:
        for ref in self.yaml_refs:
            chart, name, namespace, values = self.helm_calls[int(ref.strip("_").split("_")[1])]
            args = ["template", name, str(ROOT / chart), "--namespace", namespace, "--kube-version", "1.36.0"]
            for v in values:
                args += ["-f", str(ROOT / v)]
            self.yaml_docs += [d for d in yaml.safe_load_all(self.helm(*args).stdout) if d]
        names = {d["metadata"]["name"] for d in self.yaml_docs if d["kind"] in ("Deployment", "StatefulSet")}
        for workload in self.resources:
            assert workload in names, f"k8s_resource({workload!r}) names no workload in the chart: {sorted(names)}"

    def local_resource(self, name: str, cmd: str, **kw: Any) -> None:
        self.local[name] = {"cmd": cmd, **kw}


def test_tiltfile_loads_and_wires_every_service(helm: Helm) -> None:
    rec = TiltRecorder(helm)
    # Tilt's own dialect: top-level if/for, global reassignment, recursion and sets.
    starlark_go.configure_starlark(allow_set=True, allow_global_reassign=True, allow_recursion=True)
    sl = starlark_go.Starlark()
    # starlark-go does not own a reference to the callables it is given: keep them alive here.
    builtins = rec.globals()
    sl.set(**builtins)
    sl.exec((ROOT / "Tiltfile").read_text(), filename="Tiltfile")
    rec.resolve()

    assert set(rec.builds) == {f"ghcr.io/berth-dev/berth-{s}" for s in SERVICES}
    images = {
        c["image"].rsplit(":", 1)[0]
        for d in rec.yaml_docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == set(rec.builds), "every image Tilt builds is one the chart deploys"
    for ref, build in rec.builds.items():
        synced = [s["sync"][0] for s in build["live_update"] if "sync" in s]
        assert "libs/common/src/berth_common" in synced, ref
        assert any(p.startswith("services/") for p in synced), ref
    assert "8080:8080" in rec.resources["berth-gateway"]["port_forwards"]
    assert "pytest" in rec.local["unit-tests"]["cmd"]
    dev = [d for d in rec.yaml_docs if d["kind"] == "Deployment"]
    assert all(d["spec"]["replicas"] == 1 for d in dev), "tilt/values-dev.yaml runs one replica each"


def test_dockerfile_is_non_root_pinned_and_multi_target() -> None:
    text = (Path(ROOT) / "Dockerfile").read_text()
    assert ":latest" not in text
    for target in ("build", "service", "dev", "debug"):
        assert f" AS {target}" in text
    service = text.split(" AS service", 1)[1].split("FROM ", 1)[0]
    assert "USER 10001:10001" in service
    assert "uv sync --frozen" in text, "images build from the same lock file as the tests"
    debug = text.split(" AS debug", 1)[1]
    assert "tcpdump" in debug and "tcpdump" not in service
