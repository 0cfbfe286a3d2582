"""helm renders charts and skopeo copies between the registries: the CLI parts are real."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml
from berth_testkit.oci import push_image
from berth_testkit.parts import binary
from berth_testkit.registry import Registry


async def _run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, f"{argv} failed: {err.decode()}"
    return out.decode()


async def test_helm_renders_a_chart(tmp_path: Path) -> None:
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 1\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
        "data:\n  replicas: {{ .Values.replicas | quote }}\n"
    )
    out = await _run(binary("helm"), "template", "shop", str(chart), "--set", "replicas=3")
    [doc] = [d for d in yaml.safe_load_all(out) if d]
    assert doc["metadata"]["name"] == "shop-cfg"
    assert doc["data"] == {"replicas": "3"}
    version = await _run(binary("helm"), "version", "--short")
    assert version.startswith("v3.")


async def test_skopeo_copies_an_image_between_the_registries(registry_a: Registry, registry_b: Registry) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        pushed = await push_image(http, registry_a.url, "base/alpine", "3", headers=registry_a.auth_headers)
    await _run(
        binary("skopeo"),
        "copy",
        "--all",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--src-creds",
        f"{registry_a.username}:{registry_a.password}",
        "--dest-creds",
        f"{registry_b.username}:{registry_b.password}",
        f"docker://{registry_a.host}/base/alpine:3",
        f"docker://{registry_b.host}/mirror/alpine:3",
    )
    inspected = json.loads(
        await _run(
            binary("skopeo"),
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            f"{registry_b.username}:{registry_b.password}",
            f"docker://{registry_b.host}/mirror/alpine:3",
        )
    )
    assert inspected["layers"][0]["digest"] in pushed.blobs
    assert json.loads(pushed.manifest) == inspected
