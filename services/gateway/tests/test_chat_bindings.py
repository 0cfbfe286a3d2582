"""Issue 17, chat bindings: a user binds only their own chat user; replacing someone else's
binding needs tenant-admin of the binding's tenant (or platform-admin) and is audited."""

from __future__ import annotations

from gwtest import Stack


def _binding(chat_user: str, user: str) -> dict[str, str]:
    return {"platform": "slack", "chat_user": chat_user, "user": user}


async def test_only_the_owner_or_their_tenant_admin_rebinds_a_chat_user(stack: Stack) -> None:
    ann = await stack.user_token("cb-ann", tenant="acme", role="viewer")
    mal = await stack.user_token("cb-mal", tenant="acme", role="developer")
    await stack.user_token("cb-cat", tenant="acme", role="viewer")
    boss = await stack.user_token("cb-boss", tenant="acme", role="tenant-admin")
    other_boss = await stack.user_token("cb-gboss", tenant="globex", role="tenant-admin")

    status, body = await stack.call("POST", "/api/v1/chat-bindings", token=ann, json=_binding("U-ANN", "cb-ann"))
    assert status == 201 and body["tenant"] == "acme", body
    # another user can neither take over ann's chat user nor bind one to ann
    status, body = await stack.call("POST", "/api/v1/chat-bindings", token=mal, json=_binding("U-ANN", "cb-mal"))
    assert status == 403 and "tenant-admin of acme" in body["detail"], body
    status, body = await stack.call("POST", "/api/v1/chat-bindings", token=mal, json=_binding("U-MAL", "cb-ann"))
    assert status == 403, body
    # a tenant-admin of another tenant cannot either
    status, body = await stack.call(
        "POST", "/api/v1/chat-bindings", token=other_boss, json=_binding("U-ANN", "cb-gboss")
    )
    assert status == 403, body
    rec = await stack.gateway.store.collection("chat_bindings").get("slack|U-ANN")
    assert rec is not None and rec.data["user"] == "cb-ann"
    # ann's tenant-admin may, and the audit row says whose binding was replaced
    status, body = await stack.call(
        "POST", "/api/v1/chat-bindings?tenant=acme", token=boss, json=_binding("U-ANN", "cb-cat")
    )
    assert status == 201 and body["user"] == "cb-cat" and body["bound_by"] == "cb-boss", body
    status, audit = await stack.call("GET", "/api/v1/audit?tenant=acme&user=cb-boss", token=boss)
    assert status == 200, audit
    rows = [r for r in audit["items"] if r["action"] == "gateway.bind-chat-user" and r["status"] == 201]
    assert rows and "replaced the binding of slack user U-ANN to cb-ann" in rows[-1]["detail"], rows
    # the refused attempts are audited too, in the tenant they were about
    status, audit = await stack.call("GET", "/api/v1/audit?tenant=acme&user=cb-mal", token=boss)
    assert any(r["action"] == "gateway.bind-chat-user" and r["status"] == 403 for r in audit["items"]), audit


async def test_binding_someone_else_needs_tenant_admin_of_a_tenant_they_are_in(stack: Stack) -> None:
    boss = await stack.user_token("cb-boss2", tenant="acme", role="tenant-admin")
    await stack.user_token("cb-gil", tenant="globex", role="viewer")
    status, body = await stack.call(
        "POST", "/api/v1/chat-bindings?tenant=acme", token=boss, json=_binding("U-GIL", "cb-gil")
    )
    assert status == 403 and "no role in tenant acme" in body["detail"], body
