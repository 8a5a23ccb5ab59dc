from __future__ import annotations

import json

import pytest

from callgym.episode import Episode, EpisodeWriter, Step, read_episodes
from callgym.errors import DataError


def _episode(index: int) -> Episode:
    return Episode(
        env_id="callgym/GSM8K-v0", index=index, steps=[Step("Answer(3)", "ok", "Answer(3)")], correct=True
    )


def test_round_trip(tmp_path):
    path = tmp_path / "runs" / "e.jsonl"
    with EpisodeWriter(path) as w:
        for i in range(3):
            w.write(_episode(i))
    episodes = read_episodes(path)
    assert [e.index for e in episodes] == [0, 1, 2]
    assert episodes[0].steps[0].call == "Answer(3)" and episodes[0].num_steps == 1
    assert json.loads(path.read_text().splitlines()[0])["valid_calls"] == 1


def test_cut_last_line_is_dropped_and_repaired_before_appending(tmp_path):
    path = tmp_path / "e.jsonl"
    with EpisodeWriter(path) as w:
        w.write(_episode(0))
    with path.open("a") as f:
        f.write('{"env_id": "callgym/GSM8K-v0", "ind')  # a run killed mid-write
    assert [e.index for e in read_episodes(path)] == [0]
    with EpisodeWriter(path) as w:
        w.write(_episode(1))
    assert [e.index for e in read_episodes(path)] == [0, 1]


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(
        json.dumps(_episode(0).to_dict()) + "\nnot json\n" + json.dumps(_episode(1).to_dict()) + "\n"
    )
    with pytest.raises(DataError, match=r"e\.jsonl:2: not valid JSON"):
        read_episodes(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no such episodes file"):
        read_episodes(tmp_path / "nope.jsonl")


def test_a_second_writer_on_the_same_file_is_refused(tmp_path):
    path = tmp_path / "e.jsonl"
    with EpisodeWriter(path) as w:
        w.write(_episode(0))
        with pytest.raises(DataError, match="being written by another callgym run"):
            EpisodeWriter(path)
        w.write(_episode(1))
    with EpisodeWriter(path) as w:  # the lock goes with the writer
        w.write(_episode(2))
    assert [e.index for e in read_episodes(path)] == [0, 1, 2]


def test_a_complete_last_episode_without_newline_gets_one(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(_episode(0).to_dict()))
    with EpisodeWriter(path) as w:
        w.write(_episode(1))
    assert [e.index for e in read_episodes(path)] == [0, 1]
