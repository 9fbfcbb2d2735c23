"""Chinese search without a server-side tokenizer: a unigram + bigram index, the same on
SQLite and PostgreSQL. A query matches items holding every one of its terms, so 社保 finds
社保卡申领 and 户口 finds 户口迁移, while punctuation alone finds nothing (and is no error).

A query is also tried with its synonyms (医保 → 医疗保险, core/catalog/synonyms.py); when none of
that finds anything, it is segmented (户口迁移市外 → 户口 · 迁移 · 市外) and an item holding
every segment is found — see :func:`plan_search`."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, union, update
from sqlalchemy.orm import Session

from core.catalog.models import ItemTerm
from core.catalog.synonyms import FILLER, SYNONYMS, VOCABULARY

__all__ = [
    "SearchPlan",
    "index_item",
    "levels_text",
    "matching_codes",
    "plan_search",
    "posting_columns",
    "query_terms",
    "search_item_ids",
    "segment",
    "set_posting_status",
    "terms_of",
]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_TERMS = 24
#: Queries tried for one search at most (the query and its synonym variants).
MAX_VARIANTS = 6


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def terms_of(texts: Iterable[str]) -> set[str]:
    """Every unigram and bigram of each CJK run, and every ASCII word."""
    terms: set[str] = set()
    for text in texts:
        text = _normalise(text)
        for run in _CJK.findall(text):
            terms.update(run)
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
        terms.update(w[:32] for w in _WORD.findall(text))
    return terms


def query_terms(query: str) -> list[str]:
    """The terms a query must all match: bigrams of CJK runs (a lone character as itself)."""
    query = _normalise(query)
    out: list[str] = []
    for run in _CJK.findall(query):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    out.extend(w[:32] for w in _WORD.findall(query))
    return list(dict.fromkeys(out))[:MAX_QUERY_TERMS]


def levels_text(levels: Iterable[str]) -> str:
    """An item's levels as its postings keep them: `` county township `` (LIKE '% county %')."""
    return " " + " ".join(levels) + " "


def posting_columns(
    code: str, status: str, effective: Mapping[str, Any], audience: str
) -> dict[str, str]:
    """What each posting of an item carries besides its term: the columns a result list
    filters and sorts on, equal to the item's own (``audience`` as the items table keeps it)."""
    return {
        "code": code,
        "status": status,
        "department_code": str(effective.get("department", "")),
        "category": str(effective.get("category", "")),
        "audience": audience,
        "levels": levels_text(effective.get("levels") or ()),
    }


def index_item(
    session: Session,
    tenant_id: uuid.UUID,
    item_id: uuid.UUID,
    texts: Iterable[str],
    columns: Mapping[str, str],
) -> None:
    """Replace the item's postings: one per term of ``texts``, each carrying ``columns``
    (:func:`posting_columns`)."""
    session.execute(
        delete(ItemTerm).where(ItemTerm.tenant_id == tenant_id, ItemTerm.item_id == item_id)
    )
    rows = [
        {"tenant_id": tenant_id, "term": t, "item_id": item_id, **columns} for t in terms_of(texts)
    ]
    if rows:
        session.execute(insert(ItemTerm), rows)


def set_posting_status(
    session: Session, tenant_id: uuid.UUID, item_id: uuid.UUID, status: str
) -> None:
    """An item's status changed (取消, 下放 … or restored): its postings follow."""
    session.execute(
        update(ItemTerm)
        .where(ItemTerm.tenant_id == tenant_id, ItemTerm.item_id == item_id)
        .values(status=status)
    )


@dataclass(frozen=True)
class SearchPlan:
    """What a query is searched for: each of ``alternatives`` is a list of terms an item must
    all hold (the query's own first, then its synonym variants); ``relaxed`` the same for the
    query segmented into words, tried only when the alternatives find nothing."""

    alternatives: tuple[tuple[str, ...], ...]
    relaxed: tuple[tuple[str, ...], ...] = ()
    #: (word typed, word also searched), for the page to say what was tried
    synonyms: tuple[tuple[str, str], ...] = ()
    #: the segments of the relaxed search, as shown (户口 · 迁移 · 市外)
    segments: tuple[str, ...] = field(default=())


def _variants(
    query: str, synonyms: Mapping[str, tuple[str, ...]]
) -> tuple[list[str], list[tuple[str, str]]]:
    """The query, then the query with each synonym replaced (longest words first)."""
    found: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    for word in sorted(synonyms, key=len, reverse=True):
        start = query.find(word)
        while start >= 0:
            end = start + len(word)
            if not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                for expansion in synonyms[word]:
                    # 住房公积金 holds 公积金: it needs no 住房住房公积金
                    if expansion not in query and (word, expansion) not in found:
                        found.append((word, expansion))
            start = query.find(word, end)
    variants = [query]
    for word, expansion in found:
        variants.append(query.replace(word, expansion))
    if len({w for w, _ in found}) > 1:  # every word replaced at once, too
        whole = query
        for word, expansion in dict(found).items():
            whole = whole.replace(word, expansion)
        variants.append(whole)
    return list(dict.fromkeys(variants))[:MAX_VARIANTS], found


def segment(run: str) -> list[str]:
    """A run of Chinese split into words: known words (:data:`VOCABULARY`) whole and the
    longest first, filler (我要, 办理) left out, and anything else in two-character pieces —
    the terms the index holds. A character standing before a known word stands alone."""
    words: list[str] = []
    i = 0
    while i < len(run):
        filler = next((f for f in FILLER if run.startswith(f, i)), None)
        if filler:
            i += len(filler)
            continue
        known = max((w for w in VOCABULARY if run.startswith(w, i)), key=len, default=None)
        if known:
            words.append(known)
            i += len(known)
            continue
        if i + 1 < len(run) and _known_at(run, i + 1):
            words.append(run[i])
            i += 1
            continue
        words.append(run[i : i + 2])
        i += 2
    return words


def _known_at(run: str, i: int) -> bool:
    return any(run.startswith(w, i) for w in VOCABULARY) or any(
        run.startswith(f, i) for f in FILLER
    )


def _segment_terms(query: str) -> tuple[list[str], list[str]]:
    """(terms, segments) of a query segmented into words."""
    query = _normalise(query)
    terms: list[str] = []
    segments: list[str] = []
    for run in _CJK.findall(query):
        for word in segment(run):
            segments.append(word)
            terms.extend(query_terms(word))
    for w in _WORD.findall(query):
        segments.append(w[:32])
        terms.append(w[:32])
    return list(dict.fromkeys(terms))[:MAX_QUERY_TERMS], segments


def plan_search(
    query: str, synonyms: Mapping[str, tuple[str, ...]] | None = None
) -> SearchPlan | None:
    """How ``query`` is searched (None: it has no terms — punctuation alone)."""
    table = SYNONYMS if synonyms is None else synonyms
    normalised = _normalise(query).strip()
    variants, found = _variants(normalised, table)
    alternatives = [tuple(query_terms(v)) for v in variants]
    alternatives = [a for a in dict.fromkeys(alternatives) if a]
    if not alternatives:
        return None
    relaxed: list[tuple[str, ...]] = []
    segments: list[str] = []
    for variant in variants:
        terms, words = _segment_terms(variant)
        if terms and tuple(terms) not in alternatives:
            relaxed.append(tuple(terms))
            if not segments:
                segments = words
    return SearchPlan(
        alternatives=tuple(alternatives),
        relaxed=tuple(dict.fromkeys(relaxed)),
        synonyms=tuple(found),
        segments=tuple(segments) if relaxed else (),
    )


def _holding_all(tenant_id: uuid.UUID, terms: tuple[str, ...]) -> Select[Any]:
    return (
        select(ItemTerm.item_id)
        .where(ItemTerm.tenant_id == tenant_id, ItemTerm.term.in_(terms))
        .group_by(ItemTerm.item_id)
        .having(func.count(ItemTerm.term) == len(terms))
    )


def matching_ids(tenant_id: uuid.UUID, alternatives: tuple[tuple[str, ...], ...]) -> Select[Any]:
    """The ids of items holding every term of any one of ``alternatives``."""
    if len(alternatives) == 1:  # the common case keeps its one plain statement
        return _holding_all(tenant_id, alternatives[0])
    either = union(*(_holding_all(tenant_id, a) for a in alternatives)).subquery()
    return select(either.c.item_id)


def _codes_holding_all(
    tenant_id: uuid.UUID, terms: tuple[str, ...], where: tuple[Any, ...]
) -> Select[Any]:
    stmt = select(ItemTerm.code).where(ItemTerm.tenant_id == tenant_id, *where)
    if len(terms) == 1:  # one range read of the search index, in code order
        return stmt.where(ItemTerm.term == terms[0])
    return (
        stmt.where(ItemTerm.term.in_(terms))
        .group_by(ItemTerm.code)
        .having(func.count(ItemTerm.term) == len(terms))
    )


def matching_codes(
    tenant_id: uuid.UUID, alternatives: tuple[tuple[str, ...], ...], where: tuple[Any, ...] = ()
) -> Select[Any]:
    """The codes of items holding every term of any one of ``alternatives`` and meeting
    ``where`` (conditions on :class:`ItemTerm`'s listing columns), read from the postings
    alone: no item row is read for a match."""
    if len(alternatives) == 1:
        return _codes_holding_all(tenant_id, alternatives[0], where)
    either = union(*(_codes_holding_all(tenant_id, a, where) for a in alternatives)).subquery()
    return select(either.c.code)


def search_item_ids(
    session: Session,
    tenant_id: uuid.UUID,
    query: str,
    synonyms: Mapping[str, tuple[str, ...]] | None = None,
) -> Select[Any] | None:
    """A subquery of the ids of items matching ``query`` or one of its synonym variants;
    None: no terms."""
    plan = plan_search(query, synonyms)
    if plan is None:
        return None
    return matching_ids(tenant_id, plan.alternatives)
