"""A real node: pods run on containerd + runc, get addresses from the bridge CNI and answer
HTTP; a ClusterIP Service routes through kube-proxy; stopping the node leaves nothing behind.

Order matters at the end: ``test_stopping_the_node...`` stops the module's node itself and
checks what is left, and only then can ``test_a_node_whose_kubelet_died...`` start a node of
its own (one real node per machine at a time). pytest runs a module's tests in file order.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import subprocess
import tarfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from berth_testkit import parts
from berth_testkit.images import Image, busybox_image, pause_image
from berth_testkit.kube import KubeCluster
from berth_testkit.procs import PartMissing
from berth_testkit.realnode import HOST_SYSCTLS, NODE_LABEL, RealNode, kube_chains
from berth_testkit.registry import Registry

# the web page a pod serves: its own name, so a test can tell which replica answered
HTTPD = 'echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'


def _get(url: str, timeout: float = 3.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return str(resp.read().decode())


def _pod_spec(image: str) -> dict[str, Any]:
    return {
        "nodeSelector": {NODE_LABEL: "true"},
        "terminationGracePeriodSeconds": 1,
        "containers": [
            {
                "name": "web",
                "image": image,
                "command": ["/bin/sh", "-c", HTTPD],
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
            }
        ],
    }


def _pod(name: str, ns: str, image: str) -> dict[str, Any]:
    """A pod on the node's loaded image (``imagePullPolicy: Never``: no registry involved)."""
    spec = _pod_spec(image)
    spec["containers"][0]["imagePullPolicy"] = "Never"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
            "spec": spec}  # fmt: skip


def _apply(node: RealNode, *objects: dict[str, Any]) -> None:
    node.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}),
                 check=True)  # fmt: skip


def _namespace(node: RealNode) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    node.kubectl("create", "namespace", name, check=True)
    return name


def _wait_ready(node: RealNode, ns: str, selector: str, count: int, timeout: float = 120) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        out = node.kubectl("get", "pods", "-n", ns, "-l", selector, "-o", "json", check=True).stdout
        pods: list[dict[str, Any]] = json.loads(out)["items"]
        ready = [
            p
            for p in pods
            if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
        ]
        if len(ready) == count:
            return ready
        if time.monotonic() > deadline:
            events = node.kubectl("get", "events", "-n", ns, "-o", "wide").stdout
            events += "\n" + node.ctr("images", "ls").stdout
            raise AssertionError(
                f"{count} pods {selector} not Ready in {timeout:.0f}s: "
                f"{[(p['metadata']['name'], p.get('status')) for p in pods]}\n{events}\n{node.log_tails(40)}"
            )
        time.sleep(0.5)


# --- without a node: images and missing parts -------------------------------------------


def test_an_image_is_an_oci_layout_with_busybox_in_it(tmp_path: Path) -> None:
    image = busybox_image("berth.local/t:2")
    archive = image.write_oci_archive(tmp_path / "t.tar")
    with tarfile.open(archive) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        manifest_digest = index["manifests"][0]["digest"]
        assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == "berth.local/t:2"
        manifest = json.loads(tar.extractfile(f"blobs/sha256/{manifest_digest[7:]}").read())  # type: ignore[union-attr]
        layer = tar.extractfile(f"blobs/sha256/{manifest['layers'][0]['digest'][7:]}").read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as rootfs:
        names = set(rootfs.getnames())
        assert {"bin/busybox", "bin/sh", "bin/httpd", "tmp"} <= names
        assert rootfs.getmember("bin/sh").linkname == "busybox"
    assert pause_image().name == "berth.local/pause:1"
    assert busybox_image("x:1").manifest == busybox_image("x:1").manifest, "images are reproducible"


def test_a_missing_node_part_fails_naming_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_PARTS_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    monkeypatch.delenv("BERTH_BIN_KUBELET", raising=False)
    with pytest.raises(PartMissing, match=r"install-parts\.sh"):
        parts.binary("kubelet")
    monkeypatch.setenv("BERTH_CNI_BIN_DIR", str(tmp_path))
    with pytest.raises(PartMissing, match="containernetworking-plugins"):
        parts.cni_plugins("bridge")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PartMissing, match="Debian package containerd"):
        parts.binary("containerd")


# --- on the real node ---------------------------------------------------------------------


@pytest.mark.slow
def test_the_node_is_ready_on_containerd(real_node: RealNode) -> None:
    node = json.loads(real_node.kubectl("get", "node", real_node.name, "-o", "json", check=True).stdout)
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    assert node["metadata"]["labels"][NODE_LABEL] == "true"


@pytest.mark.slow
def test_a_pod_gets_an_ip_and_answers_http_from_the_host(real_node: RealNode, busybox: Image) -> None:
    ns = _namespace(real_node)
    _apply(real_node, _pod("web", ns, busybox.name))
    (ready,) = _wait_ready(real_node, ns, "app=web", 1)
    ip = ready["status"]["podIP"]
    assert ip.startswith(real_node.pod_cidr.rsplit(".", 2)[0] + "."), ip
    assert _get(f"http://{ip}:8080/") == "hello from web\n"


@pytest.mark.slow
def test_a_cluster_ip_service_routes_to_two_replicas_pulled_from_the_registry(
    real_node: RealNode, real_node_registry: Registry
) -> None:
    # its own image, not the loaded one: containerd 1.6's CRI forgets a loaded image's name when
    # the same image (same config digest) is pulled under another name
    pulled = busybox_image("berth/echo:1", extra={"etc/berth-image": b"pulled from a registry\n"})

    async def push() -> None:
        async with aiohttp.ClientSession() as http:
            reg = real_node_registry
            await pulled.push(http, reg.url, "berth/echo", "1", headers=reg.auth_headers)

    asyncio.run(push())
    image = f"{real_node_registry.host}/berth/echo:1"
    ns = _namespace(real_node)
    labels = {"app": "echo"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "echo", "namespace": ns},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": _pod_spec(image)},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "echo", "namespace": ns},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    _apply(real_node, deployment, service)
    pods = _wait_ready(real_node, ns, "app=echo", 2)
    names = {p["metadata"]["name"] for p in pods}
    cluster_ip = json.loads(real_node.kubectl("get", "service", "echo", "-n", ns, "-o", "json", check=True).stdout)[
        "spec"
    ]["clusterIP"]
    answered: set[str] = set()
    deadline = time.monotonic() + 60
    while answered != names and time.monotonic() < deadline:
        try:  # kube-proxy programs the rules within about a second of the endpoints
            answered.add(_get(f"http://{cluster_ip}/", timeout=2).removeprefix("hello from ").strip())
        except OSError:
            time.sleep(0.3)
    assert answered == names, f"ClusterIP {cluster_ip} answered from {answered}, pods are {names}"


def _assert_nothing_left(node: RealNode, work: Path) -> None:
    assert not work.exists()
    names = {"containerd", "kubelet", "kube-proxy", "containerd-shim-runc-v2", "containerd-shim", "runc"}
    survivors = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if os.path.basename(argv[0].decode(errors="replace")) in names and str(work).encode() in b" ".join(argv):
            survivors.append((entry.name, argv))
    assert survivors == []
    assert kube_chains() == {}
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    assert node.network_name not in rules, "the CNI's NAT rules for the node's pods are left"
    assert str(work) not in Path("/proc/self/mountinfo").read_text()
    assert not Path("/sys/class/net", node.bridge).exists()
    logs = Path("/var/log/containers")
    assert not logs.exists() or all(not os.readlink(p).startswith(str(work)) for p in logs.iterdir() if p.is_symlink())


@pytest.mark.slow
def test_stopping_the_node_leaves_no_process_chain_mount_or_file(real_node: RealNode, busybox: Image) -> None:
    # a pod still running when the node stops must be taken down too
    ns = _namespace(real_node)
    _apply(real_node, _pod("left", ns, busybox.name))
    _wait_ready(real_node, ns, "app=left", 1)
    assert kube_chains(), "kube-proxy should have made its chains while running"
    real_node.stop()
    _assert_nothing_left(real_node, real_node.work_dir)


@pytest.mark.slow
def test_a_node_whose_kubelet_died_is_still_cleaned_up(
    real_node_cluster: KubeCluster, busybox: Image, tmp_path: Path
) -> None:
    # runs after the module's node stopped: one real node per machine at a time
    node = RealNode(real_node_cluster.api, tmp_path / "node", lock_timeout=30)
    sysctls = {k: (Path("/proc/sys") / k).read_text() for k in HOST_SYSCTLS}
    try:
        node.start()
        node.load_image(busybox)
        ns = _namespace(node)
        _apply(node, _pod("orphan", ns, busybox.name))
        _wait_ready(node, ns, "app=orphan", 1)
        node.procs["kubelet"].kill()
    finally:
        node.stop(drain_timeout=5)
    _assert_nothing_left(node, node.work_dir)
    assert {k: (Path("/proc/sys") / k).read_text() for k in HOST_SYSCTLS} == sysctls, "the kubelet's sysctls stay"
