import json

from extractors import DefectionEvent, Defector
from streams.inputs import InputError
from streams.records import DeadLetter, decode_article, decode_event, event_bytes


def test_decode_article_names_every_problem() -> None:
    assert isinstance(decode_article(json.dumps({"id": "a", "text": "x y"}).encode(), "t"), object)
    cases = {b"nope": "not JSON", b"\xff\xfe": "not UTF-8", json.dumps({"id": "a"}).encode(): "missing field",
             b"x" * 2_000_000: "over the"}
    for raw, expected in cases.items():
        res = decode_article(raw, "articles")
        assert isinstance(res, InputError) and expected in res.problem


def test_dead_letters_keep_binary_payloads() -> None:
    d = DeadLetter.of("articles", "not UTF-8", b"\xff\x00abc", key=b"k")
    assert d.payload_encoding == "base64" and d.key == "k"
    assert json.loads(d.to_bytes())["reason"] == "not UTF-8"


def test_events_round_trip() -> None:
    ev = DefectionEvent(event_id="ev-1", defectors=[Defector(rank="colonel")], from_="Syria", evidence="x")
    assert decode_event(event_bytes(ev)) == ev
