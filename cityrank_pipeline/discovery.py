"""Find the current edition's document on a publisher's landing page.

Publishers do not keep a stable URL for "the latest report": each edition gets a new file
name (GPCI2023_summary.pdf, GFCI_34_Report.pdf) linked from a landing page. The catalog
gives, per source, regular expressions for the link; this module applies them and orders
the matches newest edition first.

When nothing matches, `DiscoveryError` is raised naming the page: a redesigned page must
stop the run where someone will see it, not quietly yield "no new edition".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urldefrag, urljoin

from bs4 import BeautifulSoup, Tag

# Links that can never be a document, whatever a loose pattern says.
NON_DOCUMENT_SCHEMES = ("javascript:", "mailto:", "tel:", "data:")
WHITESPACE = re.compile(r"\s+")
NUMBER_OR_TEXT = re.compile(r"(\d+)|(\D+)")


@dataclass(frozen=True)
class DocumentLink:
    """One candidate document: absolute URL, the link's visible text, its edition if known."""

    url: str
    text: str
    edition: str | None


class DiscoveryError(Exception):
    """No link on the landing page matched the catalog's patterns."""

    def __init__(self, page_url: str, reason: str):
        self.page_url = page_url
        self.reason = reason
        super().__init__(f"{page_url}: {reason}")


def find_document_links(
    html: str | bytes,
    base_url: str,
    *,
    href_pattern: str,
    text_pattern: str | None = None,
    edition_pattern: str | None = None,
) -> list[DocumentLink]:
    """Links on the page whose absolute URL matches `href_pattern` (and whose text matches
    `text_pattern`, if given), newest edition first; links without an edition come last,
    in page order. Raise `DiscoveryError` naming `base_url` when none match.

    Patterns are `re.search`ed as written (use an inline `(?i)` for case-insensitivity),
    `href_pattern` against the absolute URL, percent-decoded and without #fragment. The edition comes from `edition_pattern`'s named group `edition`, tried on the URL and
    then on the link text; without an `edition_pattern`, from an `edition` group in
    `href_pattern` or `text_pattern` themselves.
    """
    href_re = re.compile(href_pattern)
    text_re = re.compile(text_pattern) if text_pattern else None
    edition_res = edition_sources(href_re, text_re, edition_pattern)
    soup = BeautifulSoup(html, "lxml")
    page_base = resolve_base(soup, base_url)
    candidates = list(read_links(soup, page_base))
    matches = [link for link in candidates if href_re.search(readable(link.url))]
    if text_re is not None:
        matches = [link for link in matches if text_re.search(link.text)]
    if not matches:
        raise DiscoveryError(base_url, describe_miss(href_pattern, text_pattern, candidates, href_re))
    with_editions = [DocumentLink(link.url, link.text, read_edition(link, edition_res)) for link in matches]
    return sort_newest_first(with_editions)


def find_current_document(
    html: str | bytes,
    base_url: str,
    *,
    href_pattern: str,
    text_pattern: str | None = None,
    edition_pattern: str | None = None,
) -> DocumentLink:
    """The newest edition's link: the first of `find_document_links`."""
    links = find_document_links(
        html, base_url, href_pattern=href_pattern, text_pattern=text_pattern, edition_pattern=edition_pattern
    )
    return links[0]


def edition_sources(href_re: re.Pattern, text_re: re.Pattern | None, edition_pattern: str | None) -> list[tuple[re.Pattern, str]]:
    """Which (regex, "url" | "text") pairs to try, in order, for a link's edition."""
    if edition_pattern:
        edition_re = re.compile(edition_pattern)
        if "edition" not in edition_re.groupindex:
            raise ValueError(f"edition_pattern {edition_pattern!r} needs a named group (?P<edition>...)")
        return [(edition_re, "url"), (edition_re, "text")]
    sources = [(href_re, "url")] if "edition" in href_re.groupindex else []
    if text_re is not None and "edition" in text_re.groupindex:
        sources.append((text_re, "text"))
    return sources


def resolve_base(soup: BeautifulSoup, page_url: str) -> str:
    """Relative links resolve against <base href> when the page declares one, as browsers do."""
    base = soup.find("base", href=True)
    return urljoin(page_url, base["href"].strip()) if isinstance(base, Tag) else page_url


def read_links(soup: BeautifulSoup, page_base: str):
    """Each distinct document link (<a>/<area> href), absolute and without #fragment.

    A document is often linked twice (thumbnail and title); the first link with text wins.
    """
    seen: dict[str, DocumentLink] = {}
    for anchor in soup.find_all(["a", "area"], href=True):
        href = anchor["href"].strip()
        if not href or href.startswith("#") or href.lower().startswith(NON_DOCUMENT_SCHEMES):
            continue
        url, _ = urldefrag(urljoin(page_base, href))
        text = link_text(anchor)
        if url not in seen or (not seen[url].text and text):
            seen[url] = DocumentLink(url, text, None)
    return seen.values()


def readable(url: str) -> str:
    """The URL as a person reads it ("GFCI%2034.pdf" -> "GFCI 34.pdf"): catalog patterns
    are written against file names as seen, not as percent-encoded."""
    return unquote(url)


def link_text(anchor: Tag) -> str:
    """Visible text, or the title / image alt text of an icon-only link, whitespace collapsed."""
    text = anchor.get_text(" ", strip=True)
    if not text:
        image = anchor.find("img", alt=True)
        text = anchor.get("title") or (image["alt"] if isinstance(image, Tag) else "")
    return WHITESPACE.sub(" ", str(text)).strip()


def read_edition(link: DocumentLink, sources: list[tuple[re.Pattern, str]]) -> str | None:
    for pattern, field in sources:
        found = pattern.search(readable(link.url) if field == "url" else link.text)
        if found and found.group("edition"):
            return found.group("edition")
    return None


def edition_key(edition: str) -> tuple:
    """Numeric-aware order: "GFCI 34" > "GFCI 9", "2023-24" > "2023". Numbers and text are
    tagged so the tuples always compare, whatever mix an edition label has."""
    return tuple((0, int(number), "") if number else (1, 0, text.lower())
                 for number, text in NUMBER_OR_TEXT.findall(edition))


def sort_newest_first(links: list[DocumentLink]) -> list[DocumentLink]:
    """Newest edition first; links without an edition last. Ties keep page order."""
    return sorted(
        links,
        key=lambda link: (link.edition is not None, edition_key(link.edition or "")),
        reverse=True,
    )


def describe_miss(href_pattern: str, text_pattern: str | None, candidates: list[DocumentLink],
                  href_re: re.Pattern) -> str:
    """Say what was looked for and what the page had, to tell a layout change from a typo."""
    href_hits = sum(1 for link in candidates if href_re.search(readable(link.url)))
    reason = f"no link matches href_pattern {href_pattern!r}"
    if text_pattern:
        reason += f" with text_pattern {text_pattern!r} ({href_hits} matched the href alone)"
    return f"{reason} among {len(candidates)} links on the page; has the page layout changed?"
