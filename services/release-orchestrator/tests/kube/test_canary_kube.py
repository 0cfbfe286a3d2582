"""Canary releases on a real API server with controllers and kwok pods."""

from __future__ import annotations

from berth_release_orchestrator.domain.manifests import NGINX
from berth_schema.release import ReleaseRolledBack

from .conftest import Rig

STEPS = [{"set_weight": 10}, {"pause": {"duration_seconds": 1}}, {"set_weight": 50}, {"pause": {}}]


async def test_canary_by_weight_walks_steps_then_promotes(rig: Rig) -> None:
    await rig.create(image="registry.local/web:1.0", strategy={"kind": "canary", "steps": STEPS})
    first = await rig.until(lambda r: r.phase == "promoted", what="first revision promoted")
    assert [s.kind for s in first.steps] == ["rollout"]
    assert await rig.image_of("web") == "registry.local/web:1.0"

    await rig.create(image="registry.local/web:2.0", strategy={"kind": "canary", "steps": STEPS})
    await rig.at_step("set-weight", index=1)  # canary-deploy finished: canary Available at weight 0
    ann = await rig.annotations("web-canary")
    assert ann[NGINX + "canary"] == "true" and ann[NGINX + "canary-weight"] == "0"
    assert await rig.image_of("web-canary") == "registry.local/web:2.0"
    await rig.at_step("pause", index=2)
    assert (await rig.annotations("web-canary"))[NGINX + "canary-weight"] == "10"
    assert await rig.replicas("web-canary") == 1
    await rig.at_step("set-weight", index=3)  # 1 s pause over
    rel = await rig.until(lambda r: r.phase == "paused", what="manual pause")
    assert rel.weight == 50
    assert (await rig.annotations("web-canary"))[NGINX + "canary-weight"] == "50"
    assert await rig.replicas("web-canary") == 2
    assert await rig.image_of("web") == "registry.local/web:1.0"  # stable untouched so far

    await rig.promote()
    rel = await rig.until(lambda r: r.phase == "promoted", what="promoted")
    assert await rig.image_of("web") == "registry.local/web:2.0"
    assert await rig.wl.get("Ingress", "web-canary") is None
    assert await rig.wl.get("Service", "web-canary") is None
    assert await rig.replicas("web-canary") == 0
    names = rig.fact_names()
    assert names.count("weight-changed") == 2 and names[-1] == "promoted"
    assert rel.history[-1].phase == "promoted" and [h.revision for h in rel.history] == [1, 2]


async def test_header_and_cookie_canaries_set_their_annotations(rig: Rig) -> None:
    await rig.create(image="registry.local/web:1.0", strategy={"kind": "canary"})
    await rig.until(lambda r: r.phase == "promoted")
    header = {"kind": "canary", "traffic": "header", "header": "X-Canary", "header_value": "always", "steps": []}
    await rig.create(image="registry.local/web:2.0", strategy={**header, "steps": [{"pause": {}}]})
    await rig.until(lambda r: r.phase == "paused")
    ann = await rig.annotations("web-canary")
    assert ann[NGINX + "canary-by-header"] == "X-Canary" and ann[NGINX + "canary-by-header-value"] == "always"
    assert NGINX + "canary-by-cookie" not in ann
    await rig.rollback("switching to a cookie canary")
    rel = await rig.until(lambda r: r.phase == "rolled-back")
    ann = await rig.annotations("web-canary")
    assert ann[NGINX + "canary-weight"] == "0" and NGINX + "canary-by-header" not in ann  # no traffic any more

    cookie = {"kind": "canary", "traffic": "cookie", "cookie": "canary-cookie", "steps": [{"pause": {}}]}
    rel = await rig.create(image="registry.local/web:3.0", strategy=cookie)
    assert rel.stable is not None and rel.stable.image == "registry.local/web:1.0"
    await rig.until(lambda r: r.phase == "paused")
    ann = await rig.annotations("web-canary")
    assert ann[NGINX + "canary-by-cookie"] == "canary-cookie" and NGINX + "canary-by-header" not in ann
    assert await rig.image_of("web-canary") == "registry.local/web:3.0"
    await rig.promote(full=True)
    await rig.until(lambda r: r.phase == "promoted")
    assert await rig.image_of("web") == "registry.local/web:3.0"
    rb = [f for f in rig.facts if isinstance(f, ReleaseRolledBack)]
    assert len(rb) == 1 and rb[0].image == "registry.local/web:1.0"


async def test_blue_green_promote_switches_the_active_selector(rig: Rig) -> None:
    bg = {"kind": "blue-green", "scale_down_delay_seconds": 1}
    await rig.create(image="registry.local/web:1.0", strategy=bg)
    await rig.until(lambda r: r.phase == "promoted")
    svc = await rig.wl.get("Service", "web")
    assert svc is not None and svc["spec"]["selector"]["berth.io/color"] == "blue"

    await rig.create(image="registry.local/web:2.0", strategy=bg)
    await rig.until(lambda r: r.phase == "paused", what="preview ready")
    active, preview = await rig.wl.get("Service", "web"), await rig.wl.get("Service", "web-preview")
    assert active is not None and preview is not None
    assert active["spec"]["selector"]["berth.io/color"] == "blue"
    assert preview["spec"]["selector"]["berth.io/color"] == "green"
    assert await rig.image_of("web-green") == "registry.local/web:2.0"

    await rig.promote()
    await rig.at_step("scale-down")
    active = await rig.wl.get("Service", "web")
    assert active is not None and active["spec"]["selector"]["berth.io/color"] == "green"
    assert await rig.replicas("web-blue") == 4  # kept for the scale-down delay
    await rig.until(lambda r: r.phase == "promoted")
    assert await rig.replicas("web-blue") == 0
    assert "promoted" in rig.fact_names()
