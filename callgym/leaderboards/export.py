"""Export the leaderboard: Markdown, JSON and the static HTML site, from one place (above
``render`` and ``html``, which do not import each other)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from callgym.leaderboards.html import write_site
from callgym.leaderboards.records import RunRecord
from callgym.leaderboards.render import leaderboard_json, leaderboard_markdown
from callgym.leaderboards.store import Leaderboard


def export(
    source: Leaderboard | Iterable[RunRecord],
    *,
    md: str | Path | None = None,
    json_path: str | Path | None = None,
    html_dir: str | Path | None = None,
) -> list[Path]:
    """Write the leaderboard as Markdown, JSON and/or the static HTML site; returns the files.

    Args:
        source: an open :class:`Leaderboard` (read with sample transcripts) or runs.
        md: Markdown file to write.
        json_path: JSON file to write.
        html_dir: folder for the site (``index.html``).
    """
    runs = source.runs(samples=html_dir is not None) if isinstance(source, Leaderboard) else list(source)
    written = []
    for path, text in ((md, leaderboard_markdown), (json_path, leaderboard_json)):
        if path is not None:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text(runs), encoding="utf-8")
            written.append(target)
    if html_dir is not None:
        written.append(write_site(runs, html_dir))
    return written
