"""Every lesson and lab is committed without outputs and follows the course's cell conventions."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("labs/*.ipynb")])


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under notebooks/ or labs/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"cells {dirty} have outputs: run `make strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_and_last_cells_follow_the_template(path):
    cells = json.loads(path.read_text())["cells"]
    first = "".join(cells[0]["source"]).lower()
    last = "".join(cells[-1]["source"]).lower()
    assert cells[0]["cell_type"] == "markdown" and cells[-1]["cell_type"] == "markdown"
    for word in ("objectives", "prerequisites", "time"):
        assert word in first, f"first cell lacks {word!r}"
    for words in (("key points",), ("what's next", "what’s next", "next")):
        assert any(w in last for w in words), f"last cell lacks {words[0]!r}"


# The notebooks that need the 3+3 cluster (about 2 GB more memory); every other one runs on the single
# pair of brokers, so it fits Binder's 2 GB.
CLUSTER_NOTEBOOKS = {"03_acks_and_replication.ipynb", "06_quorum_queues_node_failure.ipynb",
                     "08_scale_out.ipynb"}


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name not in CLUSTER_NOTEBOOKS],
                         ids=lambda p: p.name)
def test_single_pair_notebooks_never_start_the_cluster(path):
    code = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                   if c["cell_type"] == "code")
    assert "Cluster(" not in code and "brokers.cluster" not in code, f"{path.name} starts the 3+3 cluster"
