"""The words of case actions: state labels, special procedures, the action payload and
which actions act on a step or on the whole case."""

from __future__ import annotations

import msgspec

__all__ = [
    "ACTIONS",
    "CASE_ACTIONS",
    "REMEDY",
    "STATE_LABELS",
    "STEP_ACTIONS",
    "SUSPENSION_KINDS",
    "ActionIn",
    "MaterialIssue",
]

STATE_LABELS = {
    "draft": "草稿",
    "submitted": "待受理",
    "correcting": "待补正",
    "in_progress": "办理中",
    "suspended": "特殊程序（计时暂停）",
    "refused": "不予受理",
    "completed": "已办结",
    "delivered": "已送达",
    "withdrawn": "已撤回",
}
SUSPENSION_KINDS = {
    "hearing": "听证",
    "inspection": "现场检测",
    "expert_review": "专家评审",
    "public_notice": "公示",
}
REMEDY = (
    "如对本决定不服，可自收到本通知之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。"
)


class MaterialIssue(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    index: int
    reason: str


class FieldIssue(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A field of the application form the applicant must correct, and what is wrong."""

    key: str
    reason: str


class ActionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: str
    #: the task (step) acted on; needed only when the actor could work several at once
    task: str | None = None
    reason: str = ""
    materials: list[MaterialIssue] = []
    fields: list[FieldIssue] = []
    kind: str | None = None
    days: int | None = None
    amount: str | None = None
    reference: str = ""


STEP_ACTIONS = {
    "accept",
    "request_correction",
    "refuse",
    "forward",
    "review",
    "return",
    "approve",
    "deny",
    "issue",
    "decide",
}
CASE_ACTIONS = {"claim", "comment", "suspend", "resume", "extend", "pay", "deliver"}
ACTIONS = sorted(STEP_ACTIONS | CASE_ACTIONS)
