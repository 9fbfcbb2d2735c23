"""A case's progress as a person reads it (办理进度): what has been done, each with its date;
the step being worked now; the steps still to come.

Told from the case's tasks and trail, so it cannot claim more than happened: a step is done
only when its latest task passed (a 受理 that asked for a correction is not an acceptance), a
step appears once however often it was worked (reopened after a correction or a return), and
steps the case skipped (an applicant's own step, a village or township step of a case that did
not come in there) are not shown at all."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases import clock, engine
from core.cases.action_types import SUSPENSION_KINDS
from core.cases.models import Case, CaseEvent, CaseState, CaseTask, TaskState

__all__ = ["PASSED", "Stage", "correction_request", "timeline"]

#: the outcomes with which a step is done (the others send the case elsewhere)
PASSED = frozenset(
    {"accepted", "decided", "passed", "approved", "issued", "forwarded", "submitted"}
)

_OPEN = (
    CaseState.submitted,
    CaseState.correcting,
    CaseState.in_progress,
    CaseState.suspended,
)


@dataclass(frozen=True)
class Stage:
    """One entry of the timeline: ``state`` is done, current or todo."""

    title: str
    state: str = "done"
    when: str = ""
    text: str = ""


def _day(at: datetime | None) -> str:
    return at.astimezone(clock.TZ).strftime("%Y-%m-%d") if at else ""


def _shown_steps(case: Case) -> list[tuple[str, str]]:
    """(code, name) of the steps a person follows, in process order."""
    definition = engine.definition_of(case)
    return [
        (s.code, s.name)
        for layer in definition.layers()
        for s in layer
        if s.role != "applicant"
        and not (s.level in ("village", "township") and case.origin_unit_id is None)
    ]


def timeline(session: Session, case: Case, *, public: bool = False) -> list[dict[str, str]]:
    """The case's timeline as entries for ``ui.timeline`` (title, state, when, text).

    ``public``: for the progress query, without anybody's words (reasons stay on the case
    page of the applicant)."""
    done: list[tuple[datetime, int, Stage]] = []
    current: list[Stage] = []
    todo: list[Stage] = []

    def past(at: datetime | None, stage: Stage) -> None:
        if at is not None:
            done.append((at, len(done), stage))

    past(case.submitted_at, Stage("提交申请", when=_day(case.submitted_at)))
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .where(
            CaseEvent.action.in_(("request_correction", "correct", "suspend", "resume", "withdraw"))
        )
        .order_by(CaseEvent.seq)
    )
    for e in events:
        words = "" if public else (e.reason or "")
        if e.action == "request_correction":
            past(e.at, Stage("一次性告知补正", when=_day(e.at), text=words))
        elif e.action == "correct":
            past(e.at, Stage("提交补正", when=_day(e.at)))
        elif e.action == "suspend":
            kind = SUSPENSION_KINDS.get(str((e.data or {}).get("kind", "")), "")
            title = f"特殊程序：{kind}（计时暂停）" if kind else "特殊程序（计时暂停）"
            past(e.at, Stage(title, when=_day(e.at)))
        elif e.action == "resume":
            past(e.at, Stage("恢复办理", when=_day(e.at)))
        elif e.action == "withdraw":
            past(e.at, Stage("撤回申请", when=_day(e.at)))

    still_open = case.state in _OPEN
    if case.definition and case.definition.get("steps"):
        latest: dict[str, CaseTask] = {}
        for opened in engine.tasks_of(session, case):  # in the order opened: the last one wins
            latest[opened.step] = opened
        for code, name in _shown_steps(case):
            task = latest.get(code)
            if task is not None and task.state is TaskState.open:
                current.append(Stage(name, "current", task.started_on.isoformat()))
            elif task is not None and task.outcome in PASSED:
                past(task.finished_at, Stage(name, when=_day(task.finished_at)))
            elif task is not None and task.outcome == "refused":
                past(task.finished_at, Stage("不予受理", when=_day(task.finished_at)))
            elif task is not None and task.outcome == "denied":
                past(task.finished_at, Stage(f"{name}：不予批准", when=_day(task.finished_at)))
            elif still_open or case.state is CaseState.draft:
                todo.append(Stage(name, "todo"))

    if case.state is CaseState.draft:
        current.insert(0, Stage("填写并提交申请", "current"))
    elif case.state is CaseState.correcting:
        current.insert(0, Stage("补正材料", "current", text="请按补正告知一次补齐后提交"))
    if still_open or case.state is CaseState.draft:
        todo.append(Stage("办结", "todo"))
    elif case.completed_at is not None:
        verdict = "准予" if case.decision == "approved" else "不予批准"
        past(
            case.completed_at, Stage("办结", when=_day(case.completed_at), text=f"决定：{verdict}")
        )
        if case.delivered_at is not None:
            past(case.delivered_at, Stage("已送达", when=_day(case.delivered_at)))
        elif case.state is CaseState.completed and case.decision == "approved":
            way = "快递送达" if case.delivery_method == "courier" else "窗口领取"
            todo.append(Stage(f"送达（{way}）", "todo"))
    stages = [s for _, _, s in sorted(done, key=lambda x: (x[0], x[1]))] + current + todo
    return [asdict(s) for s in stages]


def correction_request(session: Session, case: Case) -> dict[str, object]:
    """The latest correction notice as the clerk wrote it: the general words (``reason``),
    when (``at``) and who (``by``); empty when none was sent."""
    event = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == "request_correction")
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    if event is None:
        return {}
    return {"reason": event.reason or "", "at": _day(event.at), "by": event.actor_name}
