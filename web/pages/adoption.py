"""认领省级标准事项 (tenant admin): the province's standard catalog beside the county's own list,
filters, a choice of items (or all), the department mapping, a confirm step that says how many
items will be adopted, then the result. Refusals name each item, the choices kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.audit import local_time
from core.catalog.adoption import (
    ADOPTION_STATES,
    AdoptionRow,
    AdoptProblem,
    adopt_standard,
    adoption_result,
    plan_adoption,
    province_departments,
    standard_vs_local,
    suggest_departments,
)
from core.catalog.service import departments as county_departments
from core.errors import NotFound
from core.identity import Principal, Role
from core.tenancy import Tenant
from web.auth import require_staff
from web.flash import with_flash
from web.pages.portal import render
from web.params import POSTED

__all__ = ["AdoptionPages"]

#: posted field names: the department mapping is ``map:<province department code>``
MAP = "map:"
FILTERS = ("department", "category", "state", "q")


@dataclass
class Choices:
    """What the admin chose so far: the filters, the items ticked, 全部, the mapping."""

    filters: dict[str, str]
    selected: set[str]
    everything: bool
    mapping: dict[str, str]

    @property
    def filtered(self) -> bool:
        return any(self.filters.values())

    def hidden(self) -> list[tuple[str, str]]:
        """The choices as hidden inputs, to carry them through the confirm step."""
        fields = [(f"f_{k}", v) for k, v in self.filters.items() if v]
        fields += [("code", c) for c in sorted(self.selected)]
        fields += [(MAP + k, v) for k, v in self.mapping.items()]
        if self.everything:
            fields.append(("all", "1"))
        return fields


def _filters(source: Any, prefix: str = "") -> dict[str, str]:
    return {k: str(source.get(prefix + k) or "").strip()[:100] for k in FILTERS}


def _choices(posted: FormMultiDict) -> Choices:
    return Choices(
        filters=_filters(posted, "f_"),
        selected={str(c) for c in posted.getall("code", []) if c},
        everything=posted.get("all") == "1",
        mapping={
            str(k)[len(MAP) :]: str(v) for k, v in posted.multi_items() if str(k).startswith(MAP)
        },
    )


def _shown(rows: list[AdoptionRow], filters: dict[str, str]) -> list[AdoptionRow]:
    q = filters["q"].lower()

    def keep(r: AdoptionRow) -> bool:
        if filters["department"] and r.province_department != filters["department"]:
            return False
        if filters["category"] and r.category != filters["category"]:
            return False
        if filters["state"] and r.state != filters["state"]:
            return False
        words = (r.standard_code, r.name, r.local_code, r.province_department_name)
        return not q or any(q in w.lower() for w in words)

    return [r for r in rows if keep(r)]


def _codes(rows: list[AdoptionRow], choices: Choices) -> list[str] | None:
    """The codes to adopt: 全部 without a filter is every item not adopted (None); 全部 with a
    filter is those the filter shows; otherwise the ticked ones."""
    if choices.everything:
        if not choices.filtered:
            return None
        return [r.standard_code for r in _shown(rows, choices.filters) if r.state == "not_adopted"]
    return sorted(choices.selected)


def _grouped(problems: list[AdoptProblem]) -> list[tuple[str, list[AdoptProblem]]]:
    """The problems by message: one unmapped department is one line, not one per item."""
    groups: dict[str, list[AdoptProblem]] = {}
    for p in problems:
        groups.setdefault(p.message, []).append(p)
    return list(groups.items())


class AdoptionPages(Controller):
    path = "/t/{slug:str}/admin/catalog/adopt"
    include_in_schema = False

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        tenant: Tenant,
        choices: Choices,
        *,
        problems: list[AdoptProblem] | None = None,
        status_code: int = 200,
    ) -> Template:
        rows = standard_vs_local(db, tenant)
        standard = [r for r in rows if r.standard_code]
        waiting: dict[str, int] = {}
        for r in standard:
            if r.state == "not_adopted":
                waiting[r.province_department] = waiting.get(r.province_department, 0) + 1
        prov = province_departments(db, tenant)
        problems = problems or []
        by_code = {p.code: p.message for p in problems if p.code}
        unmapped = {
            r.province_department
            for r in standard
            if r.standard_code in by_code and not choices.mapping.get(r.province_department)
        }
        return render(
            request,
            db,
            tenant,
            "admin/adoption.html",
            rows=_shown(rows, choices.filters),
            counts={s: sum(1 for r in rows if r.state == s) for s in ADOPTION_STATES},
            total=len(standard),
            states=ADOPTION_STATES,
            province_departments=[
                d for d in prov if any(r.province_department == d.code for r in standard)
            ],
            to_map=[(d, waiting[d.code]) for d in prov if waiting.get(d.code)],
            county_departments=sorted(
                ((c, u.name) for c, u in county_departments(db, tenant).items()),
                key=lambda cu: cu[0],
            ),
            categories=sorted({(r.category, r.category_name) for r in standard}),
            choices=choices,
            problems=problems,
            item_problems=by_code,
            problem_groups=_grouped(problems),
            unmapped=unmapped,
            shown_waiting=sum(1 for r in _shown(rows, choices.filters) if r.state == "not_adopted"),
            msg=request.query_params.get("msg", ""),
            status_code=status_code,
        )

    @get("/", name="catalog_adoption", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        choices = Choices(
            filters=_filters(request.query_params),
            selected=set(),
            everything=False,
            mapping=suggest_departments(db, tenant),
        )
        return self._page(request, db, tenant, choices)

    @post("/edit", name="catalog_adoption_edit", sync_to_thread=True, dependencies=POSTED)
    def edit(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        posted: FormMultiDict,
    ) -> Template:
        """Back from the confirm step to the list, every choice kept."""
        require_staff(principal, Role.tenant_admin)
        return self._page(request, db, tenant, _choices(posted))

    @post("/confirm", name="catalog_adoption_confirm", sync_to_thread=True, dependencies=POSTED)
    def confirm(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        posted: FormMultiDict,
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        choices = _choices(posted)
        rows = standard_vs_local(db, tenant)
        codes = _codes(rows, choices)
        if codes is not None and not codes:
            nothing = AdoptProblem("", "", "请先勾选要认领的事项，或点击“全部认领”")
            return self._page(request, db, tenant, choices, problems=[nothing], status_code=422)
        plan = plan_adoption(db, tenant, codes=codes, departments=choices.mapping)
        if not plan.ok:
            return self._page(request, db, tenant, choices, problems=plan.problems, status_code=422)
        names = {r.standard_code: r for r in rows if r.standard_code}
        mine = {c: u.name for c, u in county_departments(db, tenant).items()}
        prov = {d.code: d.name for d in province_departments(db, tenant)}
        per_department: dict[str, int] = {}
        for _code, target in plan.items:
            per_department[target] = per_department.get(target, 0) + 1
        return render(
            request,
            db,
            tenant,
            "admin/adoption_confirm.html",
            items=[(names[c], mine.get(t, t)) for c, t in plan.items],
            skipped=[names[c] for c in plan.skipped if c in names],
            mapping=[
                (prov.get(p, p), mine.get(c, c), per_department.get(c, 0))
                for p, c in plan.departments.items()
            ],
            hidden=choices.hidden(),
        )

    @post("/", name="catalog_adoption_run", sync_to_thread=True, dependencies=POSTED)
    def run(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        posted: FormMultiDict,
    ) -> Template | Redirect:
        who = require_staff(principal, Role.tenant_admin)
        choices = _choices(posted)
        codes = _codes(standard_vs_local(db, tenant), choices)
        report = adopt_standard(db, tenant, who, codes=codes, departments=choices.mapping)
        if not report.ok:
            db.rollback()
            return self._page(
                request, db, tenant, choices, problems=report.problems, status_code=422
            )
        db.commit()
        base = f"/t/{tenant.slug}/admin/catalog/adopt"
        if report.audit_seq is None:
            return Redirect(with_flash(base + "/", msg="所选事项都已认领，无需再次认领"))
        return Redirect(f"{base}/result/{report.audit_seq}")

    @get("/result/{seq:int}", name="catalog_adoption_result", sync_to_thread=True)
    def result(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        db: Session,
        principal: Principal | None,
        seq: int,
    ) -> Template:
        require_staff(principal, Role.tenant_admin)
        done = adoption_result(db, tenant, seq)
        if done is None:
            raise NotFound("没有这次认领的记录")
        return render(
            request, db, tenant, "admin/adoption_result.html", done=done, when=local_time(done.at)
        )
