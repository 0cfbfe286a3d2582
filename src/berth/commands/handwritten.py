"""The gateway routes and --help examples of the hand-written commands (the table-driven ones
carry theirs in catalog/)."""

from __future__ import annotations

import argparse

from .help import epilog
from .tree import leaves

C = "/api/v1/clusters/{cluster}"
NP = f"{C}/nodepools"

# command words -> (routes it sends, examples)
HANDWRITTEN: dict[tuple[str, ...], tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    ("login",): (
        (("GET", "/api/v1/whoami"), ("GET", "/api/v1/tenants")),
        (
            "berth login --server https://127.0.0.1:8080 --ca-file .berth/gateway-ca.pem --token-stdin < token.txt",
            "berth login --server https://berth.example.com --tenant acme",
        ),
    ),
    ("logout",): ((), ("berth logout",)),
    ("whoami",): ((("GET", "/api/v1/whoami"),), ("berth whoami -o yaml",)),
    ("up",): ((), ("berth up", "berth up --port 9090 --data-dir /var/lib/berth")),
    ("version",): ((), ("berth version",)),
    ("completion",): ((), ('eval "$(berth completion bash)"', "berth completion zsh > ~/.zfunc/_berth")),
    ("cluster", "create"): (
        (("POST", "/api/v1/clusters"), ("GET", "/api/v1/cluster-options")),
        ("berth cluster create demo", "berth cluster create prod --version v1.31.0 --ha --pod-cidr 10.244.0.0/16"),
    ),
    ("cluster", "list"): ((("GET", "/api/v1/clusters"),), ("berth cluster list", "berth cluster list -o json")),
    ("cluster", "get"): ((("GET", C),), ("berth cluster get demo -o yaml",)),
    ("cluster", "delete"): ((("DELETE", C),), ("berth cluster delete demo", "berth cluster delete demo --no-wait")),
    ("cluster", "upgrade"): ((("POST", f"{C}:upgrade"),), ("berth cluster upgrade demo --version v1.32.0",)),
    ("cluster", "kubeconfig"): (
        (("POST", f"{C}/kubeconfigs"), ("GET", f"{C}/kubeconfig")),
        (
            "berth cluster kubeconfig demo -f ~/.kube/demo.yaml",
            "berth cluster kubeconfig demo --admin  # platform-admins",
        ),
    ),
    ("node", "list"): ((("GET", f"{C}/nodes"),), ("berth node list -c demo",)),
    ("node", "get"): ((("GET", f"{C}/nodes/{{node}}"),), ("berth node get worker-1 -c demo -o yaml",)),
    ("node", "cordon"): ((("POST", f"{C}/nodes/{{node}}:cordon"),), ("berth node cordon worker-1 -c demo",)),
    ("node", "uncordon"): ((("POST", f"{C}/nodes/{{node}}:uncordon"),), ("berth node uncordon worker-1 -c demo",)),
    ("node", "drain"): ((("POST", f"{C}/nodes/{{node}}:drain"),), ("berth node drain worker-1 -c demo --grace 60",)),
    ("node", "join-token"): (
        (("POST", f"{NP}/{{pool}}:join-token"),),
        ("berth node join-token -c demo --pool workers --ttl 3600",),
    ),
    ("node", "join-tokens"): ((("GET", f"{C}/join-tokens"),), ("berth node join-tokens -c demo",)),
    ("node", "revoke-join-token"): (
        (("DELETE", f"{C}/join-tokens/{{token_id}}"),),
        ("berth node revoke-join-token abcdef -c demo",),
    ),
    ("node", "join"): (
        (),
        ("berth node join --server https://10.0.0.1:6443 --token abcdef.0123456789abcdef --ca-cert-hash sha256:...",),
    ),
    ("node", "agent"): ((), ("berth node agent --dir /var/lib/berth-node",)),
    ("namespace", "list"): ((("GET", f"{C}/namespaces"),), ("berth namespace list -c demo",)),
    ("namespace", "get"): ((("GET", f"{C}/namespaces/{{namespace}}"),), ("berth namespace get web -c demo -o yaml",)),
    ("namespace", "create"): (
        (("POST", f"{C}/namespaces"),),
        ("berth namespace create web -c demo --isolated",),
    ),
    ("namespace", "delete"): ((("DELETE", f"{C}/namespaces/{{namespace}}"),), ("berth namespace delete web -c demo",)),
    ("namespace", "quota"): (
        (("PUT", f"{C}/namespaces/{{namespace}}/quota"),),
        ("berth namespace quota web -c demo --set requests.cpu=4 --set limits.memory=8Gi",),
    ),
    ("pool", "create"): (
        (("POST", NP),),
        ("berth pool create workers -c demo --flavour 2c4g --count 3", "berth pool create -c demo -f pool.yaml"),
    ),
    ("pool", "list"): ((("GET", NP),), ("berth pool list -c demo",)),
    ("pool", "get"): ((("GET", f"{NP}/{{pool}}"),), ("berth pool get workers -c demo -o yaml",)),
    ("pool", "scale"): ((("POST", f"{NP}/{{pool}}:scale"),), ("berth pool scale workers -c demo --size 5",)),
}


def decorate(parser: argparse.ArgumentParser) -> None:
    """Give the hand-written commands their routes (for the contract test) and examples."""
    for words, leaf in leaves(parser):
        known = HANDWRITTEN.get(words)
        if known is None:
            continue
        routes, examples = known
        leaf.set_defaults(routes=routes)
        leaf.epilog = epilog(examples)
        leaf.formatter_class = argparse.RawDescriptionHelpFormatter
