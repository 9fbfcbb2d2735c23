"""Search synonyms (同义词) and the words search knows, for queries the way people type them.

:data:`SYNONYMS` is the province-wide list: a word a citizen types (医保) and the words the
catalog writes for it (医疗保险). A query containing the word also searches for it replaced by
each of its expansions, and an item matching either is found. A county (or any tenant) adds
its own in its settings, ``search_synonyms = { "低保户" = "最低生活保障" }`` (a string or a list
of strings), in its pack's ``tenant.toml`` under ``[settings]``; its entries extend and override
the province's.

:data:`VOCABULARY` is the short list of words that segmenting a run-together query
(户口迁移市外 → 户口 · 迁移 · 市外) keeps whole; see :func:`core.catalog.search.plan_search`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["FILLER", "SYNONYMS", "VOCABULARY", "synonyms_for"]

SYNONYMS: dict[str, tuple[str, ...]] = {
    "医保": ("医疗保险",),
    "公积金": ("住房公积金",),
    "社保": ("社会保险",),
    "户口": ("户籍",),
    "户籍": ("户口",),  # the catalog names its items 户口迁移, 户口簿补领
    "户口本": ("户口簿",),
    "补办": ("补领",),
    "丢了": ("补领",),
    "丢失": ("补领",),
    "遗失": ("补领",),
    "身份证": ("居民身份证",),
    "低保": ("最低生活保障",),
    "个税": ("个人所得税",),
    "驾照": ("驾驶证",),
    "房产证": ("不动产权证书", "不动产"),
    "房本": ("不动产",),
    "结婚证": ("婚姻登记",),
    "结婚": ("婚姻登记",),
    "离婚": ("婚姻登记",),
    "生孩子": ("出生",),
    "二孩": ("再生育",),
    "二胎": ("再生育",),
    "上户口": ("落户",),
    "开公司": ("企业设立",),
    # the licence is issued by registering a business, not by an item named after it
    "营业执照": ("企业设立", "个体工商户"),
    "办执照": ("营业执照", "企业设立", "个体工商户"),
    "执照": ("营业执照", "企业设立", "个体工商户"),
    "开店": ("个体工商户",),
    "开餐馆": ("食品经营",),
    "开饭店": ("食品经营",),
    "餐馆": ("食品经营",),
    "饭店": ("食品经营",),
    "失业金": ("失业保险金",),
    "养老金": ("养老保险",),
    "退休": ("养老",),
    "残疾证": ("残疾人",),
    "环评": ("环境影响评价",),
    "刻章": ("公章刻制",),
    "盖房": ("建房",),
    "建房子": ("建房",),
    "诊所": ("医疗机构",),
}

#: Words that say nothing about the item (我要…, 怎么…): left out when a query is segmented.
FILLER = (
    "我要",
    "我想",
    "想要",
    "如何",
    "怎么",
    "怎样",
    "哪里",
    "在哪",
    "需要",
    "什么",
    "办理",
    "申请",
    "手续",
    "流程",
    "一下",
    "我要办",
)

#: Words of the catalog kept whole when a run-together query is segmented.
VOCABULARY = frozenset(
    {
        *SYNONYMS,
        *(word for words in SYNONYMS.values() for word in words),
        *[
            "户口",
            "户籍",
            "迁移",
            "迁出",
            "迁入",
            "落户",
            "补领",
            "换领",
            "申领",
            "登记",
            "注销",
            "变更",
            "证明",
            "许可",
            "备案",
            "审批",
            "核准",
            "验收",
            "社保",
            "医保",
            "公积金",
            "提取",
            "养老",
            "失业",
            "就业",
            "创业",
            "生育",
            "出生",
            "死亡",
            "殡葬",
            "结婚",
            "离婚",
            "婚姻",
            "收养",
            "身份证",
            "居住证",
            "驾驶证",
            "营业执照",
            "企业",
            "个体",
            "工商",
            "税务",
            "发票",
            "不动产",
            "房产",
            "住房",
            "租房",
            "残疾",
            "低保",
            "救助",
            "补贴",
            "津贴",
            "高龄",
            "老年",
            "入学",
            "学校",
            "教育",
            "培训",
            "医疗",
            "卫生",
            "食品",
            "药品",
            "施工",
            "规划",
            "用地",
            "宅基地",
            "建房",
            "环评",
            "消防",
            "特种设备",
            "社会团体",
            "市外",
            "省外",
            "县外",
            "本市",
            "首次",
            "新生儿",
        ],
    }
)


def synonyms_for(settings: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """The province-wide list with a tenant's own ``search_synonyms`` over it."""
    extra = (settings or {}).get("search_synonyms") or {}
    merged = dict(SYNONYMS)
    if isinstance(extra, Mapping):
        for word, expansions in extra.items():
            values = [expansions] if isinstance(expansions, str) else expansions
            if isinstance(word, str) and word.strip() and isinstance(values, list | tuple):
                kept = tuple(v.strip() for v in values if isinstance(v, str) and v.strip())
                if kept:
                    merged[word.strip()] = kept
    return merged
