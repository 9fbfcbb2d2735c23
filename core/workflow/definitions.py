"""Process definitions as data (办理流程): steps, the role that works each, each step's limit in
working days, the allowed actions, parallel branches that join, forwarding up a level.

A definition is stored per tenant (a province's is its counties' default; a county may
override it by code) and validated whenever it is saved.
"""

from __future__ import annotations

from collections import deque
from typing import Annotated, Any, Literal

import msgspec

from core.errors import InvalidInput

__all__ = ["BUILT_IN", "ProcessDefinition", "Step", "parse_definition", "validate_definition"]

Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
#: Staff roles (core.identity.Role) plus the applicant's own step.
StepRole = Literal[
    "applicant", "window_clerk", "reviewer", "approver", "issuer", "agent", "supervisor"
]
Action = Literal[
    "submit",
    "accept",
    "request_correction",
    "refuse",
    "forward",
    "review",
    "approve",
    "deny",
    "issue",
    "decide",
    "return",
]


class Step(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    role: StepRole
    days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 0
    actions: list[Action]
    #: the steps that follow; several run in parallel and must all finish at a ``join`` step
    next: list[Code] = []
    join: bool = False
    #: where the step is worked: a village station forwards to its township, then the county
    level: Literal["village", "township", "county"] = "county"
    #: the department that works a parallel branch (an org-unit code), if fixed
    department: str | None = None


class ProcessDefinition(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    start: Code
    steps: list[Step]
    #: approval when a step's limit passes unanswered (视为准予); off unless turned on
    deemed_approval: bool = False

    def step(self, code: str) -> Step:
        return next(s for s in self.steps if s.code == code)

    def total_days(self) -> int:
        """The longest path's working days (parallel branches count once)."""
        memo: dict[str, int] = {}

        def longest(code: str) -> int:
            if code not in memo:
                step = self.step(code)
                memo[code] = step.days + max((longest(n) for n in step.next), default=0)
            return memo[code]

        return longest(self.start)

    def layers(self) -> list[list[Step]]:
        """Steps grouped by distance from the start: one column per stage of the chart."""
        depth: dict[str, int] = {self.start: 0}
        queue = deque([self.start])
        while queue:
            code = queue.popleft()
            for nxt in self.step(code).next:
                if depth.get(nxt, -1) < depth[code] + 1:
                    depth[nxt] = depth[code] + 1
                    queue.append(nxt)
        out: list[list[Step]] = [[] for _ in range(max(depth.values()) + 1)]
        for step in self.steps:
            out[depth[step.code]].append(step)
        return out


def validate_definition(definition: ProcessDefinition) -> ProcessDefinition:
    """Refuse duplicate codes, dangling links, cycles, unreachable steps, steps without
    actions, joins without several incoming branches; every refusal names the step."""
    codes = [s.code for s in definition.steps]
    for code in set(codes):
        if codes.count(code) > 1:
            raise InvalidInput(f"step '{code}' is defined twice", field=f"steps.{code}")
    if definition.start not in codes:
        raise InvalidInput(f"start step '{definition.start}' does not exist", field="start")
    incoming: dict[str, int] = dict.fromkeys(codes, 0)
    for step in definition.steps:
        if not step.actions:
            raise InvalidInput(f"step '{step.code}' allows no action", field=f"steps.{step.code}")
        for nxt in step.next:
            if nxt not in incoming:
                raise InvalidInput(
                    f"step '{step.code}' leads to unknown step '{nxt}'",
                    field=f"steps.{step.code}.next",
                )
            incoming[nxt] += 1
    for step in definition.steps:
        if step.join and incoming[step.code] < 2:
            raise InvalidInput(
                f"step '{step.code}' joins fewer than two branches", field=f"steps.{step.code}.join"
            )
    # reachability and cycles, depth first from the start
    state: dict[str, int] = {}

    def visit(code: str) -> None:
        state[code] = 1
        for nxt in definition.step(code).next:
            if state.get(nxt) == 1:
                raise InvalidInput(
                    f"steps '{code}' and '{nxt}' form a cycle", field=f"steps.{code}.next"
                )
            if nxt not in state:
                visit(nxt)
        state[code] = 2

    visit(definition.start)
    unreachable = [c for c in codes if c not in state]
    if unreachable:
        raise InvalidInput(
            f"unreachable steps: {', '.join(unreachable)}", field=f"steps.{unreachable[0]}"
        )
    return definition


def parse_definition(raw: object) -> ProcessDefinition:
    try:
        definition = msgspec.convert(raw, ProcessDefinition)
    except msgspec.ValidationError as exc:
        raise InvalidInput(str(exc), field="definition") from exc
    return validate_definition(definition)


def _d(code: str, name: str, steps: list[dict[str, Any]]) -> ProcessDefinition:
    return parse_definition({"code": code, "name": name, "start": steps[0]["code"], "steps": steps})


def _accept(next_steps: list[str], name: str = "受理", **extra: object) -> dict[str, Any]:
    return {
        "code": "accept",
        "name": name,
        "role": "window_clerk",
        "days": 1,
        "actions": ["accept", "request_correction", "refuse"],
        "next": next_steps,
        **extra,
    }


def _review(
    code: str = "review",
    name: str = "审核",
    days: int = 3,
    next_steps: tuple[str, ...] = ("approve",),
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "role": "reviewer",
        "days": days,
        "actions": ["review", "return"],
        "next": list(next_steps),
    }


def _approve(
    name: str = "审批", days: int = 2, next_steps: tuple[str, ...] = (), **extra: object
) -> dict[str, Any]:
    return {
        "code": "approve",
        "name": name,
        "role": "approver",
        "days": days,
        "actions": ["approve", "deny"],
        "next": list(next_steps),
        **extra,
    }


#: The common shapes every tenant has: 五环节, 三环节, 即办, and two that show branching.
BUILT_IN: dict[str, ProcessDefinition] = {
    d.code: d
    for d in [
        _d(
            "five_post",
            "五环节（申请、受理、审核、审批、发证）",
            [
                {
                    "code": "apply",
                    "name": "申请",
                    "role": "applicant",
                    "actions": ["submit"],
                    "next": ["accept"],
                },
                _accept(["review"]),
                _review(),
                _approve(next_steps=("issue",)),
                {
                    "code": "issue",
                    "name": "发证",
                    "role": "issuer",
                    "days": 1,
                    "actions": ["issue"],
                },
            ],
        ),
        _d("short", "三环节（受理、审核、审批）", [_accept(["review"]), _review(), _approve()]),
        _d(
            "instant",
            "即办（窗口当场办结）",
            [
                {
                    "code": "accept",
                    "name": "受理并办结",
                    "role": "window_clerk",
                    "actions": ["decide", "request_correction", "refuse"],
                },
            ],
        ),
        _d(
            "village_forward",
            "村级代办、乡镇转报、县级审批",
            [
                {
                    "code": "collect",
                    "name": "村级代办",
                    "role": "agent",
                    "level": "village",
                    "days": 1,
                    "actions": ["forward", "request_correction"],
                    "next": ["township"],
                },
                {
                    "code": "township",
                    "name": "乡镇初审",
                    "role": "window_clerk",
                    "level": "township",
                    "days": 2,
                    "actions": ["forward", "request_correction", "refuse"],
                    "next": ["accept"],
                },
                _accept(["approve"], name="县级受理"),
                _approve(days=3),
            ],
        ),
        _d(
            "joint_review",
            "并联审查（多部门同时审查后汇总审批）",
            [
                _accept(["review_a", "review_b"]),
                _review("review_a", "部门甲审查", days=5),
                _review("review_b", "部门乙审查", days=5),
                _approve("汇总审批", join=True),
            ],
        ),
    ]
}
