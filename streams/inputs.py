"""Reading articles from untrusted inputs: corpus JSONL, a directory of .txt/.html files, or stdin.

Every bad record becomes an ``InputError`` naming the record and the problem; reading goes on."""

from __future__ import annotations

import hashlib
import html.parser
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

from pydantic import ValidationError

from extractors.models import MAX_TEXT_CHARS, Article

MAX_LINE_BYTES = 4 * MAX_TEXT_CHARS + 65_536
"""Longest JSONL line read (a line over it is refused without being parsed)."""
MAX_FILE_BYTES = 4 * MAX_TEXT_CHARS


@dataclass(frozen=True, slots=True)
class InputError:
    ref: str
    problem: str
    payload: str = ""

    def __str__(self) -> str:
        return f"{self.ref}: {self.problem}"


class _TextExtractor(html.parser.HTMLParser):
    _SKIP: ClassVar[frozenset[str]] = frozenset(
        {"script", "style", "noscript", "template", "svg", "head", "nav", "footer", "aside", "form"}
    )
    _BLOCK: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag == "title":
            self._in_title = False
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str]:
    """(title, text) of an HTML page: scripts, styles and navigation dropped, blocks as paragraphs."""
    p = _TextExtractor()
    try:
        p.feed(markup)
        p.close()
    except Exception:  # html.parser is lenient; anything it still chokes on becomes plain text
        return "", re.sub(r"<[^>]{0,2000}>", " ", markup)
    text = "".join(p.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return " ".join("".join(p.title).split()), text


def describe(exc: ValidationError) -> str:
    """A validation error as one line: each field and what is wrong with it."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors())


def parse_article(record: object, ref: str) -> Article | InputError:
    """An article from one decoded record (a dict), or the reason it is not one."""
    if not isinstance(record, dict):
        return InputError(ref, f"expected a JSON object, got {type(record).__name__}", _preview(record))
    rid = record.get("id")
    name = f"{ref} (id {rid})" if isinstance(rid, str) and rid else ref
    if "text" not in record:
        return InputError(name, "missing field 'text'", _preview(record))
    if isinstance(record.get("text"), str) and len(record["text"]) > MAX_TEXT_CHARS:
        return InputError(name, f"text is {len(record['text']):,} characters, over the {MAX_TEXT_CHARS:,} limit",
                          _preview(record))
    data = {k: v for k, v in record.items() if k != "events"}
    if isinstance(data.get("text"), str) and "<" in data["text"] and re.search(r"</?(?:p|div|html|body|br)\b",
                                                                                  data["text"], re.I):
        title, data["text"] = html_to_text(data["text"])
        data.setdefault("title", title)
    if not data.get("id"):
        data["id"] = "sha1-" + hashlib.sha1(str(data.get("text", "")).encode("utf-8", "replace")).hexdigest()[:16]
    try:
        return Article.model_validate(data)
    except ValidationError as exc:
        problems = describe(exc)
        return InputError(name, problems, _preview(record))


def _preview(obj: object) -> str:
    s = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, default=str)
    return s[:2000]


def read_jsonl(stream: IO[bytes], name: str) -> Iterator[Article | InputError]:
    for n, raw in enumerate(_lines(stream), 1):
        ref = f"{name}:{n}"
        if raw is None:
            yield InputError(ref, f"line is over the {MAX_LINE_BYTES:,}-byte limit, skipped")
            continue
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield InputError(ref, f"not UTF-8 ({exc.reason} at byte {exc.start})", raw[:200].hex())
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(ref, f"not JSON ({exc.msg} at column {exc.colno})", line[:2000])
            continue
        yield parse_article(record, ref)


def _lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the over-long line
                rest = stream.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line


def read_file(path: Path) -> Article | InputError:
    ref = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return InputError(ref, f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,} limit")
        raw = path.read_bytes()
    except OSError as exc:
        return InputError(ref, f"cannot read: {exc.strerror or exc}")
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(ref, f"not UTF-8 ({exc.reason} at byte {exc.start})")
    if path.suffix.lower() == ".json":  # one article object, as in a corpus line
        try:
            record = json.loads(content)
        except json.JSONDecodeError as exc:
            return InputError(ref, f"not JSON ({exc.msg} at line {exc.lineno})", content[:2000])
        if isinstance(record, dict):
            record.setdefault("id", path.stem)
        return parse_article(record, ref)
    if path.suffix.lower() in (".html", ".htm"):
        title, text = html_to_text(content)
    else:
        title, text = "", content
    return parse_article({"id": path.stem, "title": title, "text": text}, ref)


def read_input(source: str) -> Iterator[Article | InputError]:
    """Articles from a JSONL file, a directory of .txt/.html/.json/.jsonl files (a .json file holds one
    article object), or ``-`` (JSONL on stdin).

    Raises ``OSError`` only when the input as a whole cannot be opened."""
    if source == "-":
        yield from read_jsonl(sys.stdin.buffer, "<stdin>")
        return
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in
                       (".txt", ".html", ".htm", ".json", ".jsonl"))
        for p in files:
            if p.suffix.lower() == ".jsonl":
                with p.open("rb") as f:
                    yield from read_jsonl(f, str(p))
            else:
                yield read_file(p)
        return
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {source}")
    if path.suffix.lower() in (".txt", ".html", ".htm", ".json"):
        yield read_file(path)
        return
    with path.open("rb") as f:
        yield from read_jsonl(f, str(path))


def count_lines(source: str) -> int | None:
    """Cheap total for the progress bar (None for stdin and directories)."""
    if source == "-" or Path(source).is_dir():
        return None
    try:
        with open(source, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return None
