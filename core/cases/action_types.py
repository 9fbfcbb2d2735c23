"""The words of case actions: state labels, special procedures, the action payload and
which actions act on a step or on the whole case."""

from __future__ import annotations

import msgspec

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
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
#: every action a case's trail records, as staff and applicants read it
ACTION_LABELS = {
    "create": "创建申请",
    "submit": "提交申请",
    "correct": "提交补正",
    "withdraw": "撤回申请",
    "settle": "联办办结",
    "material_uploaded": "上传材料",
    "material_reused": "复用材料",
    "form_corrected": "修改申请表",
    "form_revealed": "查看完整个人信息",
    "applicant_revealed": "查看申请人身份信息",
    "chief_decide": "首席代表即办",
    "accept": "受理",
    "request_correction": "一次性补正告知",
    "refuse": "不予受理",
    "forward": "转报上级",
    "review": "审核通过",
    "return": "退回",
    "approve": "批准",
    "deny": "不予批准",
    "issue": "发证",
    "decide": "当场办结",
    "claim": "认领",
    "comment": "备注",
    "suspend": "启动特殊程序",
    "resume": "结束特殊程序",
    "extend": "延长时限",
    "deliver": "送达",
    "to_pickup": "改为窗口领取",
    "signed": "快递签收",
    "pay": "登记缴费",
    "refund": "退费",
    "rate": "满意度评价",
    "yellow_card": "黄牌预警",
    "red_card": "红牌警告",
    "remind": "督办提醒",
    "note": "督办备注",
    "follow_up_closed": "督办办结",
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
#: chief_decide: a delegated chief representative's 即办 (core/cases/chief.py)
CASE_ACTIONS = {
    "claim",
    "comment",
    "suspend",
    "resume",
    "extend",
    "pay",
    "deliver",
    "to_pickup",
    "chief_decide",
}
ACTIONS = sorted(STEP_ACTIONS | CASE_ACTIONS)
