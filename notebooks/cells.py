"""Cell constructors shared by the notebooks' cell files: each notebook states its own caveats."""
from __future__ import annotations

import textwrap
from typing import Callable, Tuple

Cell = Tuple[str, str]

# Lines for every notebook's setup cell, after pyplot is imported. The notebooks are stored with
# their outputs: PNG figures at screen resolution keep those files small enough to render on a
# code host, and make reruns give byte-identical figures.
FIGURE_SETUP = """\
%config InlineBackend.figure_formats = ["png"]
plt.rcParams["figure.dpi"] = 72"""


def code_cell(text: str) -> Cell:
    """A code cell: dedented, a {FIGURE_SETUP} line replaced by FIGURE_SETUP."""
    return ("code", textwrap.dedent(text).strip("\n").replace("{FIGURE_SETUP}", FIGURE_SETUP))


def cell_makers(caveats: str, flag_text: str) -> Tuple[Callable[[str], Cell], Callable[[str], Cell]]:
    """md(text) and code(text) for one notebook: dedented, and in markdown {CAVEATS} and
    {FLAG_TEXT} replaced by that notebook's texts (in code, see code_cell)."""
    def md(text: str) -> Cell:
        text = textwrap.dedent(text).strip("\n")
        return ("markdown", text.replace("{CAVEATS}", caveats).replace("{FLAG_TEXT}", flag_text))

    return md, code_cell
