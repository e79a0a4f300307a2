"""Chinese and pinyin tokenisation for the catalogue index, and the FTS5 query built from it.

Index and query go through the same functions: jieba's search mode (with a user dictionary of
the registry's own terms and Binzhou place names, so 滨城区 and 不动产登记 stay whole) plus the
single characters of names (1-character queries), and for each word its full pinyin and initials
(pypinyin, with local place-name readings corrected). The FTS5 MATCH expression is made of quoted
tokens and always bound as a parameter, so query text can never become SQL.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable

import jieba
from pypinyin import lazy_pinyin, load_phrases_dict

from bzdata.synth.places import COUNTIES, TOWNS

jieba.setLogLevel(logging.WARNING)

# Readings pypinyin gets wrong in Binzhou place names (长山镇 is cháng, not zhǎng).
PLACE_READINGS: dict[str, str] = {
    "长山": "chang shan",
    "长山镇": "chang shan zhen",
    "长山街道": "chang shan jie dao",
    "阳信": "yang xin",
    "无棣": "wu di",
    "沾化": "zhan hua",
    "博兴": "bo xing",
    "邹平": "zou ping",
    "滨城": "bin cheng",
    "惠民": "hui min",
}
# Domain terms that must stay one word in the index and the query.
TERMS: tuple[str, ...] = (
    "不动产登记",
    "户籍人口",
    "人口库",
    "法人库",
    "社会保险",
    "统一社会信用代码",
    "公民身份号码",
    "电子证照",
    "标准地址",
    "营业执照",
    "纳税申报",
    "用电量",
    "网签备案",
    "最低生活保障",
    "婚姻登记",
    "出生医学证明",
    "死亡医学证明",
    "基础库",
    "主题库",
    "专题库",
    "指标库",
)
_ASCII = re.compile(r"^[a-z0-9 ]+$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@functools.cache
def _setup() -> None:
    places = set(COUNTIES.values()) | {t for towns in TOWNS.values() for t in towns}
    for word in sorted(places | set(TERMS)):
        jieba.add_word(word, freq=200000)
    load_phrases_dict(
        {
            word: [[syllable] for syllable in reading.split()]
            for word, reading in PLACE_READINGS.items()
        }
    )


def add_terms(words: Iterable[str]) -> None:
    """Teach jieba more whole words (registry dataset names, library names)."""
    _setup()
    for word in words:
        if word and len(word) >= 2:
            jieba.add_word(word, freq=50000)
    _words.cache_clear()  # texts cut before may now cut differently
    _needles.cache_clear()


@functools.lru_cache(maxsize=65536)
def pinyin_of(word: str) -> tuple[str, str]:
    """(full pinyin without tones or spaces, initials) of a Chinese word."""
    _setup()
    syllables = [s for s in lazy_pinyin(word, errors="ignore") if s.isascii() and s.isalpha()]
    return "".join(syllables), "".join(s[0] for s in syllables)


def words(text: str) -> list[str]:
    """jieba search-mode words (lower-cased, punctuation dropped)."""
    return list(_words(text or ""))


@functools.lru_cache(maxsize=65536)
def _words(text: str) -> tuple[str, ...]:
    # Segmentation is the costliest step of a search page (each hit's name and abstract are
    # segmented to mark a pinyin query's words): the same texts recur, so each is cut once.
    _setup()
    out = []
    for word in jieba.cut_for_search(text):
        word = word.strip().lower()
        if word and (word.isalnum()):
            out.append(word)
    return tuple(out)


def index_tokens(text: str, *, chars: bool = False) -> str:
    """Space-separated tokens for an FTS5 unicode61 column; `chars` adds single characters."""
    tokens = words(text)
    if chars:
        tokens += [c for c in text if _CJK.match(c)]
    return " ".join(tokens)


def chars_of(text: str) -> str:
    """The single Chinese characters of `text`, for 1- and 2-character queries."""
    return " ".join(c for c in text if _CJK.match(c))


def pinyin_tokens(text: str) -> str:
    """Full pinyin and initials of every word, plus of the whole text, for the pinyin column."""
    tokens: list[str] = []
    for word in {*words(text), text}:
        if not _CJK.search(word):
            continue
        full, initials = pinyin_of(word)
        tokens += [full, initials]
    return " ".join(t for t in tokens if t)


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def match_expression(query: str) -> tuple[str | None, bool]:
    """(FTS5 MATCH text, is_pinyin) for a user query; None when nothing searchable remains."""
    text = (query or "").strip().lower()
    if not text:
        return None, False
    if _ASCII.match(text):
        parts = [p for p in text.split() if p]
        if not parts:
            return None, False
        # Prefix match on pinyin tokens: "renk" finds renkou, "rk" finds rk.
        expr = " ".join(f"pinyin:{_quote(p)}*" for p in parts)
        return expr, True
    tokens = words(text)
    if not tokens:
        tokens = [c for c in text if _CJK.match(c)]
    # Short words the dictionary does not know still hit through the single-character column.
    cjk = [c for c in text if _CJK.match(c)]
    groups = []
    for token in dict.fromkeys(tokens):
        groups.append(_quote(token))
    expr = " OR ".join(groups)
    if 0 < len(cjk) <= 2:
        char_expr = " AND ".join(f"chars:{_quote(c)}" for c in cjk)
        expr = f"({expr}) OR ({char_expr})" if expr else char_expr
    return expr or None, False


@functools.lru_cache(maxsize=4096)
def _needles(query: str) -> tuple[str, ...]:
    """What to mark in a snippet for this query, longest first (segmented once per query)."""
    return tuple(
        sorted(
            {w for w in words(query) if _CJK.search(w)} | set(query.strip().split()),
            key=len,
            reverse=True,
        )
    )


def highlight(text: str, query: str, width: int = 60) -> str:
    """`text` around the first match, matches wrapped in 【】 (plain text, no markup)."""
    if not text:
        return ""
    needles = _needles(query)
    parts = (query or "").strip().lower().split()
    if parts and _ASCII.match(" ".join(parts)):
        # A pinyin or initials query marks the words it reads as (rk -> 人口, renkou -> 人口).
        needles = tuple(
            sorted(
                {
                    w
                    for w in words(text)
                    if _CJK.search(w) and any(r.startswith(q) for q in parts for r in pinyin_of(w))
                },
                key=len,
                reverse=True,
            )
        )
    needles = [n for n in needles if n and n in text] or [
        c for c in query if _CJK.match(c) and c in text
    ]
    if not needles:
        return text[:width]
    first = min(text.find(n) for n in needles)
    start = max(0, first - width // 3)
    window = text[start : start + width]
    pattern = re.compile("|".join(re.escape(n) for n in needles))
    marked = pattern.sub(lambda m: f"【{m.group(0)}】", window)
    return ("…" if start else "") + marked + ("…" if start + width < len(text) else "")
