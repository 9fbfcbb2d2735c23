"""Ratings by SMS reply through the vendor's webhook: "95" becomes the case's rating; "abc",
"101", "-5", "好", an empty text, a stranger's phone or a repeat are stored with the reason
and rate nothing; a score below 60 opens a follow-up for the supervisors. And the outbox
survives Redis going away: nothing lost, nothing sent twice."""

from __future__ import annotations

import json
from typing import Any

import dramatiq
import pytest
from dramatiq import Worker
from sqlalchemy import select

from core.cases import clock
from core.notify.outbox import OutboxMessage, set_dispatcher
from core.plugins import get_plugin_manager
from core.supervision.dashboard import Filters, report
from core.supervision.models import FollowUp, InboundSms
from core.supervision.ratings import parse_score
from tests.cases.conftest import Desk
from tests.servers import RedisServer
from workers.broker import make_broker

#: dramatiq.actor, as a plain callable (its overloads do not cover a broker of our own)
make_actor: Any = dramatiq.actor
ZHANG, LI = "13800000001", "13800000008"
TOKEN = "console-webhook-secret"


@pytest.fixture
def webhook(hechi: Desk):
    manager = get_plugin_manager()
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "sms_console", True, {"webhook_token": TOKEN})
        s.commit()
    yield
    with hechi.session() as s:
        manager.set_enabled(s, hechi.tenant, "sms_console", True, {})
        s.commit()


def _finished(hechi: Desk, phone: str) -> str:
    number = hechi.apply(hechi.citizen(phone), "HC-SB05")  # 即办: decided at the counter
    hechi.act(hechi.staff("hechi-clerk"), number, "decide")
    return number


def _reply(client, messages, token: str = TOKEN):
    return client.post(
        "/api/v1/t/hechi/sms/console/inbound",
        content=json.dumps(messages),
        headers={"x-console-token": token, "content-type": "application/json"},
    )


@pytest.mark.parametrize(
    ("text", "score"),
    [("95", 95), ("９５", 95), (" 100 ", 100), ("0", 0), ("60分", 60)]
    + [("100 谢谢", 100), ("95分，谢谢", 95), ("９０分！", 90), ("80，态度很好", 80)]
    + [(bad, None) for bad in ("好", "101", "-5", "", "abc", "9 5", "95.5", "满意100", "1000")],
)
def test_what_counts_as_a_score(text: str, score: int | None) -> None:
    assert parse_score(text) == score


def test_a_reply_of_95_rates_the_case_and_abc_does_not(hechi: Desk, client, webhook) -> None:
    number = _finished(hechi, ZHANG)
    case = hechi.case(number)
    with hechi.session() as s:
        asked = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "rating_request"
            )
        ).one()
    assert asked.phone == ZHANG

    def rated_this_month() -> int:
        with hechi.session() as s:
            today = clock.today()
            f = Filters(today.replace(day=1), today)
            return report(s, hechi.tenant, f, "department").total.counts["rated"]

    before = rated_this_month()
    # forged (no token): refused, nothing stored
    assert _reply(client, [{"id": "r0", "phone": ZHANG, "text": "0"}], token="x").status_code == 403
    bad = _reply(client, [{"id": "r1", "phone": ZHANG, "text": "abc"}])
    assert bad.status_code == 200 and bad.json()[0]["outcome"] == "ignored"
    assert hechi.case(number).rating is None
    assert rated_this_month() == before  # "abc" does not move the dashboard
    good = _reply(client, [{"id": "r2", "phone": ZHANG, "text": "95"}])
    assert good.status_code == 200
    assert good.json()[0]["outcome"] == "rated" and number in good.json()[0]["reason"]
    rated = hechi.case(number)
    assert (rated.rating, rated.rating_channel) == (95, "sms")
    assert rated_this_month() == before + 1  # "95" does
    # the vendor retries the same message: nothing changes; a second score changes nothing
    again = _reply(client, [{"id": "r2", "phone": ZHANG, "text": "95"}])
    assert again.json()[0]["duplicate"] is True
    later = _reply(client, [{"id": "r3", "phone": ZHANG, "text": "10"}])
    assert later.json()[0]["outcome"] == "ignored"
    # a stranger's phone rates nothing
    stranger = _reply(client, [{"id": "r4", "phone": "13912345678", "text": "80"}])
    assert stranger.json()[0]["reason"] == "没有待评价的办件"
    with hechi.session() as s:
        stored = {
            m.vendor_ref: (m.outcome, m.reason)
            for m in s.scalars(
                select(InboundSms).where(InboundSms.vendor_ref.in_(["r1", "r2", "r3", "r4"]))
            )
        }
    assert stored["r1"] == ("ignored", "不是 0 到 100 之间的数字")
    assert stored["r2"][0] == "rated" and stored["r3"][0] == "ignored"
    assert len(stored) == 4  # every message kept once, with what we made of it
    # the case's rating shows to the applicant
    assert hechi.case(number).rating == 95


@pytest.mark.parametrize("written", ["+86" + LI, "86" + LI, "+86 138-0000-0008"])
def test_a_reply_from_an_international_number_rates_the_case(
    hechi: Desk,
    client,
    webhook,
    written: str,
) -> None:
    number = _finished(hechi, LI)
    reply = _reply(client, [{"id": f"intl-{number}", "phone": written, "text": "88 谢谢"}])
    assert reply.json()[0]["outcome"] == "rated", reply.json()
    case = hechi.case(number)
    assert (case.rating, case.rating_comment) == (88, "谢谢")
    with hechi.session() as s:
        stored = s.scalars(select(InboundSms).where(InboundSms.vendor_ref == f"intl-{number}"))
        assert stored.one().phone == LI  # kept as the one number it is, however it came
        thanks = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "rating_thanks"
            )
        ).all()
    assert [m.phone for m in thanks] == [LI]  # the citizen hears back


def test_a_low_score_opens_a_follow_up_for_the_supervisors(hechi: Desk, client, webhook) -> None:
    number = _finished(hechi, LI)
    assert (
        _reply(client, [{"id": "low-1", "phone": LI, "text": "30"}]).json()[0]["outcome"] == "rated"
    )
    case = hechi.case(number)
    with hechi.session() as s:
        follow = s.scalars(select(FollowUp).where(FollowUp.case_id == case.id)).one()
        told = s.scalars(
            select(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "follow_up"
            )
        ).all()
    assert (follow.kind, follow.score, follow.state) == ("low_rating", 30, "open")
    with hechi.session() as s:
        sorry = s.scalars(
            select(OutboxMessage.template).where(
                OutboxMessage.case_id == case.id, OutboxMessage.phone.is_not(None)
            )
        ).all()
    assert "rating_thanks_low" in sorry and "rating_thanks" not in sorry
    assert [m.phone for m in told] == ["13800000141"]  # 杨效能监察员


def test_with_redis_down_cases_flow_and_every_message_goes_out_once_it_returns(
    hechi: Desk, sms_outbox
) -> None:
    from workers.actors import relay_message, relay_pending

    redis = RedisServer().start()
    redis_broker = make_broker(redis.url)
    relay = make_actor(
        relay_message.fn,
        broker=redis_broker,
        actor_name="relay_message",
        queue_name="notify",
        max_retries=0,
    )
    pending = make_actor(
        relay_pending.fn,
        broker=redis_broker,
        actor_name="relay_pending",
        queue_name="notify",
        max_retries=0,
    )

    def dispatch(ids: list[Any]) -> None:
        for i in ids:
            relay.send(str(i))

    set_dispatcher(dispatch)
    try:
        redis.stop()
        number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")  # accepted while Redis is down
        case = hechi.case(number)
        assert case.state.value == "submitted"
        with hechi.session() as s:
            row = s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id == case.id, OutboxMessage.template == "case_received"
                )
            ).one()
            told = s.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.case_id == case.id, OutboxMessage.template == "task_assigned"
                )
            ).all()
        assert row.state == "created" and told  # the clerk hears of it too, in the same commit
        assert not sms_outbox.exists() or str(row.id) not in sms_outbox.read_text()

        redis.start()  # back on the same port
        worker = Worker(redis_broker, worker_timeout=100)
        worker.start()
        try:
            pending.send()  # what the scheduler sends every minute
            pending.send()
            relay.send(str(row.id))  # a late trigger from before the outage
            redis_broker.join("notify", timeout=20_000)
            worker.join()
        finally:
            worker.stop()
        with hechi.session() as s:
            sent = s.get(OutboxMessage, (hechi.tenant.id, row.id))
        assert sent.state == "sent"
        lines = [json.loads(x) for x in sms_outbox.read_text(encoding="utf-8").splitlines()]
        assert [m["id"] for m in lines].count(str(row.id)) == 1
    finally:
        from workers.actors import _dispatch

        set_dispatcher(_dispatch)
        redis_broker.close()
        redis.stop()


def test_delivery_receipts_move_sent_to_delivered_and_ignore_the_rest(
    hechi: Desk, client, webhook
) -> None:
    from core.db import PLATFORM
    from core.notify.relay import deliver

    number = hechi.apply(hechi.citizen(ZHANG), "HC-SB04")
    case = hechi.case(number)
    with hechi.session() as s:
        message_id = s.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.case_id == case.id, OutboxMessage.template == "case_received"
            )
        ).one()
    with hechi.db.session(scope=PLATFORM) as s:
        assert deliver(s, message_id) == "sent"
        s.commit()
    url = "/api/v1/t/hechi/sms/console/receipts"
    headers = {"x-console-token": TOKEN, "content-type": "application/json"}
    body = [{"id": str(message_id), "status": "DELIVRD"}, {"id": "not-ours", "status": "DELIVRD"}]
    first = client.post(url, content=json.dumps(body), headers=headers)
    assert first.status_code == 200 and first.json() == {"ok": True, "applied": 1, "ignored": 1}
    # a late UNDELIV for a row already final changes nothing
    late = [{"id": str(message_id), "status": "UNDELIV", "error": "空号"}]
    assert client.post(url, content=json.dumps(late), headers=headers).json()["ignored"] == 1
    with hechi.session() as s:
        row = s.get(OutboxMessage, (hechi.tenant.id, message_id))
    assert row.state == "delivered" and row.delivered_at is not None
    broken = client.post(url, content=b"{not json", headers=headers)
    assert broken.status_code == 422 and broken.json()["field"] == "body"
    assert (
        client.post(url, content=json.dumps(body), headers={"x-console-token": "x"}).status_code
        == 403
    )


def test_the_words_after_a_score_are_kept_as_the_comment() -> None:
    from core.supervision.ratings import read_reply

    assert read_reply("95分，谢谢") == (95, "谢谢")
    assert read_reply("100 窗口很耐心。") == (100, "窗口很耐心")
    assert read_reply("60") == (60, "")
    assert read_reply("好评") == (None, "")
