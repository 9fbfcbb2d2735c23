"""Chinese search without a server-side tokenizer: a unigram + bigram index, the same on
SQLite and PostgreSQL. A query matches items holding every one of its terms, so 社保 finds
社保卡申领 and 户口 finds 户口迁移, while punctuation alone finds nothing (and is no error)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from core.catalog.models import ItemTerm

__all__ = ["index_item", "query_terms", "search_item_ids", "terms_of"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_TERMS = 24


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


def index_item(
    session: Session, tenant_id: uuid.UUID, item_id: uuid.UUID, texts: Iterable[str]
) -> None:
    session.execute(
        delete(ItemTerm).where(ItemTerm.tenant_id == tenant_id, ItemTerm.item_id == item_id)
    )
    rows = [{"tenant_id": tenant_id, "term": t, "item_id": item_id} for t in terms_of(texts)]
    if rows:
        session.execute(insert(ItemTerm), rows)


def search_item_ids(session: Session, tenant_id: uuid.UUID, query: str) -> Select[Any] | None:
    """A subquery of the ids of items matching every term of ``query``; None: no terms."""
    terms = query_terms(query)
    if not terms:
        return None
    return (
        select(ItemTerm.item_id)
        .where(ItemTerm.tenant_id == tenant_id, ItemTerm.term.in_(terms))
        .group_by(ItemTerm.item_id)
        .having(func.count(ItemTerm.term) == len(terms))
    )
