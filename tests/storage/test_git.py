"""Git storage against a real repository made by the test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from headrace.serialization import load_storage
from headrace.serialization.errors import FlowLoadError
from headrace.storage import Git
from storage.kinds import make_git_repo


def head(repo: Path, rev: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", rev], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_refs_pick_the_commit(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path)
    for ref in ("v1", head(repo, "v1")):
        flow = Git(str(repo), "flows/roundtrip.py", ref=ref).get_flow()
        assert flow.name == "roundtrip"
    # The branch head has the broken script: loading it reports the script's error.
    with pytest.raises(FlowLoadError, match="broken on purpose"):
        Git(str(repo), "flows/roundtrip.py", ref="main").get_flow()
    with pytest.raises(FlowLoadError, match="broken on purpose"):
        Git(repo.as_uri(), "flows/roundtrip.py").get_flow()


def test_a_shallow_fetch_only(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path)
    storage = Git(str(repo), "flows/roundtrip.py", ref="v1")
    storage.add_flow(Git(str(repo), "flows/roundtrip.py", ref="v1").get_flow())
    doc = storage.serialize()
    assert doc == {
        "type": "headrace.storage.git:Git",
        "labels": [],
        "secrets": [],
        "repo": str(repo),
        "flow_path": "flows/roundtrip.py",
        "ref": "v1",
        "flows": {"roundtrip": "flows/roundtrip.py"},
    }
    assert load_storage(doc).get_flow("roundtrip").run().is_successful()


def test_bad_inputs(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path)
    with pytest.raises(FlowLoadError, match="unknown-ref"):
        Git(str(repo), "flows/roundtrip.py", ref="unknown-ref").get_flow()
    with pytest.raises(FlowLoadError, match=r"missing\.py.*does not exist"):
        Git(str(repo), "flows/missing.py", ref="v1").get_flow()
    with pytest.raises(FlowLoadError, match="no flow named 'other'"):
        storage = Git(str(repo), "flows/roundtrip.py", ref="v1")
        storage.flows["other"] = "flows/roundtrip.py"
        storage.get_flow("other")
    with pytest.raises(ValueError, match="carries a password"):
        Git("https://user:hunter2@example.invalid/repo.git", "flow.py")
    with pytest.raises(ValueError, match="relative to the repo"):
        Git(str(repo), "../outside.py")
