"""Search terms, the same way for Chinese and English, for every plugin's full-text search.

Chinese has no spaces between words, and PostgreSQL's parser (and a plain substring test) would
treat a whole sentence as one token. Like Lucene's CJK analyser, runs of Han characters are
indexed as overlapping pairs (碳足迹报告 -> 碳足 足迹 迹报 报告) plus single characters for
one-character runs; queries are split the same way, so any word of two or more characters
matches wherever it occurs. Latin text is lower-cased words.
"""

from __future__ import annotations

import re

# Han ideographs (CJK Unified, Extension A, Compatibility) form runs; everything else that is a
# letter or digit forms words.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{HAN}]+|[^\W_{HAN}]+", re.UNICODE)
IS_HAN = re.compile(rf"[{HAN}]")


def terms(text: str) -> list[str]:
    """Index terms of `text` in order: lower-cased words and Han character pairs."""
    result: list[str] = []
    for token in TOKEN.findall(text or ""):
        if IS_HAN.match(token):
            if len(token) == 1:
                result.append(token)
            else:
                result.extend(token[i : i + 2] for i in range(len(token) - 1))
        else:
            result.append(token.lower())
    return result


def document(*texts: str) -> str:
    """The stored search document: the terms of all texts, space-separated."""
    return " ".join(term for text in texts for term in terms(text))
