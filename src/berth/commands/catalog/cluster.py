"""Clusters, namespaces, addons, nodes and kubeconfigs: the verbs the hand-written groups lack."""

from __future__ import annotations

from ..spec import Flag, Resource, action, create, delete, get, list_, update, write

C = "/api/v1/clusters/{cluster}"

CLUSTER = Resource(
    name="cluster",
    help="clusters",
    extends=True,
    verbs=(
        get(
            "/api/v1/cluster-options",
            "what cluster create offers: versions, flavours, providers",
            example="berth cluster options -o yaml",
            name="options",
        ),
        get(
            f"{C}/detail",
            "a cluster's network, allocation rates and timeline",
            name="detail",
            item="cluster",
            example="berth cluster detail demo -o yaml",
        ),
        list_(
            f"{C}/events",
            "a cluster's events timeline",
            name="events",
            item="cluster",
            columns=("time", "type", "message"),
            example="berth cluster events demo",
        ),
        action("retry", f"{C}:retry", "retry a failed creation", example="berth cluster retry demo"),
        action(
            "renew-certificates",
            f"{C}:renew-certificates",
            "renew the cluster's certificates",
            example="berth cluster renew-certificates demo",
        ),
        action(
            "rotate-ca-start",
            f"{C}:rotate-ca-start",
            "start rotating the cluster CA",
            example="berth cluster rotate-ca-start demo",
        ),
        action(
            "rotate-ca-complete",
            f"{C}:rotate-ca-complete",
            "complete the CA rotation",
            example="berth cluster rotate-ca-complete demo",
        ),
        write(
            "validate",
            "POST",
            "/api/v1/clusters:validate",
            "check a creation form without creating anything (field errors, the pod estimate)",
            body=True,
            wrap="spec",
            example="berth cluster validate -f cluster.yaml",
        ),
    ),
)

NAMESPACE = Resource(
    name="namespace",
    help="namespaces of a cluster",
    extends=True,
    verbs=(
        update(
            f"{C}/namespaces/{{namespace}}/quota",
            "a namespace",
            item="namespace",
            flags=(
                Flag(field="quota", type="map", help="ResourceQuota hard limits, e.g. requests.cpu=4"),
                Flag(field="limits", type="map", help="LimitRange defaults, e.g. cpu=500m"),
                Flag(field="isolated", type="bool", help="network isolation on/off"),
                Flag(field="node_selector", type="map", help="pin the namespace's pods: key=value"),
            ),
            example="berth namespace update web -c demo --quota requests.cpu=4 --no-isolated",
        ),
        write(
            "validate",
            "POST",
            f"{C}/namespaces:validate",
            "check a namespace form without creating anything",
            body=True,
            wrap="namespace",
            example="berth namespace validate -c demo --set name=web",
        ),
    ),
)

ADDON = Resource(
    name="addon",
    help="addons of a cluster (install, upgrade, uninstall)",
    columns=("name", "version", "status", "message"),
    verbs=(
        list_(f"{C}/addons", "a cluster's addons", example="berth addon list -c demo"),
        get(f"{C}/addons/{{addon}}", "an addon", example="berth addon get ingress-nginx -c demo -o yaml"),
        create(
            f"{C}/addons",
            "an addon install",
            name_field="addon",
            flags=(Flag(field="values", type="yaml", help="chart values as YAML/JSON"),),
            example="berth addon create metrics-server -c demo --set values.replicas=2",
        ),
        update(
            f"{C}/addons/{{addon}}",
            "an addon (upgrade or new values)",
            flags=(Flag(field="values", type="yaml", help="chart values as YAML/JSON"),),
            example="berth addon update metrics-server -c demo -f values.yaml",
        ),
        delete(f"{C}/addons/{{addon}}", "an addon (uninstall)", example="berth addon delete metrics-server -c demo"),
    ),
)

NODE = Resource(
    name="node",
    help="nodes of a cluster",
    extends=True,
    verbs=(
        write(
            "add",
            "POST",
            f"{C}/nodes",
            "add nodes to a pool",
            flags=(Flag(field="pool", help="the node pool"), Flag(field="count", type="int", help="how many")),
            example="berth node add -c demo --pool workers --count 2",
        ),
        delete(
            f"{C}/nodes/{{node}}",
            "a node: drain it, then remove it",
            flags=(Flag(field="force", type="bool"), Flag(field="timeout_seconds", type="int")),
            example="berth node delete worker-3 -c demo --force",
        ),
        write(
            "label",
            "POST",
            f"{C}/nodes:labels",
            "set and remove labels on several nodes",
            flags=(
                Flag(field="nodes", type="list", help="node names (repeatable or comma separated)"),
                Flag(field="set", type="map", help="label to set: key=value"),
                Flag(field="remove", type="list", help="label key to remove"),
            ),
            example="berth node label -c demo --nodes n1,n2 --set team=web --remove old",
        ),
        write(
            "taint",
            "POST",
            f"{C}/nodes:taints",
            "add and remove taints on several nodes",
            flags=(
                Flag(field="nodes", type="list", help="node names"),
                Flag(field="add", type="yaml", help="taints to add, e.g. [{key: gpu, effect: NoSchedule}]"),
                Flag(field="remove", type="yaml", help="taints to remove (same form)"),
            ),
            body=True,
            example="berth node taint -c demo --nodes n1 --add '[{key: gpu, effect: NoSchedule}]'",
        ),
    ),
)

KUBECONFIG = Resource(
    name="kubeconfig",
    help="short-lived kubeconfigs people hold for a cluster (the admin one: berth cluster kubeconfig)",
    columns=("user", "role", "service_account", "namespaces", "expires_at"),
    verbs=(
        write(
            "issue",
            "POST",
            f"{C}/kubeconfigs",
            "issue yourself a kubeconfig with your role's rights",
            flags=(
                Flag(field="role", help="viewer, developer, ..."),
                Flag(field="ttl_seconds", type="int"),
                Flag(field="namespaces", type="list"),
            ),
            example="berth kubeconfig issue -c demo --role developer --namespaces web -o json",
        ),
        list_(
            f"{C}/kubeconfigs",
            "who holds a kubeconfig of the cluster",
            flags=(Flag(field="user", help="only this person's"),),
            example="berth kubeconfig list -c demo",
        ),
        write(
            "revoke",
            "POST",
            f"{C}/kubeconfigs:revoke",
            "revoke every kubeconfig a person holds",
            flags=(Flag(field="user"),),
            example="berth kubeconfig revoke -c demo --user alice",
        ),
    ),
)

WORKLOAD = Resource(
    name="workload",
    help="Deployments and StatefulSets in a namespace",
    verbs=(
        action(
            "scale",
            f"{C}/namespaces/{{namespace}}/workloads/{{workload}}:scale",
            "scale a workload",
            flags=(
                Flag(field="replicas", type="int"),
                Flag(field="kind", choices=("Deployment", "StatefulSet")),
                Flag(field="reason"),
            ),
            example="berth workload scale web -c demo -n shop --replicas 5",
        ),
    ),
)

RESOURCES = (CLUSTER, NAMESPACE, ADDON, NODE, KUBECONFIG, WORKLOAD)
