"""Ingress-weight mode against a real Kubernetes API server: a switch server-side applies
ingress-nginx canary annotations on the standby site's Ingress."""

from __future__ import annotations

from typing import Any

from berth_dr_switcher.adapters.ingress import CANARY, CANARY_WEIGHT, FIELD_MANAGER
from berth_dr_switcher.config import deps
from berth_schema.dr import CreateGroup, Failback, Switchover
from berth_testkit.kube import KubeCluster
from dr_harness.harness import Service, eventually, group_spec
from dr_harness.sites import Site
from kubernetes_asyncio import client

NS = "shop-web"


def _ingress(name: str, service: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": NS, "annotations": {"owner": "team-shop"}},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": service, "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


async def test_switch_sets_canary_weight_on_the_standby_ingress(
    service: Service, tenant: str, sites: tuple[Site, Site], kube_cluster: KubeCluster
) -> None:
    primary, standby = sites
    async with kube_cluster.client() as api:
        core, net = client.CoreV1Api(api), client.NetworkingV1Api(api)
        try:
            await core.create_namespace({"metadata": {"name": NS}})
        except client.ApiException as exc:
            assert exc.status == 409
        for name, svc in (("shop-idc-a", "shop-a"), ("shop-idc-b", "shop-b")):
            try:
                await net.create_namespaced_ingress(NS, _ingress(name, svc))
            except client.ApiException as exc:
                assert exc.status == 409

        async def annotations() -> dict[str, str]:
            ing = await net.read_namespaced_ingress("shop-idc-b", NS)
            return dict(ing.metadata.annotations or {})

        deps.kubeconfigs["kwok-1"] = kube_cluster.kubeconfig_path
        spec = group_spec("web", primary, standby, ingress={"cluster": "kwok-1", "namespace": NS})
        spec["primary"]["ingress"] = "shop-idc-a"
        spec["standby"]["ingress"] = "shop-idc-b"
        await service.send(CreateGroup(tenant=tenant, spec=spec), tenant=tenant)

        async def healthy() -> bool:
            try:
                g = await service.query("get-group", {"tenant": tenant, "group": "web"})
            except Exception:
                return False
            return bool(g["standby"]["healthy"] and g["primary"]["healthy"])

        await eventually(healthy, what="both sites probed healthy")
        cmd = await service.send(Switchover(tenant=tenant, group="web", reason="move to idc-b"), tenant=tenant)
        done = await eventually(
            lambda: [f for f in service.of(tenant, "switched") if f.causationid == cmd.id], what="switchover"
        )
        assert "canary-weight 100" in done[0].data["detail"]
        ann = await annotations()
        assert ann[CANARY] == "true" and ann[CANARY_WEIGHT] == "100" and ann["owner"] == "team-shop"
        ing = await net.read_namespaced_ingress("shop-idc-b", NS)
        managers = {m.manager for m in ing.metadata.managed_fields}
        assert FIELD_MANAGER in managers
        assert ing.spec.rules[0].host == "shop.example.com"  # apply touched only the annotations
        primary_ann = (await net.read_namespaced_ingress("shop-idc-a", NS)).metadata.annotations or {}
        assert CANARY not in primary_ann

        cmd = await service.send(Failback(tenant=tenant, group="web", reason="back to idc-a"), tenant=tenant)
        await eventually(
            lambda: [f for f in service.of(tenant, "switched") if f.causationid == cmd.id], what="failback"
        )
        assert (await annotations())[CANARY_WEIGHT] == "0"

        # a standby Ingress that does not exist: the switch fails with the reason, traffic stays
        spec2 = group_spec("web2", primary, standby, ingress={"cluster": "kwok-1", "namespace": NS})
        spec2["primary"]["ingress"] = "shop-idc-a"
        spec2["standby"]["ingress"] = "no-such-ingress"
        await service.send(CreateGroup(tenant=tenant, spec=spec2), tenant=tenant)
        await eventually(lambda: healthy_of(service, tenant, "web2"), what="web2 probed healthy")
        cmd = await service.send(Switchover(tenant=tenant, group="web2", reason="try"), tenant=tenant)
        failed = await eventually(
            lambda: [f for f in service.of(tenant, "switch-failed") if f.causationid == cmd.id], what="switch-failed"
        )
        assert not failed[0].data["refused"]
        assert "no-such-ingress" in failed[0].data["reason"] and "404" in failed[0].data["reason"]
        g = await service.query("get-group", {"tenant": tenant, "group": "web2"})
        assert g["active"] == "primary" and g["switch_log"][-1]["result"] == "failed"


async def healthy_of(service: Service, tenant: str, name: str) -> bool:
    try:
        g = await service.query("get-group", {"tenant": tenant, "group": name})
    except Exception:
        return False
    return bool(g["standby"]["healthy"] and g["primary"]["healthy"])
