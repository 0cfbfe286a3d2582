"""The runner's state lives in the store: a replica that takes over after the leader dies
(its lease expired) continues the release where it stopped. Also: chart templates."""

from __future__ import annotations

import asyncio
from pathlib import Path

from berth_common.store import SqliteStore
from berth_release_orchestrator import state
from berth_release_orchestrator.adapters import helm
from berth_release_orchestrator.config import Deps, ReleaseSettings
from berth_release_orchestrator.domain.release import new_revision
from berth_release_orchestrator.domain.strategy import parse_strategy
from berth_release_orchestrator.runner import LEASE_KEY, Runner

from .conftest import Rig

STEPS = {"kind": "canary", "steps": [{"set_weight": 25}, {"pause": {}}]}


async def test_a_new_leader_continues_a_release_after_a_crash(rig: Rig, tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    clusters = rig.runner.deps.cluster_access()
    settings = ReleaseSettings(tick_seconds=0.2, lease_seconds=2.0)
    rig.store = SqliteStore(db)
    rig.runner = Runner(rig.store, Deps(settings=settings, clusters=clusters, holder="a"), wake_relay=lambda: None)
    assert await rig.runner.hold_lease()
    await rig.create(image="registry.local/web:1.0", strategy=STEPS)
    await rig.until(lambda r: r.phase == "promoted")
    await rig.create(image="registry.local/web:2.0", strategy=STEPS)
    await rig.until(lambda r: r.phase == "paused")
    assert await rig.runner.hold_lease()  # renewed, as its loop does every tick
    await rig.store.close()  # replica "a" dies without giving up its lease

    store = SqliteStore(db)  # replica "b", a fresh process on the same database
    b = Runner(store, Deps(settings=settings, clusters=clusters, holder="b"), wake_relay=lambda: None)
    assert not await b.hold_lease()  # a's lease has not expired yet
    rec = await store.collection(state.LEASES).get(LEASE_KEY)
    assert rec is not None and rec.data["holder"] == "a"
    await asyncio.sleep(2.1)
    assert await b.hold_lease()
    rig.store, rig.runner = store, b
    rel = await rig.get()
    assert rel.phase == "paused" and rel.weight == 25 and rel.revision == 2
    await rig.promote()
    await rig.until(lambda r: r.phase == "promoted")
    assert await rig.image_of("web") == "registry.local/web:2.0"
    await b.release_lease()
    assert await store.collection(state.LEASES).get(LEASE_KEY) is None
    await store.close()


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
    "values.yaml": "image: registry.local/hello:1.0\nreplicas: 2\n",
    "templates/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: app
          image: {{ .Values.image }}
""",
    "templates/service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{port: 80}]
""",
}


async def test_chart_template_renders_with_helm_and_rolls_out(rig: Rig, tmp_path: Path) -> None:
    chart = tmp_path / "hello"
    for name, text in CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    objs = await helm.render(
        chart=str(chart), release="hello", namespace=rig.namespace, values={"image": "registry.local/hello:2.0"}
    )
    assert sorted(o["kind"] for o in objs) == ["Deployment", "Service"]
    rel, _ = new_revision(
        previous=None, tenant="t1", name="hello", cluster="c1", namespace=rig.namespace, environment="prod",
        kind="chart", workload=None, manifests=objs, strategy=parse_strategy({"kind": "rolling"}), template="hello",
        template_version=1, requested_by="", correlationid=None, now=rig.runner.deps.clock.now(), warnings=[],
    )  # fmt: skip
    await rig.col.create(state.key("t1", "hello"), state.release_doc(rel))
    done = await rig.until(lambda r: r.phase == "promoted", name="hello")
    assert done.image == "registry.local/hello:2.0"
    assert await rig.image_of("hello") == "registry.local/hello:2.0"
    try:
        await helm.render(chart=str(tmp_path / "nope"), release="x", namespace="default", values={})
    except helm.RenderFailed as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("rendering a missing chart must fail")
