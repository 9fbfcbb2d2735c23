"""The tenant-isolation walk over every page route (the JSON API has its own walk in
tests/web/test_api.py): signed in to Hechi as its admin and as its supervisor, every GET page
is requested with Bozhou's objects — at Bozhou, where a Hechi session is no session, and at
Hechi, where Bozhou's case, material and notice do not exist. No answer may show them."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from core.cases.models import CaseMaterial
from tests.cases.conftest import Desk
from tests.helpers import csrf_token

#: pages anyone may read: at Bozhou they answer with Bozhou's public catalog, as they should
PUBLIC = re.compile(
    r"^/t/\{slug\}(/|/items.*|/login|/staff/login|/progress|/stats|/verify/.*|/themes/.*"
    r"|/bundles.*|/catalog/.*|/branding/logo|/divisions|/announcements.*|/privacy)?$"
)
SIGNED_OUT = (302, 303, 401, 403, 404)


def _routes(app) -> list[str]:
    paths = set()
    for route in app.routes:
        if "GET" in getattr(route, "methods", set()) and route.path.startswith("/t/{slug"):
            paths.add(re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
    return sorted(paths)


def _bozhou_objects(db) -> dict[str, str]:
    bozhou = Desk(db, "bozhou")
    number = bozhou.apply(bozhou.citizen("13800000022"), "BZ-SB01")
    with bozhou.session() as s:
        material = s.query(CaseMaterial).filter_by(case_id=bozhou.case(number).id).first()
        material_id = str(material.id)
    from core.cases.models import Notice

    with bozhou.session() as s:
        notice = s.query(Notice).filter_by(case_id=bozhou.case(number).id).first().code
    from core.portal import create_announcement

    with bozhou.session() as s:
        announcement = str(
            create_announcement(s, bozhou.tenant, title="亳州的公告", body="", published=True).id
        )
        s.commit()
    from core.identity import Staff

    with bozhou.session() as s:
        staff_id = str(s.query(Staff).filter_by(username="bozhou-admin").one().id)
    return {
        "number": number,
        "material_id": material_id,
        "notice": notice,
        "announcement_id": announcement,
        "staff_id": staff_id,
    }


def _fill(template: str, slug: str, bz: dict[str, str]) -> str:
    values = {
        "slug": slug,
        "number": bz["number"],
        "material_id": bz["material_id"],
        "job_id": "00000000-0000-0000-0000-000000000000",
        "name": "sms_console",
        "fmt": "csv",
        "lang": "en",
        "announcement_id": bz["announcement_id"],
        "staff_id": bz["staff_id"],  # a staff member's page (工作人员)
        "seq": "1",  # an entry of the audit log (an adoption's result page)
        "county": "cili",  # a county of another province, in a console (not its to run)
        "step": "branding",  # an onboarding wizard's step
    }
    if "/notices/" in template or "/verify/" in template:
        values["code"] = bz["notice"]
    else:
        values["code"] = "BZ-SB01"
    template = template.replace("/forms/{number}", "/forms/1")  # an item's form, by position
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def test_a_hechi_session_sees_nothing_of_bozhou_on_any_page(app, db) -> None:
    bz = _bozhou_objects(db)
    routes = _routes(app)
    assert len(routes) > 30, routes
    for username in ("hechi-admin", "hechi-supervisor"):
        with TestClient(app=app, base_url="http://testserver.local") as browser:
            token = csrf_token(browser, "/t/hechi/staff/login")
            signed = browser.post(
                "/t/hechi/staff/login",
                data={"username": username, "password": "Demo-2026", "_csrf_token": token},
            )
            assert signed.status_code < 400
            for template in routes:
                public = bool(PUBLIC.match(template))
                for slug in ("bozhou", "hechi"):
                    path = _fill(template, slug, bz)
                    answer = browser.get(path, follow_redirects=False)
                    where = (username, path, answer.status_code)
                    assert answer.status_code < 500, where
                    if slug == "bozhou" and not public:
                        assert answer.status_code in SIGNED_OUT, where
                    if slug == "hechi" and any(k in template for k in ("{number}", "{material")):
                        assert answer.status_code == 404, where
                    if slug == "hechi" and "/verify/" in template:
                        assert answer.status_code == 404, where
                    if slug == "hechi" and "{staff_id}" in template:  # the admin: not found
                        assert answer.status_code in (
                            404,
                            403 if "supervisor" in username else 404,
                        ), where
                    if slug == "hechi" and "{announcement_id}" in template:
                        assert answer.status_code in (403, 404), where
                    if slug == "hechi" and answer.status_code == 200:
                        assert bz["number"] not in answer.text, where
                        assert bz["material_id"] not in answer.text, where
