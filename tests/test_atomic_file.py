"""One atomic write: a failed writer leaves the old file and no temporary behind; writers never collide."""
import threading

import pytest

from tc0lab import atomic_file


def test_replaces_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "result.json"
    atomic_file.write_text(target, "first")
    atomic_file.write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["result.json"]


def test_an_interrupted_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.pt"
    atomic_file.write_bytes(target, b"old")

    def half_then_fail(stream):
        stream.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_file.write_with(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_concurrent_writers_each_write_a_whole_file(tmp_path):
    target = tmp_path / "job.json"
    texts = [str(i) * 100_000 for i in range(8)]
    threads = [threading.Thread(target=atomic_file.write_text, args=(target, text)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["job.json"]
