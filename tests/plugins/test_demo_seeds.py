"""The demo packs show what the plugins do: Suning offers 四证一章 and its village-level
procedures, Cili 投资报建 and 企业开办一表通, and a Bozhou result sent by courier gets a waybill
from the demo courier and its journey (揽收 … 已签收) through the ordinary tracking callback,
with no outside service; the demo courier is refused in production."""

from __future__ import annotations

import json

import pytest

import plugins.courier_demo as demo
from core.errors import GovhallError
from core.plugins import get_plugin_manager
from tests.cases.conftest import Desk

ZHANG = "13800000022"  # 张伟, an Anhui account
ADDRESS = "安徽省亳州市谯城区芍花路 18 号"


@pytest.mark.parametrize(
    ("slug", "bundles"),
    [("suning", ["四证一章联办"]), ("cili", ["投资报建联合审批", "企业开办一表通"])],
)
def test_the_counties_offer_their_bundles(client, slug: str, bundles: list[str]) -> None:
    page = client.get(f"/t/{slug}/bundles")
    assert page.status_code == 200
    assert "暂未开通" not in page.text
    for name in bundles:
        assert name in page.text


def test_suning_offers_its_village_procedures(client, db) -> None:
    suning = Desk(db, "suning")
    with suning.session() as s:
        states = get_plugin_manager().states(s, suning.tenant)
    assert states["local_suning"].enabled
    page = client.get("/t/suning/items/SN-CJ01")
    assert page.status_code == 200 and "村级代办" in page.text


def test_a_bozhou_result_goes_by_the_demo_courier(
    db, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed: list[tuple[str, str, str]] = []
    monkeypatch.setattr(demo, "_schedule", lambda c, *journey: pushed.append(journey))
    bozhou = Desk(db, "bozhou")
    number = bozhou.apply(bozhou.citizen(ZHANG), "BZ-SB02", delivery="courier", address=ADDRESS)
    bozhou.act(bozhou.staff("bozhou-clerk"), number, "decide")
    shipped = bozhou.act(bozhou.staff("bozhou-clerk"), number, "deliver")
    waybill = shipped.tracking["tracking_number"]
    assert shipped.tracking["carrier"] == "演示快递" and waybill.startswith("YS")
    assert pushed == [("bozhou", number, waybill)]  # the journey is under way

    url = "/api/v1/t/bozhou/couriers/demo/tracking"
    body = {"reference": number, "tracking_number": waybill}
    forged = client.post(url, content=json.dumps({**body, "tracking_number": "YS1" + "0" * 15}))
    assert forged.status_code == 422
    booked = int(waybill[2:-6])
    monkeypatch.setattr(demo, "_now", lambda: booked + 90)  # a minute and a half later
    assert client.post(url, content=json.dumps(body)).status_code == 200
    case = bozhou.case(number)
    assert [e["label"] for e in case.tracking["events"]] == ["已揽收", "运输中"]
    assert case.state.value == "completed"

    monkeypatch.setattr(demo, "_now", lambda: booked + 3600)
    assert client.post(url, content=json.dumps(body)).status_code == 200
    case = bozhou.case(number)
    labels = [e["label"] for e in case.tracking["events"]]
    assert labels == ["已揽收", "运输中", "派送中", "已签收"]  # none recorded twice
    assert case.state.value == "delivered"


def test_the_demo_courier_is_refused_in_production(db, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import get_settings

    monkeypatch.setenv("GOVHALL_ENV", "production")
    get_settings.cache_clear()
    try:
        bozhou = Desk(db, "bozhou")
        with bozhou.session() as s:
            assert not get_plugin_manager().states(s, bozhou.tenant)["courier_demo"].enabled
            with pytest.raises(GovhallError):
                get_plugin_manager().set_enabled(s, bozhou.tenant, "courier_demo", True, {})
            s.rollback()
    finally:
        monkeypatch.delenv("GOVHALL_ENV")
        get_settings.cache_clear()
