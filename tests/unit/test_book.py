"""`brokerlab book`: notebooks executed into HTML pages and an index of run times and failures."""

from __future__ import annotations

import nbformat
import pytest

from brokerlab import cli
from brokerlab.errors import BrokerlabError


def notebook(path, *cells: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A page of the book"),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return str(path)


def test_book_pages_keep_outputs_and_the_index_names_the_failure(tmp_path, capsys):
    good = notebook(tmp_path / "good.ipynb", "x = 6 * 7\nprint(f'measured {x}')")
    bad = notebook(tmp_path / "bad.ipynb", "print('before')", "assert 1 == 2, 'stops demonstrating'",
                   "print('never reached')")
    out = tmp_path / "book"
    assert cli.main(["book", good, bad, "--out", str(out)]) == 1  # a failed page fails the build
    assert "measured 42" in (out / "good.html").read_text()
    page = (out / "bad.html").read_text()
    assert "stops demonstrating" in page
    assert page.count("never reached") == 1, "the cell after the failure shows its source, no output"
    index = (out / "index.html").read_text()
    assert "href='good.html'" in index and "ran cleanly" in index
    assert "FAILED: AssertionError: stops demonstrating" in index and "\x1b[" not in index
    assert "FAILED: bad.ipynb" in capsys.readouterr().out


def test_book_refuses_what_is_not_a_notebook(tmp_path):
    from brokerlab.course import book

    with pytest.raises(BrokerlabError, match="Not a notebook"):
        book.build([tmp_path / "missing.ipynb"], tmp_path / "book")
