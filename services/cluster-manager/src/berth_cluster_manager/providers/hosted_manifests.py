"""The hosted (k8s-on-k8s) control plane of one tenant cluster, rendered as plain dicts:
a namespace in the host cluster holding etcd (StatefulSet), kube-apiserver,
kube-controller-manager and kube-scheduler (Deployments), Services, PDBs, Secrets with the
certificates and kubeconfigs, and an etcd backup CronJob."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..domain.spec import Resources
from ..domain.versions import etcd_version
from ..pki import CLUSTER_DOMAIN, ClusterPki
from .base import ClusterRef

API_PORT = 6443
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
PKI_DIR = "/etc/kubernetes/pki"
KUBECONFIG_DIR = "/etc/kubernetes/kubeconfig"
NON_ROOT_UID = 65532
BACKUP_SCHEDULE = "0 */6 * * *"

COMPONENT_FILES: dict[str, tuple[str, ...]] = {
    "etcd": ("etcd-ca.crt", "etcd-server.crt", "etcd-server.key", "etcd-peer.crt", "etcd-peer.key"),
    "etcd-backup": ("etcd-ca.crt", "etcd-healthcheck-client.crt", "etcd-healthcheck-client.key"),
    "kube-apiserver": (
        "ca.crt",
        "apiserver.crt",
        "apiserver.key",
        "apiserver-kubelet-client.crt",
        "apiserver-kubelet-client.key",
        "apiserver-etcd-client.crt",
        "apiserver-etcd-client.key",
        "etcd-ca.crt",
        "front-proxy-ca.crt",
        "front-proxy-client.crt",
        "front-proxy-client.key",
        "sa.pub",
        "sa.key",
    ),
    "kube-controller-manager": ("ca.crt", "ca-signing.crt", "ca.key", "sa.key", "front-proxy-ca.crt"),
    "kube-scheduler": (),
}


@dataclass(frozen=True, slots=True)
class HostedOptions:
    image_registry: str = "registry.k8s.io"
    etcd_storage_class: str | None = None  # None: emptyDir (test/dev hosts without a provisioner)
    backup_storage_class: str | None = None
    api_service_type: str = "ClusterIP"
    # How machines outside the host cluster reach a tenant API server (they join with it), e.g.
    # "https://{cluster}-{tenant}.api.example.com:6443"; its host goes into the serving certificate.
    # Routing it (LoadBalancer, NodePort, TLS-passthrough ingress) is the operator's. Empty: the
    # in-cluster Service address, reachable only from inside the host cluster.
    public_url_template: str = ""

    def public_url(self, ref: ClusterRef) -> str:
        if not self.public_url_template:
            return ""
        url = self.public_url_template.format(cluster=ref.name, tenant=ref.tenant, namespace=namespace_for(ref))
        parsed = urlsplit(url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ValueError(f"public URL template must give an https:// URL with a host, got {url!r}")
        return url


def namespace_for(ref: ClusterRef) -> str:
    return f"berth-{ref.tenant}-{ref.name}"[:63].rstrip("-")


def api_host(ref: ClusterRef) -> str:
    return f"{ref.name}-apiserver.{namespace_for(ref)}.svc"


def api_hosts(ref: ClusterRef, options: HostedOptions | None = None) -> list[str]:
    ns = namespace_for(ref)
    hosts = [f"{ref.name}-apiserver", f"{ref.name}-apiserver.{ns}", api_host(ref), f"{api_host(ref)}.{CLUSTER_DOMAIN}"]
    public = options.public_url(ref) if options is not None else ""
    if public:
        hosts.append(str(urlsplit(public).hostname))
    return hosts


def etcd_hosts(ref: ClusterRef) -> list[str]:
    ns, svc = namespace_for(ref), f"{ref.name}-etcd"
    return [
        f"{svc}.{ns}.svc",
        f"*.{svc}.{ns}.svc",
        f"*.{svc}.{ns}.svc.{CLUSTER_DOMAIN}",
        *(f"{svc}-{i}.{svc}.{ns}.svc" for i in range(ref.spec.control_plane_replicas)),
    ]


def _meta(ref: ClusterRef, name: str, component: str | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": namespace_for(ref), "labels": ref.labels(component)}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _resources(r: Resources) -> dict[str, Any]:
    return {"requests": {"cpu": r.cpu, "memory": r.memory}, "limits": {"memory": r.memory}}


def _security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": NON_ROOT_UID,
    }


def _pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": NON_ROOT_UID,
        "runAsGroup": NON_ROOT_UID,
        "fsGroup": NON_ROOT_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _affinity(ref: ClusterRef, component: str) -> dict[str, Any] | None:
    """HA spreads replicas: across zones (required when multi-AZ, preferred otherwise) and hosts."""
    if not ref.spec.ha:
        return None
    selector = {"matchLabels": {"berth.io/cluster": ref.name, "app.kubernetes.io/component": component}}
    zone = {"labelSelector": selector, "topologyKey": "topology.kubernetes.io/zone"}
    host = {"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"}
    if ref.spec.multi_az:
        return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [zone]}}
    return {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [host],
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": zone}],
        }
    }


def _pki_volume(ref: ClusterRef, component: str) -> dict[str, Any]:
    return {
        "name": "pki",
        "secret": {
            "secretName": f"{ref.name}-pki",
            "defaultMode": 0o400,
            "items": [{"key": f, "path": f} for f in COMPONENT_FILES[component]],
        },
    }


def _pod_spec(
    ref: ClusterRef, component: str, container: dict[str, Any], volumes: list[dict[str, Any]]
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": _pod_security(),
        "containers": [{**container, "securityContext": _security()}],
        "volumes": volumes,
    }
    affinity = _affinity(ref, component)
    if affinity:
        spec["affinity"] = affinity
    return spec


def _pdb(ref: ClusterRef, component: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(ref, f"{ref.name}-{component}", component),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"berth.io/cluster": ref.name, "app.kubernetes.io/component": component}},
        },
    }


def _selector(ref: ClusterRef, component: str) -> dict[str, Any]:
    return {"matchLabels": {"berth.io/cluster": ref.name, "app.kubernetes.io/component": component}}


# --- the base: namespace, secrets, config ----------------------------------------------


def base_objects(ref: ClusterRef, pki: ClusterPki) -> list[dict[str, Any]]:
    ns = namespace_for(ref)
    server = f"https://{api_host(ref)}:{API_PORT}"
    secrets = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(ref, f"{ref.name}-pki", "pki"),
            "type": "Opaque",
            "data": {**{k: _b64(v) for k, v in pki.files().items()}, "pki.json": _b64(json.dumps(pki.to_doc()))},
        },
    ]
    for user in ("admin", "controller-manager", "scheduler"):
        kubeconfig = yaml.safe_dump(pki.kubeconfig(server=server, user=user))
        secrets.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": _meta(ref, f"{ref.name}-{user}-kubeconfig", "kubeconfig"),
                "data": {"kubeconfig": _b64(kubeconfig)},
            }
        )
    spec = ref.spec
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(ref, f"{ref.name}-cluster-config", "config"),
        "data": {
            "cluster": ref.name,
            "version": spec.version,
            "networkModel": spec.network_model,
            "podCIDR": spec.pod_cidr or "",
            "serviceCIDR": spec.service_cidr,
            "clusterDNS": spec.dns_ip(),
            "kubeProxyMode": spec.kube_proxy_mode,
            "maxPodsPerNode": str(spec.max_pods_per_node),
            "apiServer": server,
        },
    }
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": ns,
            "labels": {**ref.labels("control-plane"), "pod-security.kubernetes.io/enforce": "restricted"},
        },
    }
    return [namespace, *secrets, config]


# --- etcd -----------------------------------------------------------------------------


def etcd_objects(ref: ClusterRef, *, version: str, options: HostedOptions) -> list[dict[str, Any]]:
    ns, name, n = namespace_for(ref), f"{ref.name}-etcd", ref.spec.control_plane_replicas
    peers = ",".join(f"{name}-{i}=https://{name}-{i}.{name}.{ns}.svc:{ETCD_PEER_PORT}" for i in range(n))
    flavour = ref.spec.flavour_info
    quota = {50: 2, 200: 4, 1000: 8}[flavour.nodes] * 1024**3
    command = [
        "etcd",
        "--name=$(POD_NAME)",
        "--data-dir=/var/lib/etcd/data",
        f"--listen-client-urls=https://0.0.0.0:{ETCD_CLIENT_PORT}",
        f"--advertise-client-urls=https://$(POD_NAME).{name}.{ns}.svc:{ETCD_CLIENT_PORT}",
        f"--listen-peer-urls=https://0.0.0.0:{ETCD_PEER_PORT}",
        f"--initial-advertise-peer-urls=https://$(POD_NAME).{name}.{ns}.svc:{ETCD_PEER_PORT}",
        f"--initial-cluster={peers}",
        "--initial-cluster-state=new",
        f"--initial-cluster-token={name}",
        "--listen-metrics-urls=http://0.0.0.0:2381",
        f"--quota-backend-bytes={quota}",
        "--client-cert-auth=true",
        f"--trusted-ca-file={PKI_DIR}/etcd-ca.crt",
        f"--cert-file={PKI_DIR}/etcd-server.crt",
        f"--key-file={PKI_DIR}/etcd-server.key",
        "--peer-client-cert-auth=true",
        f"--peer-trusted-ca-file={PKI_DIR}/etcd-ca.crt",
        f"--peer-cert-file={PKI_DIR}/etcd-peer.crt",
        f"--peer-key-file={PKI_DIR}/etcd-peer.key",
    ]
    container = {
        "name": "etcd",
        "image": f"{options.image_registry}/etcd:{etcd_version(version)}-0",
        "command": command,
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "ports": [
            {"name": "client", "containerPort": ETCD_CLIENT_PORT},
            {"name": "peer", "containerPort": ETCD_PEER_PORT},
            {"name": "metrics", "containerPort": 2381},
        ],
        "resources": _resources(flavour.etcd),
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/etcd"}, {"name": "pki", "mountPath": PKI_DIR}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 2381}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/livez", "port": 2381}, "periodSeconds": 10, "failureThreshold": 8},
    }
    volumes = [_pki_volume(ref, "etcd")]
    sts_spec: dict[str, Any] = {
        "serviceName": name,
        "replicas": n,
        "podManagementPolicy": "Parallel",
        "selector": _selector(ref, "etcd"),
        "template": {"metadata": {"labels": ref.labels("etcd")}, "spec": _pod_spec(ref, "etcd", container, volumes)},
    }
    if options.etcd_storage_class:
        sts_spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data", "labels": ref.labels("etcd")},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": options.etcd_storage_class,
                    "resources": {"requests": {"storage": flavour.etcd_storage}},
                },
            }
        ]
    else:
        volumes.append({"name": "data", "emptyDir": {}})
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(ref, name, "etcd"),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": ref.labels("etcd"),
            "ports": [{"name": "client", "port": ETCD_CLIENT_PORT}, {"name": "peer", "port": ETCD_PEER_PORT}],
        },
    }
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(ref, name, "etcd"), "spec": sts_spec}
    return [service, sts, _pdb(ref, "etcd")]


def etcd_endpoints(ref: ClusterRef) -> str:
    ns, name = namespace_for(ref), f"{ref.name}-etcd"
    return ",".join(
        f"https://{name}-{i}.{name}.{ns}.svc:{ETCD_CLIENT_PORT}" for i in range(ref.spec.control_plane_replicas)
    )


def backup_objects(ref: ClusterRef, *, version: str, options: HostedOptions) -> list[dict[str, Any]]:
    """A CronJob that snapshots etcd into a PVC every six hours."""
    name = f"{ref.name}-etcd-backup"
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(ref, name, "etcd-backup"),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": ref.spec.flavour_info.etcd_storage}},
            **({"storageClassName": options.backup_storage_class} if options.backup_storage_class else {}),
        },
    }
    script = (
        f"etcdctl --endpoints={etcd_endpoints(ref).split(',')[0]} --cacert={PKI_DIR}/etcd-ca.crt "
        f"--cert={PKI_DIR}/etcd-healthcheck-client.crt --key={PKI_DIR}/etcd-healthcheck-client.key "
        "snapshot save /backup/snapshot-$(date +%Y%m%dT%H%M%S).db && "
        "ls -1t /backup/snapshot-*.db | tail -n +8 | xargs -r rm --"
    )
    container = {
        "name": "backup",
        "image": f"{options.image_registry}/etcd:{etcd_version(version)}-0",
        "command": ["/bin/sh", "-c", script],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "volumeMounts": [{"name": "pki", "mountPath": PKI_DIR}, {"name": "backup", "mountPath": "/backup"}],
    }
    pod = _pod_spec(
        ref,
        "etcd-backup",
        container,
        [_pki_volume(ref, "etcd-backup"), {"name": "backup", "persistentVolumeClaim": {"claimName": name}}],
    )
    pod.pop("affinity", None)
    pod["restartPolicy"] = "OnFailure"
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(ref, name, "etcd-backup"),
        "spec": {
            "schedule": BACKUP_SCHEDULE,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": ref.labels("etcd-backup")},
                "spec": {
                    "backoffLimit": 2,
                    "template": {"metadata": {"labels": ref.labels("etcd-backup")}, "spec": pod},
                },
            },
        },
    }
    return [pvc, cron]


# --- kube-apiserver -------------------------------------------------------------------


def apiserver_objects(ref: ClusterRef, *, version: str, options: HostedOptions) -> list[dict[str, Any]]:
    spec, flavour = ref.spec, ref.spec.flavour_info
    p = PKI_DIR
    command = [
        "kube-apiserver",
        f"--secure-port={API_PORT}",
        "--bind-address=0.0.0.0",
        f"--etcd-servers={etcd_endpoints(ref)}",
        f"--etcd-cafile={p}/etcd-ca.crt",
        f"--etcd-certfile={p}/apiserver-etcd-client.crt",
        f"--etcd-keyfile={p}/apiserver-etcd-client.key",
        f"--tls-cert-file={p}/apiserver.crt",
        f"--tls-private-key-file={p}/apiserver.key",
        f"--kubelet-client-certificate={p}/apiserver-kubelet-client.crt",
        f"--kubelet-client-key={p}/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
        f"--service-account-key-file={p}/sa.pub",
        f"--service-account-signing-key-file={p}/sa.key",
        f"--service-cluster-ip-range={spec.service_cidr}",
        f"--authorization-mode={'Node,RBAC' if spec.rbac else 'AlwaysAllow'}",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        f"--max-requests-inflight={flavour.max_requests_inflight}",
        f"--max-mutating-requests-inflight={flavour.max_requests_inflight // 2}",
        f"--requestheader-client-ca-file={p}/front-proxy-ca.crt",
        f"--proxy-client-cert-file={p}/front-proxy-client.crt",
        f"--proxy-client-key-file={p}/front-proxy-client.key",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        "--enable-bootstrap-token-auth=true",
        "--endpoint-reconciler-type=none",
    ]
    if spec.x509_auth:
        command.append(f"--client-ca-file={p}/ca.crt")
    probe: dict[str, Any] = {"httpGet": {"path": "/readyz", "port": API_PORT, "scheme": "HTTPS"}, "periodSeconds": 5}
    container = {
        "name": "kube-apiserver",
        "image": f"{options.image_registry}/kube-apiserver:{version}",
        "command": command,
        "ports": [{"name": "https", "containerPort": API_PORT}],
        "resources": _resources(flavour.apiserver),
        "volumeMounts": [{"name": "pki", "mountPath": PKI_DIR}],
        "readinessProbe": probe,
        "livenessProbe": {
            "httpGet": {"path": "/livez", "port": API_PORT, "scheme": "HTTPS"},
            "periodSeconds": 10,
            "failureThreshold": 8,
        },
    }
    return [
        _deployment(ref, "kube-apiserver", container, replicas=spec.control_plane_replicas),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(ref, f"{ref.name}-apiserver", "kube-apiserver"),
            "spec": {
                "type": options.api_service_type,
                "selector": ref.labels("kube-apiserver"),
                "ports": [{"name": "https", "port": API_PORT, "targetPort": API_PORT}],
            },
        },
        _pdb(ref, "kube-apiserver"),
    ]


def _deployment(
    ref: ClusterRef,
    component: str,
    container: dict[str, Any],
    *,
    replicas: int,
    extra_volumes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    volumes = (
        [_pki_volume(ref, component), *(extra_volumes or [])]
        if COMPONENT_FILES[component]
        else list(extra_volumes or [])
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(ref, f"{ref.name}-{component}", component),
        "spec": {
            "replicas": replicas,
            "selector": _selector(ref, component),
            "strategy": {
                "type": "RollingUpdate",
                # Spread HA replicas fill their zones/hosts, so a surge pod would not schedule:
                # replace one at a time instead (the PDB allows one down).
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}
                if ref.spec.ha
                else {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": ref.labels(component)},
                "spec": _pod_spec(ref, component, container, volumes),
            },
        },
    }


# --- controller-manager and scheduler ---------------------------------------------------


def node_cidr_mask(max_pods_per_node: int) -> int:
    """The per-node pod CIDR prefix holding max_pods_per_node (with room to recycle IPs)."""
    return 32 - max(math.ceil(math.log2(max_pods_per_node * 2)), 4)


def controller_objects(ref: ClusterRef, *, version: str, options: HostedOptions) -> list[dict[str, Any]]:
    spec, flavour = ref.spec, ref.spec.flavour_info
    replicas = 2 if spec.ha else 1
    kc = f"{KUBECONFIG_DIR}/kubeconfig"
    common = [
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        f"--leader-elect={'true' if replicas > 1 else 'false'}",
        "--bind-address=0.0.0.0",
    ]
    p = PKI_DIR
    kcm_cmd = [
        "kube-controller-manager",
        *common,
        "--controllers=*,bootstrapsigner,tokencleaner",
        f"--cluster-signing-cert-file={p}/ca-signing.crt",
        f"--cluster-signing-key-file={p}/ca.key",
        f"--root-ca-file={p}/ca.crt",
        f"--service-account-private-key-file={p}/sa.key",
        f"--requestheader-client-ca-file={p}/front-proxy-ca.crt",
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={spec.service_cidr}",
        f"--cluster-cidr={spec.pod_cidr}",
        "--allocate-node-cidrs=true",
        f"--node-cidr-mask-size={node_cidr_mask(spec.max_pods_per_node)}",
        f"--cluster-name={ref.name}",
    ]
    out = []
    for component, cmd, res, port in (
        ("kube-controller-manager", kcm_cmd, flavour.controller_manager, 10257),
        ("kube-scheduler", ["kube-scheduler", *common], flavour.scheduler, 10259),
    ):
        kube_secret = "controller-manager" if component == "kube-controller-manager" else "scheduler"
        container = {
            "name": component,
            "image": f"{options.image_registry}/{component}:{version}",
            "command": cmd,
            "ports": [{"name": "https", "containerPort": port}],
            "resources": _resources(res),
            "volumeMounts": [
                {"name": "kubeconfig", "mountPath": KUBECONFIG_DIR},
                *([{"name": "pki", "mountPath": PKI_DIR}] if COMPONENT_FILES[component] else []),
            ],
            "livenessProbe": {
                "httpGet": {"path": "/healthz", "port": port, "scheme": "HTTPS"},
                "periodSeconds": 10,
                "failureThreshold": 8,
            },
        }
        kube_vol = {
            "name": "kubeconfig",
            "secret": {"secretName": f"{ref.name}-{kube_secret}-kubeconfig", "defaultMode": 0o400},
        }
        out.append(_deployment(ref, component, container, replicas=replicas, extra_volumes=[kube_vol]))
        out.append(_pdb(ref, component))
    return out


def control_plane_objects(
    ref: ClusterRef, pki: ClusterPki, *, version: str, options: HostedOptions
) -> list[dict[str, Any]]:
    """Everything, in apply order (for tests and dry runs)."""
    return [
        *base_objects(ref, pki),
        *etcd_objects(ref, version=version, options=options),
        *apiserver_objects(ref, version=version, options=options),
        *controller_objects(ref, version=version, options=options),
        *backup_objects(ref, version=version, options=options),
    ]
