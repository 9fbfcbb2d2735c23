"""One answer where one is meant, and plugins that apply to some tenants only.

First-result hooks (a courier booking, a payment order, …) ask the tenant's plugins in order
of their priority until one answers: two couriers enabled book one waybill, two payment
plugins open one order; the first raising is recorded and the next answers. A plugin naming
the tenants it applies to is neither listed nor enabled, nor called, anywhere else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from core.db import Database
from core.errors import InvalidInput, NotFound
from core.plugins import PluginManager, PluginMeta, get_plugin_manager, hookimpl
from core.plugins.manager import FIRST_RESULT
from core.tenancy import scope_for
from tests.cases.conftest import Desk
from tests.cases.test_payments import _fee_item
from tests.helpers import account_token, bearer, tenant

ZHANG = "13800000001"
ADDRESS = "广西河池市金城江区新建路 18 号"


#: the test plugins' names as a county admin would read them (the pages and the audit log
#: of the shared demo database show them to later tests' page walks)
TITLES = {
    "courier_slow": "慢递快运",
    "courier_fast": "快捷快运",
    "pay_low": "乙支付",
    "pay_high": "甲支付",
}


class Ranked(msgspec.Struct):
    priority: int = 0


class Courier:
    """A courier that books every shipment offered to it (and remembers each booking)."""

    def __init__(self, name: str, *, fails: bool = False) -> None:
        self.meta = PluginMeta(name=name, version="1.0", title=TITLES[name], config=Ranked)
        self.fails = fails
        self.booked: list[str] = []

    @hookimpl
    def create_shipment(self, tenant, config, shipment: dict[str, Any]) -> dict[str, Any]:
        if self.fails:
            raise RuntimeError(f"{self.meta.title}暂停服务")
        self.booked.append(shipment["reference"])
        return {
            "carrier": self.meta.title,
            "tracking_number": f"{self.meta.name}-{len(self.booked)}",
        }


class Payer:
    """A payment provider that opens an order for every payment offered to it."""

    def __init__(self, name: str, priority: int) -> None:
        self.meta = PluginMeta(name=name, version="1.0", title=TITLES[name], priority=priority)
        self.orders: list[str] = []

    @hookimpl
    def create_payment(self, tenant, config, payment: dict[str, Any]) -> dict[str, Any]:
        self.orders.append(payment["reference"])
        return {"provider": self.meta.name, "pay_url": f"https://{self.meta.name}.test/pay"}


@pytest.fixture
def hechi(db: Database) -> Desk:
    return Desk(db, "hechi")


def _enable(desk: Desk, plugins: dict[str, dict[str, Any] | None], on: bool = True) -> None:
    with desk.session() as s:
        for name, config in plugins.items():
            get_plugin_manager().set_enabled(s, desk.tenant, name, on, config)
        s.commit()


@pytest.fixture
def couriers(hechi: Desk) -> Iterator[tuple[Courier, Courier]]:
    manager = get_plugin_manager()
    slow, fast = Courier("courier_slow"), Courier("courier_fast")
    for plugin in (slow, fast):
        manager.register(plugin)
    try:
        _enable(hechi, {"courier_slow": {"priority": 1}, "courier_fast": {"priority": 5}})
        yield slow, fast
    finally:
        _enable(hechi, {"courier_slow": {}, "courier_fast": {}}, on=False)
        for plugin in (slow, fast):
            manager.unregister(plugin.meta.name)


def _completed(hechi: Desk) -> str:
    number = hechi.apply(hechi.citizen(ZHANG), "HC-SC03", delivery="courier", address=ADDRESS)
    for who, action in (
        ("hechi-clerk", "accept"),
        ("hechi-reviewer", "review"),
        ("hechi-approver", "approve"),
        ("hechi-issuer", "issue"),
    ):
        hechi.act(hechi.staff(who), number, action)
    return number


def test_two_couriers_enabled_book_exactly_one_waybill(
    hechi: Desk, couriers: tuple[Courier, Courier]
) -> None:
    slow, fast = couriers
    number = _completed(hechi)
    shipped = hechi.act(hechi.staff("hechi-clerk"), number, "deliver")
    assert shipped.tracking["carrier"] == "快捷快运"  # the higher priority answers
    assert fast.booked == [number] and slow.booked == []  # one booking, not two

    # the county reorders them: its config's priority decides
    _enable(hechi, {"courier_slow": {"priority": 9}})
    with hechi.session() as s:
        hooks = get_plugin_manager().for_tenant(s, hechi.tenant)
        assert hooks.order("create_shipment")[:2] == ["courier_slow", "courier_fast"]
        answer = hooks.first("create_shipment", shipment={"reference": "X-1"})
    assert answer["carrier"] == "慢递快运" and fast.booked == [number]


def test_the_first_raising_is_recorded_and_the_next_answers(
    hechi: Desk, couriers: tuple[Courier, Courier]
) -> None:
    slow, fast = couriers
    fast.fails = True
    manager = get_plugin_manager()
    with hechi.session() as s:
        before = len(manager.recent_errors(s, hechi.tenant, limit=1000))
        answer = manager.for_tenant(s, hechi.tenant).first(
            "create_shipment", shipment={"reference": "X-2"}
        )
    assert answer == {"carrier": "慢递快运", "tracking_number": "courier_slow-1"}
    with hechi.session() as s:
        errors = manager.recent_errors(s, hechi.tenant, limit=1000)
    assert len(errors) == before + 1
    assert (errors[0].plugin, errors[0].hook) == ("courier_fast", "create_shipment")
    assert "快捷快运暂停服务" in errors[0].message


def test_two_payment_plugins_open_exactly_one_order(
    hechi: Desk, client: TestClient, db: Database
) -> None:
    manager = get_plugin_manager()
    low, high = Payer("pay_low", priority=1), Payer("pay_high", priority=7)
    number = hechi.apply(hechi.citizen(ZHANG), _fee_item(hechi))
    hechi.act(hechi.staff("hechi-clerk"), number, "accept")
    for plugin in (low, high):
        manager.register(plugin)
    try:
        _enable(hechi, {"pay_low": None, "pay_high": None})
        started = client.post(
            f"/api/v1/t/hechi/cases/{number}/payment",
            headers=bearer(account_token(db, "hechi", ZHANG)),
        )
        assert started.status_code == 200, started.text
        assert started.json()["provider"] == "pay_high"
        assert high.orders == [number] and low.orders == []
    finally:
        _enable(hechi, {"pay_low": None, "pay_high": None}, on=False)
        for plugin in (low, high):
            manager.unregister(plugin.meta.name)


def test_first_result_and_collecting_hooks_are_not_mixed_up(db: Database) -> None:
    hechi = tenant(db, "hechi")
    with db.session(scope=scope_for(hechi)) as s:
        hooks = get_plugin_manager().for_tenant(s, hechi)
        with pytest.raises(TypeError, match="first"):
            hooks.call("create_payment", payment={})
        with pytest.raises(TypeError, match="collecting"):
            hooks.first("register_items")
        assert hooks.first("department_of_client", client_id="nobody") is None
    assert {"create_shipment", "track_shipment", "create_payment", "confirm_payment"} <= (
        FIRST_RESULT
    )


# -- applicability ---------------------------------------------------------------------------


def test_a_local_plugin_is_neither_listed_nor_enabled_elsewhere(db: Database) -> None:
    manager = get_plugin_manager()
    hechi, suning = tenant(db, "hechi"), tenant(db, "suning")
    assert manager.meta("local_suning").applies_to == ("suning",)
    with db.session(scope=scope_for(hechi)) as s:
        states = manager.states(s, hechi)
        assert "local_suning" not in states and "sms_console" in states
        with pytest.raises(NotFound):
            states["local_suning"]
        with pytest.raises(InvalidInput, match="不适用于"):
            manager.set_enabled(s, hechi, "local_suning", True)
        s.rollback()
    with db.session(scope=scope_for(suning)) as s:
        assert "local_suning" in manager.states(s, suning)


def test_plugins_list_for_a_tenant_leaves_out_other_counties_plugins(db: Database) -> None:
    from web.cli import main

    runner = CliRunner()

    def names(*args: str) -> list[str]:
        result = runner.invoke(main, ["plugins", "list", "--json", *args])
        assert result.exit_code == 0, result.output
        return [p["name"] for p in json.loads(result.output)]

    assert "local_suning" not in names("--tenant", "hechi")
    assert "local_suning" in names("--tenant", "suning")
    assert "local_suning" in names()  # installed: the whole list names it
    refused = runner.invoke(main, ["plugins", "enable", "--tenant", "hechi", "local_suning"])
    assert refused.exit_code != 0 and "不适用于" in refused.output


def test_a_plugin_for_a_kind_of_tenant_is_called_only_there(db: Database) -> None:
    manager: PluginManager = get_plugin_manager()

    class ProvinceOnly:
        meta = PluginMeta(
            name="province_only",
            version="1.0",
            title="省级专用",
            applies_to=["province"],  # type: ignore[arg-type]  # a list is taken as meant
            default_enabled=True,
        )

        @hookimpl
        def extra_template_vars(self, tenant, template):
            return {"province_only": tenant.slug}

    manager.register(ProvinceOnly())
    try:
        guangxi, hechi = tenant(db, "guangxi"), tenant(db, "hechi")
        with db.session(scope=scope_for(guangxi)) as s:
            there = manager.for_tenant(s, guangxi).call("extra_template_vars", template="x")
        with db.session(scope=scope_for(hechi)) as s:
            here = manager.for_tenant(s, hechi).call("extra_template_vars", template="x")
        assert {"province_only": "guangxi"} in there
        assert all("province_only" not in v for v in here)
    finally:
        manager.unregister("province_only")


def test_another_countys_plugin_page_is_not_found(app) -> None:
    from tests.plugins.test_sms_vendors import _login

    with TestClient(app=app, base_url="http://testserver.local") as admin:
        token = _login(admin, "hechi-admin")
        assert admin.get("/t/hechi/admin/plugins/local_suning").status_code == 404
        turned_on = admin.post(
            "/t/hechi/admin/plugins/local_suning", data={"_csrf_token": token, "enabled": "on"}
        )
        assert turned_on.status_code == 422  # refused, in Chinese
        assert admin.get("/t/hechi/admin/plugins/sms_console").status_code == 200
