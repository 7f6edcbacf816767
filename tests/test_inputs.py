import io
import json
from pathlib import Path

from extractors import Article
from streams.inputs import InputError, html_to_text, read_input, read_jsonl


def _read(raw: bytes) -> list[Article | InputError]:
    return list(read_jsonl(io.BytesIO(raw), "in.jsonl"))


def test_bad_lines_become_named_errors_and_reading_goes_on() -> None:
    good = json.dumps({"id": "ok", "text": "Two colonels defected."}).encode()
    raw = b"\n".join([
        b"{not json",
        json.dumps({"id": "empty", "text": "   "}).encode(),
        json.dumps({"id": "notext", "title": "x"}).encode(),
        b'{"id": "bytes", "text": "\xff\xfe"}',
        json.dumps({"id": "huge", "text": "a" * 5_000_000}).encode(),
        json.dumps([1, 2]).encode(),
        json.dumps({"id": "baddate", "text": "x y", "published": "yesterday"}).encode(),
        good,
    ])
    out = _read(raw)
    errors = [o for o in out if isinstance(o, InputError)]
    assert [o.id for o in out if isinstance(o, Article)] == ["ok"]
    assert len(errors) == 7
    text = "\n".join(str(e) for e in errors)
    for expected in ("in.jsonl:1: not JSON", "empty", "text is empty", "missing field 'text'", "not UTF-8",
                     "over the", "expected a JSON object", "published"):
        assert expected in text


def test_events_in_input_are_ignored() -> None:
    raw = json.dumps({"id": "a", "text": "t", "events": [{"bogus": 1}]}).encode()
    (a,) = _read(raw)
    assert isinstance(a, Article)


def test_html_soup_becomes_paragraphs() -> None:
    title, text = html_to_text("<html><head><title>T</title><script>x=1</script></head><body><p>One.<p>Two"
                               "<div>Three</body>")
    assert title == "T" and "x=1" not in text and text.split("\n\n") == ["One.", "Two", "Three"]


def test_directory_input(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A colonel defected.")
    (tmp_path / "b.html").write_text("<p>Two generals defected.</p>")
    (tmp_path / "c.txt").write_bytes(b"\xff\xfe bad")
    out = list(read_input(str(tmp_path)))
    assert [o.id for o in out if isinstance(o, Article)] == ["a", "b"]
    assert any(isinstance(o, InputError) and "not UTF-8" in o.problem for o in out)


def test_a_directory_of_json_txt_and_html_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"url": "https://n.example/a", "text": "Colonel defected."}))
    (tmp_path / "b.txt").write_text("A general fled abroad.")
    (tmp_path / "c.html").write_text("<html><head><title>T</title></head><body><p>Envoy resigned.</p></body></html>")
    (tmp_path / "d.json").write_text("{broken")
    got = list(read_input(str(tmp_path)))
    ids = [getattr(g, "id", None) for g in got]
    assert ids[:3] == ["a", "b", "c"] and got[0].url == "https://n.example/a"  # type: ignore[union-attr]
    assert "not JSON" in str(got[3])
