"""A real Kubernetes node on this machine: containerd + runc, a bridge CNI, a kubelet and
kube-proxy (iptables mode), registered to a test control plane (``berth_testkit.kube.KubeApi``).

Pods on it really run. Everything it starts lives under its ``work_dir`` (containerd's root,
state, socket and CNI config; the kubelet's root dir; the CNI's IP allocations), and
:meth:`RealNode.stop` takes all of it down: it cordons the node and deletes its pods (so the
CNI releases their networks), stops kube-proxy and runs ``kube-proxy --cleanup``, stops the
kubelet and containerd and its shims, deletes leftover ``KUBE-`` chains (the kubelet's), the
CNI's NAT chains of pods it could not stop, and the bridge, puts back the sysctls the kubelet
changed, removes the kubelet's files outside its root dir (/var/log/containers links, the
device-plugin socket), unmounts what is mounted under ``work_dir`` and deletes it. The
processes' logs stay in ``<work_dir>-logs``.

The pod sandbox ("pause") image is busybox ``sleep infinity`` (``images.pause_image``),
loaded into containerd before the kubelet starts.

What this machine needs (found in the issue that introduced it, #20): the kubelet with
``failCgroupV1: false`` (cgroup v1), ``cgroupDriver: cgroupfs``, ``cgroupsPerQOS: false``,
``enforceNodeAllocatable: []`` and ``failSwapOn: false``; containerd's CRI plugin with
``restrict_oom_score_adj = true`` (without CAP_SYS_RESOURCE every sandbox fails with runc's
"can't get final child's PID from pipe: EOF").

kube-proxy and the kubelet own the host's ``KUBE-`` iptables chains, so only one real node
runs on a machine at a time: a second one waits for the first (a lock file) or fails saying so.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import fcntl
import json
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from .images import Image, pause_image
from .kube import KubeApi
from .parts import binary, cni_plugins
from .probes import http_ok
from .procs import PartMissing, Proc, free_port, processes_under, stop_processes_under
from .registry import Registry

NODE_LABEL = "berth.dev/real-node"
LOCK_FILE = Path(tempfile.gettempdir()) / "berth-realnode.lock"
CNI_PLUGINS = ("bridge", "host-local", "portmap", "loopback")
CONTAINERD_NAMESPACE = "k8s.io"
# sysctls the kubelet (kernel tunables it wants), the bridge plugin (ip_forward) or kube-proxy
# set on the host; the node puts back what they were
HOST_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet",
)
_MNT_DETACH = 2


def host_ip() -> str:
    """The address this machine's default route leaves from (the node's InternalIP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))  # no packet is sent: this only picks a route
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _read_sysctls() -> dict[str, str]:
    found: dict[str, str] = {}
    for key in HOST_SYSCTLS:
        with contextlib.suppress(OSError):
            found[key] = (Path("/proc/sys") / key).read_text().strip()
    return found


def _write_sysctls(values: dict[str, str]) -> None:
    for key, value in values.items():
        path = Path("/proc/sys") / key
        if path.read_text().strip() != value:
            path.write_text(value + "\n")


def _listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
            return True
        except OSError:
            return False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _mounts_under(directory: Path) -> list[str]:
    """Mount points at or below ``directory``, deepest first."""
    prefix = str(directory.resolve())
    found: list[str] = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")  # octal escapes such as \040
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return sorted(set(found), key=lambda p: p.count("/"), reverse=True)


def unmount_under(directory: Path) -> list[str]:
    """Lazily unmount everything mounted at or below ``directory``; returns what was mounted."""
    libc = ctypes.CDLL(None, use_errno=True)
    points = _mounts_under(directory)
    for point in points:
        libc.umount2(point.encode(), _MNT_DETACH)
    return points


def kube_chains() -> dict[str, list[str]]:
    """``KUBE-`` chains in the host's iptables/ip6tables tables: {"iptables/nat": [chains]}."""
    found: dict[str, list[str]] = {}
    for tool in ("iptables-save", "ip6tables-save"):
        out = subprocess.run([binary(tool)], capture_output=True, text=True, check=False).stdout
        table = ""
        for line in out.splitlines():
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith(":KUBE-"):
                found.setdefault(f"{tool.removesuffix('-save')}/{table}", []).append(line[1:].split()[0])
    return found


def _drop_chains(tool: str, table: str, chains: Sequence[str], jumps: Sequence[list[str]]) -> None:
    """Delete the rules ``jumps`` (``-A``-less iptables-save rule specs), then flush and delete ``chains``."""
    run = [binary(tool), "-t", table]
    for rule in jumps:
        subprocess.run([*run, "-D", *rule], capture_output=True, check=False)
    for chain in chains:
        subprocess.run([*run, "-F", chain], capture_output=True, check=False)
    for chain in chains:
        subprocess.run([*run, "-X", chain], capture_output=True, check=False)


def _rules(tool: str, table: str) -> list[list[str]]:
    """``-A`` rules of a table as argument lists (comments keep their quoted spaces)."""
    save = subprocess.run([binary(f"{tool}-save"), "-t", table], capture_output=True, text=True).stdout
    return [shlex.split(line)[1:] for line in save.splitlines() if line.startswith("-A ")]


def delete_kube_chains() -> None:
    """Delete every ``KUBE-`` chain and every rule jumping to one (what the kubelet's canary
    and firewall chains leave after ``kube-proxy --cleanup``)."""
    for family, chains in kube_chains().items():
        tool, table = family.split("/")
        jumps = [r for r in _rules(tool, table) if not r[0].startswith("KUBE-") and _target(r).startswith("KUBE-")]
        _drop_chains(tool, table, chains, jumps)


def delete_cni_chains(network: str) -> None:
    """Delete the NAT chains the bridge plugin made for pods of ``network`` (``ipMasq``); the
    plugin removes them itself when a pod's sandbox stops, so these are left only when the
    kubelet died before it could stop its pods."""
    marker = f'name: "{network}"'
    for tool in ("iptables", "ip6tables"):
        jumps = [r for r in _rules(tool, "nat") if r[0] == "POSTROUTING" and any(marker in a for a in r)]
        chains = [_target(r) for r in jumps if _target(r).startswith("CNI-")]
        _drop_chains(tool, "nat", chains, jumps)


def _target(rule: list[str]) -> str:
    return rule[rule.index("-j") + 1] if "-j" in rule else ""


@dataclass
class RealNode:
    """A kubelet on containerd registered to ``api`` as ``name`` (label ``berth.dev/real-node``).

    ``registries`` are plain-HTTP registries the node may pull from (their credentials, if
    any, go into containerd's config). Images can also be loaded with :meth:`load_image`.
    Do not load an image and also pull the very same image (same config digest) under another
    name: containerd 1.6's CRI then forgets the loaded name (kubelet: ErrImageNeverPull).
    """

    api: KubeApi
    work_dir: Path
    name: str = field(default_factory=lambda: f"berth-node-{uuid.uuid4().hex[:6]}")
    pod_cidr: str = "10.88.0.0/24"
    registries: Sequence[Registry] = ()
    sandbox_image: Image = field(default_factory=pause_image)
    lock_timeout: float = 300.0
    node_ip: str = field(default_factory=host_ip)
    kubelet_port: int = field(default_factory=free_port)
    kubelet_healthz_port: int = field(default_factory=free_port)
    proxy_healthz_port: int = field(default_factory=free_port)
    proxy_metrics_port: int = field(default_factory=free_port)
    log_dir: Path | None = None  # default: <work_dir>-logs, kept after stop
    procs: dict[str, Proc] = field(default_factory=dict, init=False, repr=False)
    startup_seconds: float = field(default=0.0, init=False)
    _lock: IO[bytes] | None = field(default=None, init=False, repr=False)
    _sysctls: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    # --- layout ---------------------------------------------------------------------------

    @property
    def containerd_socket(self) -> Path:
        return self.work_dir / "containerd" / "containerd.sock"

    @property
    def bridge(self) -> str:
        return "bn" + self.name.rsplit("-", 1)[-1][:12]  # an interface name has 15 bytes at most

    @property
    def network_name(self) -> str:
        return self.name

    @property
    def logs(self) -> Path:
        return self.log_dir or self.work_dir.with_name(self.work_dir.name + "-logs")

    def _path(self, *parts: str) -> Path:
        return self.work_dir.joinpath(*parts)

    # --- start ----------------------------------------------------------------------------

    def start(self, *, ready_timeout: float = 180.0) -> RealNode:
        """Start containerd, the kubelet and kube-proxy; return once the node is Ready."""
        began = time.monotonic()
        # every part first, so that a missing one fails before anything starts
        bins = {
            b: binary(b)
            for b in ("containerd", "ctr", "containerd-shim-runc-v2", "runc", "kubelet", "kube-proxy", "kubectl")
        }
        bins["iptables"] = binary("iptables")
        cni_dir = cni_plugins(*CNI_PLUGINS)
        self._take_lock()
        try:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            self._sysctls = _read_sysctls()
            self._start_containerd(bins, cni_dir)
            self.load_image(self.sandbox_image)
            self._write_kubeconfigs()
            self._start_kubelet(bins["kubelet"])
            self._start_kube_proxy(bins["kube-proxy"])
            self._wait_node_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _take_lock(self) -> None:
        LOCK_FILE.touch(exist_ok=True)
        lock = LOCK_FILE.open("rb")
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    lock.close()
                    raise TimeoutError(
                        f"another real node held {LOCK_FILE} for {self.lock_timeout:.0f}s (one real node per "
                        "machine: kube-proxy and the kubelet own the host's KUBE- iptables chains)"
                    ) from None
                time.sleep(0.5)
        self._lock = lock

    def _start_containerd(self, bins: dict[str, str], cni_dir: Path) -> None:
        base = self._path("containerd")
        conf_dir, certs_dir = base / "cni", base / "certs.d"
        for d in (base, conf_dir, certs_dir):
            d.mkdir(parents=True, exist_ok=True)
        registry_auth: dict[str, Any] = {}
        for reg in self.registries:
            host_dir = certs_dir / reg.host
            host_dir.mkdir(parents=True, exist_ok=True)
            (host_dir / "hosts.toml").write_text(
                f'server = "{reg.url}"\n\n[host."{reg.url}"]\n  capabilities = ["pull", "resolve"]\n'
            )
            if reg.credentials:
                user, password = reg.credentials
                registry_auth[reg.host] = {"auth": {"username": user, "password": password}}
        cri: dict[str, Any] = {
            "sandbox_image": self.sandbox_image.name,
            "restrict_oom_score_adj": True,
            "netns_mounts_under_state_dir": True,
            "stream_server_address": "127.0.0.1",
            "stream_server_port": "0",
            "enable_selinux": False,
            "containerd": {
                "snapshotter": "overlayfs",
                "default_runtime_name": "runc",
                "runtimes": {
                    "runc": {
                        "runtime_type": "io.containerd.runc.v2",
                        "options": {
                            "BinaryName": bins["runc"],
                            "Root": str(base / "state" / "runc"),
                            "SystemdCgroup": False,
                        },
                    }
                },
            },
            "cni": {"bin_dir": str(cni_dir), "conf_dir": str(conf_dir), "max_conf_num": 1},
            "registry": {"config_path": str(certs_dir), "configs": registry_auth},
        }
        config = {
            "version": 2,
            "root": str(base / "root"),
            "state": str(base / "state"),
            "grpc": {"address": str(self.containerd_socket)},
            "ttrpc": {"address": str(self.containerd_socket) + ".ttrpc"},
            "debug": {"address": "", "level": "info"},
            "metrics": {"address": ""},
            "disabled_plugins": [
                "io.containerd.snapshotter.v1.aufs",
                "io.containerd.snapshotter.v1.btrfs",
                "io.containerd.snapshotter.v1.devmapper",
                "io.containerd.snapshotter.v1.zfs",
            ],
            "plugins": {
                "io.containerd.grpc.v1.cri": cri,
                "io.containerd.internal.v1.opt": {"path": str(base / "opt")},
            },
        }
        (base / "config.toml").write_text(_toml(config))
        (conf_dir / "10-berth.conflist").write_text(json.dumps(self._cni_config(), indent=2))
        # the shims find runc on PATH; containerd finds the shim there too
        path = os.pathsep.join(dict.fromkeys([str(Path(bins["containerd-shim-runc-v2"]).parent), os.environ["PATH"]]))
        proc = Proc(
            "containerd", [bins["containerd"], "--config", str(base / "config.toml")], log_dir=self.logs,
            env={"PATH": path},
        ).start()  # fmt: skip
        self.procs["containerd"] = proc
        proc.wait_ready(lambda: self.ctr("version").returncode == 0, timeout=60, what="(ctr version)")

    def _cni_config(self) -> dict[str, Any]:
        return {
            "cniVersion": "1.0.0",
            "name": self.network_name,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": True,
                    "ipMasq": True,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": self.pod_cidr}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(self._path("cni-ipam")),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }

    def ctr(self, *args: str, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``ctr`` against this node's containerd in the CRI namespace."""
        argv = [binary("ctr"), "--address", str(self.containerd_socket), "-n", CONTAINERD_NAMESPACE, *args]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=timeout)

    def load_image(self, image: Image) -> None:
        """Import ``image`` into the node's containerd (``ctr images import``), so pods run it
        without a registry (``imagePullPolicy: IfNotPresent`` or ``Never``)."""
        archive = image.write_oci_archive(self._path("images", f"{uuid.uuid4().hex}.tar"))
        try:
            done = self.ctr("images", "import", str(archive))
            if done.returncode != 0:
                raise RuntimeError(f"ctr images import {image.name} failed: {done.stderr or done.stdout}")
        finally:
            archive.unlink(missing_ok=True)

    def _write_kubeconfigs(self) -> None:
        pki = self._path("pki")
        pki.mkdir(parents=True, exist_ok=True)
        ca = self.api.ca
        kubelet = ca.issue(f"system:node:{self.name}", organizations=("system:nodes",), client=True)
        proxy = ca.issue("system:kube-proxy", client=True)
        for stem, pair in (("kubelet", kubelet), ("kube-proxy", proxy)):
            cfg = self.api.kubeconfig_dict()
            cfg["users"] = [
                {
                    "name": stem,
                    "user": {"client-certificate-data": _b64(pair.cert_pem), "client-key-data": _b64(pair.key_pem)},
                }
            ]
            cfg["contexts"][0]["context"]["user"] = stem
            path = pki / f"{stem}.kubeconfig"
            path.write_text(yaml.safe_dump(cfg))
            path.chmod(0o600)
        (pki / "ca.crt").write_bytes(ca.cert_pem)
        # The API server authorizes with RBAC only (no Node authorizer): bind the built-in
        # system:node role to the nodes' group. kube-proxy's binding (system:node-proxier) is built in.
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "berth-test-system-nodes"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}],
        }
        self.kubectl("apply", "-f", "-", input=json.dumps(binding), check=True)

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = False, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """kubectl as the control plane's admin."""
        argv = [binary("kubectl"), f"--kubeconfig={self.api.kubeconfig_path}", *args]
        done = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done

    def _start_kubelet(self, kubelet: str) -> None:
        root = self._path("kubelet")
        root.mkdir(parents=True, exist_ok=True)
        pki = self._path("pki")
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # what this machine needs (see the module docstring)
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",
            "cgroupsPerQOS": False,
            "enforceNodeAllocatable": [],
            "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "address": self.node_ip,
            "port": self.kubelet_port,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": self.kubelet_healthz_port,
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(pki / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            "podLogsDir": str(self._path("pod-logs")),
            "volumePluginDir": str(root / "volume-plugins"),
            "registerNode": True,
            "clusterDomain": "cluster.local",
            "podCIDR": self.pod_cidr,
            # a CI disk or a small VM must not put the node under pressure and evict test pods
            "evictionHard": {"memory.available": "20Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "syncFrequency": "10s",
            "nodeStatusReportFrequency": "10s",
        }
        (root / "config.yaml").write_text(yaml.safe_dump(config))
        proc = Proc(
            "kubelet",
            [
                kubelet,
                f"--config={root / 'config.yaml'}",
                f"--kubeconfig={pki / 'kubelet.kubeconfig'}",
                f"--root-dir={root}",
                f"--cert-dir={root / 'pki'}",
                f"--hostname-override={self.name}",
                f"--node-ip={self.node_ip}",
                f"--node-labels={NODE_LABEL}=true",
                "--v=2",
            ],
            log_dir=self.logs,
        ).start()
        self.procs["kubelet"] = proc
        proc.wait_ready(
            lambda: http_ok(f"http://127.0.0.1:{self.kubelet_healthz_port}/healthz"), timeout=90, what="(/healthz)"
        )

    def _start_kube_proxy(self, kube_proxy: str) -> None:
        proc = Proc(
            "kube-proxy",
            [
                kube_proxy,
                f"--kubeconfig={self._path('pki', 'kube-proxy.kubeconfig')}",
                f"--hostname-override={self.name}",
                "--proxy-mode=iptables",
                f"--cluster-cidr={self.pod_cidr}",
                f"--healthz-bind-address=127.0.0.1:{self.proxy_healthz_port}",
                f"--metrics-bind-address=127.0.0.1:{self.proxy_metrics_port}",
                # leave the host's sysctls alone (conntrack table size and timeouts, route_localnet)
                "--conntrack-max-per-core=0",
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                "--iptables-localhost-nodeports=false",
                "--nodeport-addresses=primary",
                "--v=2",
            ],
            log_dir=self.logs,
        ).start()
        self.procs["kube-proxy"] = proc
        proc.wait_ready(
            lambda: http_ok(f"http://127.0.0.1:{self.proxy_healthz_port}/healthz"), timeout=90, what="(/healthz)"
        )

    def _wait_node_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            done = self.kubectl("get", "node", self.name, "-o", "json")
            if done.returncode == 0:
                conditions = json.loads(done.stdout).get("status", {}).get("conditions", [])
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    return
            for proc in self.procs.values():
                if not proc.running:
                    raise RuntimeError(f"{proc.name} exited while the node came up.\n{self.log_tails()}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"node {self.name} not Ready in {timeout:.0f}s: {done.stdout or done.stderr}\n{self.log_tails()}"
                )
            time.sleep(0.5)

    def log_tails(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.log_path} ---\n{p.log_tail(lines)}" for p in self.procs.values())

    # --- stop -----------------------------------------------------------------------------

    def stop(self, *, drain_timeout: float = 60.0) -> None:
        """Take everything down (idempotent); raises if something could not be cleaned up."""
        if self._lock is None and not self.procs:
            return
        problems: list[str] = []

        def attempt(what: str, fn: Any, *args: Any) -> None:
            try:
                fn(*args)
            except Exception as err:  # go on cleaning; report it at the end
                problems.append(f"{what}: {err}")

        if self.procs.get("kubelet") and self.procs["kubelet"].running:
            attempt("draining the node", self._drain, drain_timeout)
        proxy = self.procs.pop("kube-proxy", None)
        if proxy:
            proxy.stop()
        attempt("kube-proxy --cleanup", self._proxy_cleanup)
        kubelet = self.procs.pop("kubelet", None)
        if kubelet:
            kubelet.stop()
        containerd = self.procs.get("containerd")
        if containerd and containerd.running:
            attempt("killing containers", self._kill_tasks)
        containerd = self.procs.pop("containerd", None)
        if containerd:
            containerd.stop()
        # containerd's shims outlive it by design; their command lines name our socket
        if self.work_dir.exists():
            attempt("stopping shims", stop_processes_under, self.work_dir)
        attempt("deleting KUBE- chains", delete_kube_chains)
        attempt("deleting the CNI's chains", delete_cni_chains, self.network_name)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True, check=False)
        attempt("removing the kubelet's files outside its root dir", self._remove_host_files)
        attempt("restoring sysctls", _write_sysctls, self._sysctls)
        if self.work_dir.exists():
            attempt("unmounting", unmount_under, self.work_dir)
            attempt("removing the node's files", shutil.rmtree, self.work_dir)
        left = processes_under(self.work_dir) if self.work_dir.exists() else []
        if left:
            problems.append(f"processes still running from {self.work_dir}: {left}")
        if chains := kube_chains():
            problems.append(f"KUBE- iptables chains left: {chains}")
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None
        if problems:
            raise RuntimeError(f"real node {self.name} not cleanly stopped: " + "; ".join(problems))

    def _remove_host_files(self) -> None:
        """The kubelet links container logs from /var/log/containers and makes its device
        plugin directory under /var/lib/kubelet whatever its root dir is."""
        links = Path("/var/log/containers")
        if links.is_dir():
            for link in links.iterdir():
                if link.is_symlink() and os.readlink(link).startswith(str(self.work_dir) + "/"):
                    link.unlink()
        plugins = Path("/var/lib/kubelet/device-plugins")
        sock = plugins / "kubelet.sock"
        if sock.is_socket() and not _listening(sock):
            sock.unlink()
        for empty in (plugins, plugins.parent, links):
            with contextlib.suppress(OSError):  # not empty: not only ours
                empty.rmdir()

    def _drain(self, timeout: float) -> None:
        """Cordon the node and delete its pods, then wait until containerd ran their sandboxes
        down (StopPodSandbox is where the CNI releases a pod's address, veth and NAT rules)."""
        self.kubectl("cordon", self.name)
        self.kubectl(
            "delete", "pods", "--all-namespaces", f"--field-selector=spec.nodeName={self.name}",
            "--grace-period=0", "--force", "--wait=false",
        )  # fmt: skip
        netns = self._path("containerd", "state", "io.containerd.grpc.v1.cri", "netns")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tasks = [line for line in self.ctr("tasks", "ls", "-q").stdout.split() if line]
            if not tasks and not (netns.is_dir() and any(netns.iterdir())):
                return
            time.sleep(0.5)
        raise TimeoutError(f"pods on {self.name} still running after {timeout:.0f}s")

    def _proxy_cleanup(self) -> None:
        done = subprocess.run([binary("kube-proxy"), "--cleanup"], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:] or done.stdout[-2000:])

    def _kill_tasks(self) -> None:
        for task in self.ctr("tasks", "ls", "-q").stdout.split():
            self.ctr("tasks", "kill", "-a", "-s", "SIGKILL", task, timeout=30)
            self.ctr("tasks", "delete", "-f", task, timeout=30)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for containerd's config: scalars, lists of scalars and nested tables."""
    scalars = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = "\n".join(scalars) + ("\n" if scalars else "")
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}.{json.dumps(key)}" if prefix else json.dumps(key)
            out += f"\n[{name}]\n" + _toml(value, name)
    return out


def require_root() -> None:
    """A real node needs root (mounts, network namespaces, iptables)."""
    if os.geteuid() != 0:
        raise PartMissing("a real node (containerd, kubelet, kube-proxy) needs root: run the tests as root.")


@contextlib.contextmanager
def running_node(api: KubeApi, work_dir: Path, **options: Any) -> Iterator[RealNode]:
    """``with running_node(api, dir) as node:`` a Ready node, stopped afterwards whatever happens."""
    require_root()
    node = RealNode(api, work_dir, **options).start()
    try:
        yield node
    finally:
        node.stop()
