import json
import subprocess
import sys
from pathlib import Path

from streams.cli import main


def test_extract_writes_one_line_per_article_and_reports_bad_input(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "a", "published": "2024-03-14", "text": "Two Syrian colonels defected to Turkey on Monday."}),
        "not json",
        json.dumps({"id": "b", "published": "2024-03-15", "text": "Two Syrian colonels have defected to Turkey, "
                                                                  "a rebel spokesman said on Tuesday."}),
        json.dumps({"id": "c", "text": "Nothing happened."}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["extract", str(src), "-o", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["a", "b", "c"]
    assert lines[0]["events"][0]["event_id"] == lines[1]["events"][0]["event_id"]
    assert lines[2]["events"] == []
    assert "in.jsonl:2: not JSON" in capsys.readouterr().err


def test_extract_fails_only_when_input_cannot_be_read(tmp_path: Path) -> None:
    assert main(["extract", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl")]) == 2


def test_stdin_input(tmp_path: Path) -> None:
    line = json.dumps({"id": "s", "text": "A Russian pilot defected to Ukraine on Monday.", "published": "2024-01-03"})
    res = subprocess.run([sys.executable, "-m", "streams.cli", "extract", "-", "-q"], input=line + "\n",
                         capture_output=True, text=True, check=True)
    assert json.loads(res.stdout)["events"][0]["to"] == "Ukraine"


def test_eval_prints_the_scorer_summary(tmp_path: Path, shared: Path, capfd) -> None:
    assert main(["eval", str(shared / "corpus" / "seeds.jsonl"), "-q"]) == 0
    assert "summary events_f1=" in capfd.readouterr().out


def test_run_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    import os
    import signal
    import time

    env = {**os.environ, "DEFWATCH_DATA_DIR": str(tmp_path), "DEFWATCH_FEEDS": "none"}
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "defwatch.sqlite3").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "defwatch stopped" in err and "Traceback" not in err


def test_distributed_commands_need_kafka(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("DEFWATCH_KAFKA", raising=False)
    monkeypatch.setenv("DEFWATCH_ELASTICSEARCH", "http://127.0.0.1:9")
    assert main(["run", "--once"]) == 2
    assert main(["worker"]) == 2
    assert main(["ingest", "replay", str(tmp_path)]) == 2
    assert "DEFWATCH_KAFKA" in capsys.readouterr().err
