"""No programmer vocabulary on any page: every page a visitor, a citizen and each kind of staff
member can reach by following links is read as a person would read it (visible text, button
names, labels, placeholders, titles) and must hold no snake_case identifiers, no field paths
(``materials[0]``) and, in the Chinese interface, none of our enum values (``submitted``,
``window``, ``onboarding`` …) as words."""

from __future__ import annotations

import enum
import os
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest

from core.cases.models import CaseState, FeeStatus, TaskState
from core.catalog.models import ItemStatus, VersionState
from core.identity.models import AccountKind, Role
from core.tenancy.models import OrgUnitKind, TenantKind, TenantStatus
from tests.helpers import csrf_token

ENUMS: tuple[type[enum.StrEnum], ...] = (
    CaseState,
    TaskState,
    FeeStatus,
    ItemStatus,
    VersionState,
    AccountKind,
    Role,
    TenantKind,
    TenantStatus,
    OrgUnitKind,
)
#: every value of our enums, as an English word on a Chinese page
ENUM_WORDS = {m.value for e in ENUMS for m in e if re.fullmatch(r"[a-z_]+", m.value)}
#: values kept as plain strings: a material's source, a card's colour, a delivery method
ENUM_WORDS |= {"upload", "reuse", "missing", "green", "yellow", "red", "grey", "pickup", "courier"}
SNAKE = re.compile(r"(?<![\w./:@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w(/@-])")
FIELD_PATH = re.compile(r"[A-Za-z_]\w*\[\d+\]")
WORD = re.compile(r"(?<![\w.@/-])[a-z][a-z_]+(?![\w@/-])")

#: links not to follow: they act, download or leave the page's language
SKIP = re.compile(
    r"/logout|/lang/|/elder/|\.pdf|/notices/|/download|/export|/branding/|/files/|/template"
    r"|/materials/|/reveal|/print|/oauth|/pdf$"
)
#: attributes a person hears or reads
SPOKEN = {"title", "aria-label", "placeholder", "alt"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "textarea"):
            self._skip += 1
        values = dict(attrs)
        for name in SPOKEN & values.keys():
            self.chunks.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.chunks.append(values.get("value") or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if values.get("hx-get"):  # a fragment the page loads (a queue, a list)
            self.links.append(values["hx-get"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)


def problems(html: str) -> tuple[list[str], list[str]]:
    parser = _Text()
    parser.feed(html)
    text = "\n".join(parser.chunks)
    found = SNAKE.findall(text) + FIELD_PATH.findall(text)
    found += [w for w in WORD.findall(text) if w in ENUM_WORDS]
    return found, parser.links


_ID = re.compile(r"(?<=/)(?=[^/]*[0-9A-Z])[^/]+")


def _key(href: str) -> str:
    """A kind of page: its path with codes and numbers as ``*`` and its query's names (page 2
    of a list, or another item's guide, is the same kind of page)."""
    parts = urlsplit(href)
    return _ID.sub("*", parts.path) + "?" + ",".join(sorted({k for k, _ in parse_qsl(parts.query)}))


def crawl(
    client, slug: str, starts: list[str], limit: int = 160, per_kind: int = 3
) -> dict[str, list[str]]:
    """Follow this tenant's links breadth first, up to ``per_kind`` pages of each kind."""
    prefix = f"/t/{slug}/"
    seen: set[str] = set()
    kinds: dict[str, int] = {}
    queue = deque(starts)
    found: dict[str, list[str]] = {}
    visited = 0
    while queue and visited < limit:
        href = queue.popleft()
        key = _key(href)
        if href in seen or kinds.get(key, 0) >= per_kind:
            continue
        seen.add(href)
        kinds[key] = kinds.get(key, 0) + 1
        response = client.get(href)
        visited += 1
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        bad, links = problems(response.text)
        if bad:
            found[href] = sorted(set(bad))
        for link in links:
            link = link.split("#")[0]
            if link.startswith(prefix) and not SKIP.search(link) and link not in seen:
                queue.append(link)
    if os.environ.get("PLAIN_WORDS_SHOW"):
        print(f"\n{visited} pages:", " ".join(sorted(seen)))
    assert visited > 3, f"only {visited} pages reached from {starts}"
    return found


def _citizen(client, slug: str, phone: str) -> None:
    token = csrf_token(client, f"/t/{slug}/login")
    response = client.post(
        f"/t/{slug}/login/password",
        data={"phone": phone, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:300]


def _staff(client, slug: str, username: str) -> None:
    token = csrf_token(client, f"/t/{slug}/staff/login")
    response = client.post(
        f"/t/{slug}/staff/login",
        data={"username": username, "password": "Demo-2026", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:300]


PEOPLE = [
    ("hechi", "visitor", None),
    ("hechi", "citizen", "13800000008"),
    ("hebei", "visitor", None),
    ("hebei", "citizen", "13800000071"),
    ("hechi", "staff", "hechi-clerk"),
    ("hechi", "staff", "hechi-reviewer"),
    ("hechi", "staff", "hechi-agent"),
    ("hechi", "staff", "hechi-supervisor"),
    ("hechi", "staff", "hechi-admin"),
]


@pytest.mark.parametrize(
    ("slug", "kind", "who"), PEOPLE, ids=[f"{s}-{w or k}" for s, k, w in PEOPLE]
)
def test_no_page_shows_programmer_vocabulary(
    client, cases_in_every_state: None, slug: str, kind: str, who: str | None
) -> None:
    base = f"/t/{slug}"
    starts = [f"{base}/", f"{base}/items", f"{base}/login", f"{base}/progress"]
    if kind == "citizen":
        assert who
        _citizen(client, slug, who)
        starts = [f"{base}/my", f"{base}/my/cases", *starts]
    elif kind == "staff":
        assert who
        _staff(client, slug, who)
        starts = [f"{base}/workbench", f"{base}/admin", f"{base}/supervision", *starts]
        if who.endswith("-admin"):  # a city's admin runs its districts from the console
            starts = [f"{base}/console", f"{base}/console/onboard", *starts]
    found = crawl(client, slug, starts)
    assert not found, "\n".join(f"{page}: {', '.join(words)}" for page, words in found.items())


def test_the_reader_catches_what_it_should() -> None:
    bad, _ = problems(
        "<p>状态：submitted</p><p>请补齐 materials[0]</p><button title='village_station'>x</button>"
        "<script>var a_b = 1;</script><p>邮箱 a_b@example.com · /t/x/my_cases</p>"
    )
    assert sorted(set(bad)) == ["materials[0]", "submitted", "village_station"]
