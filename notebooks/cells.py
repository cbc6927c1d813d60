"""Cell constructors shared by the notebooks' cell files: each notebook states its own caveats."""
from __future__ import annotations

import textwrap
from typing import Callable, Tuple

Cell = Tuple[str, str]


def cell_makers(caveats: str, flag_text: str) -> Tuple[Callable[[str], Cell], Callable[[str], Cell]]:
    """md(text) and code(text) for one notebook: dedented, and in markdown {CAVEATS} and
    {FLAG_TEXT} replaced by that notebook's texts."""
    def md(text: str) -> Cell:
        text = textwrap.dedent(text).strip("\n")
        return ("markdown", text.replace("{CAVEATS}", caveats).replace("{FLAG_TEXT}", flag_text))

    def code(text: str) -> Cell:
        return ("code", textwrap.dedent(text).strip("\n"))

    return md, code
