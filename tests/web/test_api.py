"""The JSON API: bearer tokens, roles, error shapes, and tenant isolation on every route."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from core.cases.models import Case
from core.db import Database
from core.identity import Staff
from core.plugins.models import TenantPlugin
from core.tenancy import OrgUnit, Tenant, scope_for
from tests.helpers import account_token, bearer, staff_token, tenant


def test_me_names_the_token_holder_and_their_roles(client, db: Database) -> None:
    token = staff_token(db, "hechi", "hechi-approver")
    me = client.get("/api/v1/t/hechi/me", headers=bearer(token)).json()
    assert me["name"].endswith("审批科长") and me["roles"] == ["approver"]


def test_no_token_or_a_bad_token_is_401(client) -> None:
    assert client.get("/api/v1/t/hechi/me").status_code == 401
    response = client.get("/api/v1/t/hechi/me", headers=bearer("gh_not-a-token"))
    assert response.status_code == 401
    assert response.json() == {"error": "not_authenticated", "detail": "请先登录"}


def test_the_wrong_role_is_403(client, db: Database) -> None:
    token = staff_token(db, "hechi", "hechi-clerk")
    response = client.post(
        "/api/v1/t/hechi/org-units",
        headers=bearer(token),
        json={"code": "HC-NEW", "name": "新窗口", "kind": "window"},
    )
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_an_admin_adds_and_renames_an_org_unit(client, db: Database) -> None:
    token = staff_token(db, "cili", "cili-admin")
    created = client.post(
        "/api/v1/t/cili/org-units",
        headers=bearer(token),
        json={"code": "CL-CK09", "name": "9号窗口", "kind": "window"},
    )
    assert created.status_code == 201, created.text
    unit_id = created.json()["id"]
    renamed = client.patch(
        f"/api/v1/t/cili/org-units/{unit_id}",
        headers=bearer(token),
        json={"name": "不动产登记窗口"},
    )
    assert renamed.json()["name"] == "不动产登记窗口"
    again = client.post(
        "/api/v1/t/cili/org-units",
        headers=bearer(token),
        json={"code": "CL-CK09", "name": "重复", "kind": "window"},
    )
    assert again.status_code == 409 and again.json()["field"] == "code"
    # the page's rules: a code of letters and digits (a control character once made a unit
    # whose admin-page link no browser could follow)
    odd = client.post(
        "/api/v1/t/cili/org-units",
        headers=bearer(token),
        json={"code": "CL-\u000bX", "name": "怪编码", "kind": "window"},
    )
    assert odd.status_code == 422 and odd.json()["field"] == "code"


def test_bad_input_is_answered_naming_the_field(client, db: Database) -> None:
    token = staff_token(db, "cili", "cili-admin")
    wrong_kind = client.post(
        "/api/v1/t/cili/org-units",
        headers=bearer(token),
        json={"code": "CL-X", "name": "x", "kind": "palace"},
    )
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["error"] == "bad_request" and "kind" in wrong_kind.json()["detail"]
    malformed = client.post(
        "/api/v1/t/cili/org-units",
        headers={**bearer(token), "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert malformed.status_code == 400 and malformed.json()["error"] == "bad_request"


def test_an_oversized_body_is_413(client, db: Database, settings) -> None:
    token = staff_token(db, "cili", "cili-admin")
    body = json.dumps(
        {"code": "X", "name": "x" * (settings.max_upload_bytes + 10), "kind": "window"}
    )
    response = client.post(
        "/api/v1/t/cili/org-units",
        content=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_a_plugin_config_is_validated_against_its_schema(client, db: Database) -> None:
    token = staff_token(db, "suning", "suning-admin")
    bad = client.put(
        "/api/v1/t/suning/plugins/sms_console",
        headers=bearer(token),
        json={"enabled": True, "config": {"priority": "high"}},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "config"
    plugins = client.get("/api/v1/t/suning/plugins", headers=bearer(token)).json()
    console = next(p for p in plugins if p["name"] == "sms_console")
    assert console["enabled"] is True and console["config"] == {}
    assert console["config_schema"]["properties"]["priority"]["type"] == "integer"


# -- isolation: every API route, with one tenant's credentials on another's objects --------------


def _snapshot(db: Database, t: Tenant) -> dict[str, Any]:
    with db.session(scope=scope_for(t)) as session:
        return {
            "units": sorted(
                (u.id, u.code, u.name, u.address) for u in session.scalars(select(OrgUnit))
            ),
            "staff": sorted(
                (s.id, s.name, s.active, s.session_version, s.password_hash)
                for s in session.scalars(select(Staff))
            ),
            "plugins": sorted(
                (p.name, p.enabled, json.dumps(p.config))
                for p in session.scalars(select(TenantPlugin))
            ),
            "tenant": (t.status, t.name),
            "cases": sorted(
                (c.number, c.state.value, c.event_count, c.version)
                for c in session.scalars(select(Case))
            ),
        }


def _bodies(bozhou_unit: str) -> dict[tuple[str, str], Any]:
    return {
        ("POST", "/api/v1/t/{slug}/org-units"): {
            "code": "EVIL",
            "name": "越权",
            "kind": "window",
            "parent_id": bozhou_unit,
        },
        ("PATCH", "/api/v1/t/{slug}/org-units/{unit_id}"): {"name": "越权修改"},
        ("PATCH", "/api/v1/t/{slug}/staff/{staff_id}"): {"active": False},
        ("POST", "/api/v1/t/{slug}/staff/{staff_id}/end-sessions"): None,
        ("PUT", "/api/v1/t/{slug}/plugins/{name}"): {"enabled": True},
        ("POST", "/api/v1/t/{slug}/plugins/{name}/check"): None,
        ("POST", "/api/v1/t/{slug}/tenants"): {
            "slug": "evil",
            "name": "越权县",
            "division_code": "341699",
        },
        ("PATCH", "/api/v1/t/{slug}/tenants/{child}"): {"status": "suspended"},
        ("POST", "/api/v1/t/{slug}/items"): {
            "code": "EVIL-1",
            "content": {"name": "越权事项", "category": "xzxk", "department": "BZ-RSJ"},
        },
        ("PUT", "/api/v1/t/{slug}/items/{code}/draft"): {"content": {"name": "越权修改"}},
        ("POST", "/api/v1/t/{slug}/items/{code}/publish"): {},
        ("POST", "/api/v1/t/{slug}/items/adopt"): {
            "standard_code": "AH-SB01",
            "overrides": {"department": "BZ-RSJ"},
        },
        ("POST", "/api/v1/t/{slug}/catalog/adopt"): {
            "codes": None,
            "departments": {"ANHUI-ZWB": "BZ-RSJ"},
        },
        ("POST", "/api/v1/t/{slug}/items/{code}/status"): {
            "action": "cancel",
            "reason": "越权取消",
        },
        ("POST", "/api/v1/t/{slug}/cases"): {"item": "BZ-SB01"},
        ("POST", "/api/v1/t/{slug}/consent-codes"): {"phone": "13677771235", "item": "BZ-SB01"},
        ("POST", "/api/v1/t/{slug}/consultations"): {
            "item": "BZ-SB01",
            "subject": "越权",
            "text": "越权咨询",
        },
        ("POST", "/api/v1/t/{slug}/consultations/{number}/answer"): {"answer": "越权答复"},
        ("POST", "/api/v1/t/{slug}/cases/{number}/submit"): {},
        ("PUT", "/api/v1/t/{slug}/cases/{number}/form"): {"form": {}},
        ("POST", "/api/v1/t/{slug}/cases/{number}/form/reveal"): None,
        ("POST", "/api/v1/t/{slug}/cases/{number}/correct"): {},
        ("POST", "/api/v1/t/{slug}/cases/{number}/withdraw"): {"reason": "越权撤回"},
        ("POST", "/api/v1/t/{slug}/cases/{number}/rate"): {"score": 0},
        ("POST", "/api/v1/t/{slug}/cases/{number}/actions"): {
            "action": "refuse",
            "reason": "越权",
        },
        ("POST", "/api/v1/t/{slug}/cases/{number}/materials"): {"index": 0},
        ("POST", "/api/v1/t/{slug}/cases/{number}/materials/reuse"): {
            "index": 0,
            "material_id": "00000000-0000-0000-0000-000000000000",
        },
        ("POST", "/api/v1/t/{slug}/cases/{number}/payment"): {},
        ("POST", "/api/v1/t/{slug}/cases/{number}/supervision"): {"kind": "note", "reason": "越权"},
        ("POST", "/api/v1/t/{slug}/cases/{number}/complaint"): {"text": "越权投诉"},
        ("POST", "/api/v1/t/{slug}/cases/{number}/counter-rating"): {"score": 0},
        ("POST", "/api/v1/t/{slug}/follow-ups/{follow_up_id}/close"): {"resolution": "越权"},
        # public: a provider's notice, vouched for by a plugin (none is enabled here)
        ("POST", "/api/v1/t/{slug}/payments/{provider}/notify"): {"out_trade_no": "x"},
        ("POST", "/api/v1/t/{slug}/couriers/{carrier}/tracking"): {"traces": []},
        ("POST", "/api/v1/t/{slug}/bundles/{code}/cases"): {"form": {}},
        ("POST", "/api/v1/t/{slug}/departments/decisions"): {"case": "x", "action": "review"},
        # public: vendors' webhooks, authenticated by the vendor plugin (no token configured)
        ("POST", "/api/v1/t/{slug}/sms/{vendor}/inbound"): [
            {"id": "walk-1", "phone": "13800000022", "text": "0"}
        ],
        ("POST", "/api/v1/t/{slug}/sms/{vendor}/receipts"): [{"id": "x", "status": "DELIVRD"}],
    }


def _bozhou_case(client, db: Database) -> dict[str, str]:
    """A submitted bozhou case with a material, a notice and a download link."""
    citizen = account_token(db, "bozhou", "13800000022")
    case = client.post(
        "/api/v1/t/bozhou/cases", json={"item": "BZ-SB01"}, headers=bearer(citizen)
    ).json()
    number = case["number"]
    for index in range(
        len(client.get("/api/v1/t/bozhou/items/BZ-SB01").json()["content"]["materials"])
    ):
        uploaded = client.post(
            f"/api/v1/t/bozhou/cases/{number}/materials",
            files={"file": ("a.pdf", b"%PDF-1.4 test", "application/pdf")},
            data={"index": str(index)},
            headers=bearer(citizen),
        )
        assert uploaded.status_code == 201, uploaded.text
    submitted = client.post(f"/api/v1/t/bozhou/cases/{number}/submit", headers=bearer(citizen))
    assert submitted.status_code == 200, submitted.text
    material = submitted.json()["materials"][0]["id"]
    link = client.get(
        f"/api/v1/t/bozhou/cases/{number}/materials/{material}/link", headers=bearer(citizen)
    ).json()["url"]
    return {
        "number": number,
        "material": material,
        "notice": submitted.json()["notices"][0]["code"],
        "token": link.rsplit("/", 1)[1],
    }


def _api_routes(app) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        if not route.path.startswith("/api/v1/t/{slug"):
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            routes.append((method, route.path.replace(":str", "").replace(":uuid", "")))
    assert len(routes) >= 12, routes
    return routes


def test_a_hechi_token_cannot_read_or_change_any_bozhou_object(client, app, db: Database) -> None:
    hechi, bozhou = tenant(db, "hechi"), tenant(db, "bozhou")
    token = staff_token(db, "hechi", "hechi-admin")  # tenant admin: the widest county role
    before = _snapshot(db, bozhou)
    bozhou_unit = str(before["units"][0][0])
    bozhou_staff = str(before["staff"][0][0])
    bozhou_ids = {str(u[0]) for u in before["units"]} | {str(s[0]) for s in before["staff"]}
    bodies = _bodies(bozhou_unit)
    bz = _bozhou_case(client, db)
    before = _snapshot(db, bozhou)
    for method, template in _api_routes(app):
        needs_body = method in ("POST", "PUT", "PATCH")
        assert not needs_body or (method, template) in bodies, (
            f"add a body for {method} {template} to this walk"
        )
        for slug in ("hechi", "bozhou"):
            path = (
                template.replace("{slug}", slug)
                .replace("{unit_id}", bozhou_unit)
                .replace("{staff_id}", bozhou_staff)
                .replace("{name}", "sms_console")
                .replace("{provider}", "testpay")
                .replace("{carrier}", "post")
                .replace("{vendor}", "console")
                .replace("{follow_up_id}", "00000000-0000-0000-0000-000000000000")
                .replace("{child}", "bozhou")
                .replace("{number}", bz["number"])
                .replace("{material_id}", bz["material"])
                .replace("{token}", bz["token"])
                .replace("{code}", bz["notice"] if "/items/" not in template else "BZ-SB01")
            )
            if template.endswith("/diff"):
                path += "?from_version=1&to_version=1"
            response = client.request(
                method,
                path,
                headers=bearer(token),
                json=bodies.get((method, template)) if needs_body else None,
            )
            assert response.status_code < 500, (method, path, response.text)
            if template.endswith(("/notify", "/tracking")):  # no credential; none vouches: 404
                assert response.status_code == 404, (method, path, response.status_code)
            elif "/sms/" in template:  # the vendor refuses an unauthenticated webhook
                assert response.status_code in (403, 404), (method, path, response.status_code)
            elif slug == "bozhou" and method != "GET":
                # A hechi credential is no credential at bozhou.
                assert response.status_code == 401, (method, path, response.status_code)
            if slug == "hechi" and any(
                p in template for p in ("{unit_id}", "{staff_id}", "{code}", "{number}", "{token}")
            ):
                assert response.status_code == 404, (method, path, response.status_code)
            if slug == "hechi" and response.status_code < 300:
                if response.headers["content-type"].startswith("application/json"):
                    assert not (bozhou_ids & set(_ids_in(response.json()))), (method, path)
                else:  # a CSV export: no bozhou identifier anywhere in it
                    assert not any(i in response.text for i in bozhou_ids), (method, path)
    assert _snapshot(db, bozhou) == before
    # and hechi's own data is untouched by the refused bodies aimed at bozhou's objects
    assert all(u[1] != "EVIL" for u in _snapshot(db, hechi)["units"])


def _ids_in(body: Any) -> list[str]:
    if isinstance(body, dict):
        return [str(v) for k, v in body.items() if k.endswith("id")] + [
            i for v in body.values() for i in _ids_in(v)
        ]
    if isinstance(body, list):
        return [i for v in body for i in _ids_in(v)]
    return []


def test_a_province_admin_manages_only_its_own_counties(client, db: Database) -> None:
    token = staff_token(db, "guangxi", "guangxi-admin")
    mine = client.get("/api/v1/t/guangxi/tenants", headers=bearer(token)).json()
    slugs = {t["slug"] for t in mine}  # other tests may have onboarded more under guangxi
    assert "hechi" in slugs and not slugs & {"guangxi", "anhui", "bozhou", "hebei", "suning"}
    other = client.patch(
        "/api/v1/t/guangxi/tenants/bozhou", headers=bearer(token), json={"status": "suspended"}
    )
    assert other.status_code == 404
    outside = client.post(
        "/api/v1/t/guangxi/tenants",
        headers=bearer(token),
        json={"slug": "evil", "name": "越权", "division_code": "341699"},
    )
    assert outside.status_code == 422 and outside.json()["field"] == "division_code"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_province_admin_onboards_and_activates_a_county(client, db: Database) -> None:
    token = staff_token(db, "hebei", "hebei-admin")
    created = client.post(
        "/api/v1/t/hebei/tenants",
        headers=bearer(token),
        json={"slug": "hejian", "name": "河间市", "division_code": "130984"},
    )
    assert created.status_code == 201 and created.json()["status"] == "onboarding"
    active = client.patch(
        "/api/v1/t/hebei/tenants/hejian", headers=bearer(token), json={"status": "active"}
    )
    assert active.json()["status"] == "active"
    assert client.get("/t/hejian/").status_code == 200


def test_json_nested_a_thousand_deep_is_a_400_not_a_500(client, db: Database) -> None:
    deep = '{"a":' + "[" * 1000 + "]" * 1000 + "}"
    token = staff_token(db, "hechi", "hechi-admin")
    headers = {"content-type": "application/json", **bearer(token)}
    for path in ("/api/v1/t/hechi/cases", "/api/v1/t/hechi/org-units", "/api/v1/t/hechi/items"):
        answer = client.post(path, content=deep, headers=headers)
        assert answer.status_code == 400, (path, answer.status_code)
        assert answer.json()["error"] == "bad_request"


def test_a_tenants_profile_names_its_parent(client) -> None:
    assert client.get("/api/v1/t/hechi/").json()["parent"] == "guangxi"
    assert client.get("/api/v1/t/cili/").json()["parent"] == "hunan"
    assert client.get("/api/v1/t/guangxi/").json()["parent"] is None


def test_a_write_without_a_token_is_401_before_its_body_is_read(client) -> None:
    """Without a token the API says only 401: not which fields a body lacks (a body checked
    first mapped the write API field by field for anyone)."""
    for path in ("/api/v1/t/hechi/org-units", "/api/v1/t/hechi/items", "/api/v1/t/hechi/cases"):
        refused = client.post(path, json={})
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["error"] == "not_authenticated"
        assert "缺少" not in refused.text
    # a route that needs no token is asked as before (the public progress lookup)
    assert client.get("/api/v1/t/hechi/progress").status_code != 401


def test_an_agent_texts_a_consent_code_then_applies_with_it(client, db, sms_outbox) -> None:
    from tests.helpers import sms_code

    agent = bearer(staff_token(db, "hechi", "hechi-agent"))
    sent = client.post(
        "/api/v1/t/hechi/consent-codes",
        json={"phone": "13677771234", "item": "HC-SC03"},
        headers=agent,
    )
    assert sent.status_code == 202, sent.text
    consent: dict[str, str] = {"method": "sms_code"}
    body = {
        "item": "HC-SC03",
        "applicant": {"phone": "13677771234", "name": "韦村民"},
        "consent": consent,
    }
    refused = client.post("/api/v1/t/hechi/cases", json=body, headers=agent)
    assert refused.status_code == 422 and refused.json()["field"] == "consent.code"
    consent["code"] = sms_code(sms_outbox)
    filed = client.post("/api/v1/t/hechi/cases", json=body, headers=agent)
    assert filed.status_code == 201, filed.text
    reviewer = bearer(staff_token(db, "hechi", "hechi-reviewer"))
    assert (
        client.post(
            "/api/v1/t/hechi/consent-codes",
            json={"phone": "13677771234", "item": "HC-SC03"},
            headers=reviewer,
        ).status_code
        == 403
    )
