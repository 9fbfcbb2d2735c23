"""Courier delivery through the postal express plugin against a loopback fake of its API: an
address that names no place is refused at application; on delivery the waybill is booked with
the result documents, once; signed tracking pushes show on the applicant's page and the case
is delivered when the parcel is signed for; forged pushes and unknown carriers change nothing;
the self-check names a wrong key and an unreachable service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core.cases.models import CaseEvent
from core.errors import Conflict, InvalidInput
from core.notify.outbox import OutboxMessage
from core.plugins import get_plugin_manager
from tests.cases.conftest import Desk
from tests.fakes import CourierPost
from tests.helpers import account_token, bearer

ZHANG = "13800000001"
ADDRESS = "广西河池市金城江区新建路 18 号"


@pytest.fixture
def hechi(db) -> Desk:
    return Desk(db, "hechi")


@pytest.fixture
def post(hechi: Desk) -> Iterator[CourierPost]:
    fake = CourierPost().start()
    yield fake
    fake.stop()
    with hechi.session() as s:
        get_plugin_manager().set_enabled(s, hechi.tenant, "courier_post", False, {})
        s.commit()


def configure(hechi: Desk, fake: CourierPost, **changes: Any) -> None:
    config = {
        "endpoint": fake.url,
        "partner_id": fake.partner,
        "secret": fake.secret,
        "sender_phone": "0778-2281234",
        "sender_address": "河池市金城江区政务服务中心",
        **changes,
    }
    with hechi.session() as s:
        get_plugin_manager().set_enabled(s, hechi.tenant, "courier_post", True, config)
        s.commit()


def _completed(hechi: Desk) -> str:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03", delivery="courier", address=ADDRESS)
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    hechi.act(hechi.staff("hechi-reviewer"), number, "review")
    hechi.act(hechi.staff("hechi-approver"), number, "approve")
    hechi.act(hechi.staff("hechi-issuer"), number, "issue")
    return number


def test_an_address_that_names_no_place_is_refused(hechi: Desk) -> None:
    for bad in ("家里", "12345678", "金城江"):
        with pytest.raises(InvalidInput) as caught:
            hechi.apply(hechi.citizen(ZHANG), "HC-SC03", delivery="courier", address=bad)
        assert caught.value.field == "address"


def test_a_result_goes_by_courier_and_is_delivered_when_signed_for(
    hechi: Desk, post: CourierPost, client, db
) -> None:
    configure(hechi, post)
    number = _completed(hechi)
    clerk = hechi.staff("hechi-clerk")
    shipped = hechi.act(clerk, number, "deliver")
    assert shipped.state.value == "completed"  # handed over, not yet delivered
    waybill = shipped.tracking["tracking_number"]
    (order,) = post.received
    assert order["logisticsOrderNo"] == number and order["receiver"]["address"] == ADDRESS
    kinds = sorted(d["kind"] for d in order["attachments"])
    assert kinds == ["license", "notice"]  # the decision notice and the e-license inside
    with pytest.raises(Conflict):  # no second waybill
        hechi.act(clerk, number, "deliver")

    url = "/api/v1/t/hechi/couriers/post/tracking"
    trace = {"waybillNo": waybill, "logisticsOrderNo": number}
    pushes = [
        {
            **trace,
            "opCode": "10",
            "opTime": "2026-11-23 09:12:00",
            "opDesc": "河池金城江营业部已收寄",
        },
        {**trace, "opCode": "40", "opTime": "2026-11-24 08:30:00", "opDesc": "投递员正在派送"},
    ]
    forged = client.post(url, **post.push(pushes, secret="guess"))
    assert forged.status_code == 422
    assert (
        client.post("/api/v1/t/hechi/couriers/sf/tracking", **post.push(pushes)).status_code == 404
    )
    assert client.post(url, **post.push(pushes)).json() == {"success": True, "cases": [number]}
    assert client.post(url, **post.push(pushes)).json()["cases"] == []  # repeats: nothing new

    token = account_token(db, "hechi", ZHANG)
    mine = client.get(f"/api/v1/t/hechi/cases/{number}", headers=bearer(token)).json()
    assert [e["status"] for e in mine["tracking"]["events"]] == ["collected", "out_for_delivery"]
    assert mine["state"] == "completed"

    signed = {**trace, "opCode": "50", "opTime": "2026-11-24 15:02:00", "opDesc": "本人签收"}
    assert client.post(url, **post.push([signed])).status_code == 200
    case = hechi.case(number)
    assert case.state.value == "delivered" and case.delivered_at is not None
    with hechi.session() as s:
        last = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
        ).first()
        told = s.scalars(
            select(OutboxMessage.template).where(OutboxMessage.case_id == case.id)
        ).all()
    assert (last.action, last.to_state, last.reason) == ("signed", "delivered", "本人签收")
    assert "case_shipped" in told and "case_delivered" in told


def test_the_courier_self_check_names_what_is_wrong(hechi: Desk, post: CourierPost) -> None:
    manager = get_plugin_manager()

    def check(**changes: Any) -> list[str]:
        configure(hechi, post, **changes)
        with hechi.session() as s:
            return manager.self_check(s, hechi.tenant, "courier_post")

    assert check() == []
    assert any("签名错误" in p for p in check(secret="wrong"))
    assert any("合作方不存在" in p for p in check(partner_id="nobody"))
    post.stop()
    assert any("无法连接快递平台" in p for p in check())


def test_a_courier_that_cannot_book_leaves_the_clerk_a_way_out(
    hechi: Desk, post: CourierPost
) -> None:
    """送达 fails while the courier refuses the booking: the clerk reads what to do, switches
    the case to 窗口领取, the applicant is told by SMS, and the result is handed over."""
    from core.cases.available import available_actions

    configure(hechi, post, secret="a-wrong-secret")  # the service refuses every order
    number = _completed(hechi)
    clerk = hechi.staff("hechi-clerk")
    with pytest.raises(Conflict) as caught:
        hechi.act(clerk, number, "deliver")
    assert "改为窗口领取" in caught.value.detail
    with hechi.session() as s:
        case = hechi.case(number)
        offered = [a.code for a in available_actions(s, hechi.tenant, case, clerk)]
    assert "deliver" in offered and "to_pickup" in offered

    switched = hechi.act(clerk, number, "to_pickup", reason="快递无法下单，申请人同意到窗口领取")
    assert switched.delivery_method == "pickup" and switched.state.value == "completed"
    with pytest.raises(Conflict):  # once is enough
        hechi.act(clerk, number, "to_pickup")
    delivered = hechi.act(clerk, number, "deliver")
    assert delivered.state.value == "delivered" and not post.waybills
    with hechi.session() as s:
        told = s.scalars(
            select(OutboxMessage.template).where(OutboxMessage.case_id == delivered.id)
        ).all()
        actions = s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == delivered.id)).all()
    assert "case_pickup" in told and "case_delivered" in told
    assert [a for a in actions if a in ("to_pickup", "deliver")] == ["to_pickup", "deliver"]


def test_a_result_already_with_the_courier_stays_with_it(hechi: Desk, post: CourierPost) -> None:
    from core.cases.available import available_actions

    configure(hechi, post)
    number = _completed(hechi)
    clerk = hechi.staff("hechi-clerk")
    hechi.act(clerk, number, "deliver")
    with hechi.session() as s:
        offered = [a.code for a in available_actions(s, hechi.tenant, hechi.case(number), clerk)]
    assert "to_pickup" not in offered and "deliver" not in offered
    with pytest.raises(Conflict):
        hechi.act(clerk, number, "to_pickup")
