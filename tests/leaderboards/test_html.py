"""The static HTML site: self-contained, and rendered for real in headless Chromium
(Debian: `apt-get install -y chromium`): table rows, plot marks, sorting, the episode viewer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from callgym.errors import DataError
from callgym.leaderboards import Leaderboard, export, runs_from_episodes
from callgym.leaderboards.html import render_page, write_site
from tests.leaderboards.chromium import Browser, find_chromium
from tests.leaderboards.conftest import MODELS, build_runs
from tests.leaderboards.scripted import play

HOSTILE = "</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\">"


def test_page_needs_no_network() -> None:
    page = render_page(build_runs(n=6))
    assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2


def test_empty_leaderboard_and_bad_target(tmp_path: Path) -> None:
    assert "No runs yet" in render_page([])
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="pass --html a directory"):
        write_site([], tmp_path / "file")


# ----------------------------------------------------------------------------- in the browser

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH; install it with: apt-get install -y chromium"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A site from a real leaderboard file: the fixture models plus one run whose every episode
    starts with an invalid call and whose task text tries to inject markup."""
    root = tmp_path_factory.mktemp("site")
    sloppy = runs_from_episodes(play("sloppy-model", 0.5, 12, sloppiness=1.0), suite="smoke", suite_version=1,
                                tag="probe")
    sloppy[0].samples[0]["messages"][1]["content"] = HOSTILE
    with Leaderboard(root / "lb.db") as board:
        board.add_runs(build_runs())
        board.add_runs(sloppy)
        runs = board.runs(samples=True)
        (index,) = export(board, html_dir=root / "site")
    return {"index": index, "runs": runs, "sloppy": sloppy[0], "root": root}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium binary on PATH; install it with: apt-get install -y chromium")
    with Browser(CHROMIUM, tmp_path_factory.mktemp("chromium-profile")) as chromium:
        yield chromium


def count(browser: Browser, selector: str) -> int:
    return browser.eval(f"document.querySelectorAll({selector!r}).length")


@needs_chromium
def test_rows_and_plots_render(browser: Browser, site: dict) -> None:
    browser.open(site["index"])
    runs = site["runs"]
    assert count(browser, "table.board tbody tr") == len(runs) == 2 * len(MODELS) + 1
    assert [count(browser, f"#board-{i} tbody tr") for i in (0, 1)] == [len(MODELS) + 1, len(MODELS)]
    assert count(browser, "[data-plot=accuracy] rect.bar") == len(runs)
    assert count(browser, "[data-plot=accuracy] path.whisker") == len(runs)
    assert count(browser, "[data-plot=before-after] circle.point.before") == 2  # one pair per benchmark
    assert count(browser, "[data-plot=before-after] circle.point.after") == 2
    sized = sum(1 for r in runs if r.model_size)
    assert count(browser, "[data-plot=size] circle.point") == sized == 8
    assert count(browser, "[data-plot=difficulty] path.line") == len(runs)
    assert count(browser, "[data-plot=difficulty] circle.point") == 3 * len(runs)  # the toy env's 3 levels
    # laid out for real: marks have size on screen, the widest bar belongs to the best model
    widths = browser.eval(
        "[...document.querySelectorAll('[data-plot=accuracy] rect.bar')]"
        ".map(r => r.getBoundingClientRect().width)"
    )
    assert all(w >= 0 for w in widths) and max(widths) > 100
    assert browser.exceptions == [] and browser.console_errors == []
    assert {url.split(":")[0] for url in browser.requests} <= {"file", "data"}


@needs_chromium
def test_headers_sort_the_table(browser: Browser, site: dict) -> None:
    browser.open(site["index"])
    models = "[...document.querySelectorAll('#board-0 tbody tr')].map(r => r.cells[1].textContent)"
    browser.click("#board-0 th:nth-child(2) button")
    # localeCompare ignores case
    assert browser.eval(models) == sorted(browser.eval(models), key=str.casefold)
    browser.click("#board-0 th:nth-child(2) button")
    assert browser.eval(models) == sorted(browser.eval(models), key=str.casefold, reverse=True)
    assert (
        browser.eval("document.querySelector('#board-0 th:nth-child(2)').getAttribute('aria-sort')")
        == "descending"
    )
    browser.click("#board-0 th:nth-child(8) button")  # accuracy: numbers sort high to low first
    accuracy = browser.eval(
        "[...document.querySelectorAll('#board-0 tbody tr')].map(r => +r.cells[7].dataset.sort)"
    )
    assert accuracy == sorted(accuracy, reverse=True)
    assert browser.eval(models)[0] == "Llama-3-70B-Instruct"


@needs_chromium
def test_clicking_a_row_shows_its_transcripts(browser: Browser, site: dict) -> None:
    browser.open(site["index"])
    run = next(r for r in site["runs"] if r.tag == "before-dpo" and not r.env_kwargs)
    assert browser.eval("document.getElementById('viewer').hidden") is True
    browser.click(f'tr[data-run="{run.id}"]')
    assert browser.eval("document.getElementById('viewer').hidden") is False
    assert browser.eval("document.querySelector('#viewer h2').textContent") == f"{run.model} · before-dpo"
    assert count(browser, "#viewer .samples button") == len(run.samples) == 4
    first = run.samples[0]
    assert browser.eval("document.querySelector('#viewer details.msg.system').open") is False
    assert count(browser, "#viewer .msg.task") == 1
    assert count(browser, "#viewer .msg.call") == count(browser, "#viewer .msg.result") == len(first["steps"])
    calls = browser.eval("[...document.querySelectorAll('#viewer .msg.call pre')].map(p => p.textContent)")
    assert calls == [step["action"] for step in first["steps"]]
    verdict = "ok" if first["correct"] else "fail"
    assert count(browser, f"#viewer .verdict.{verdict}") == 1
    browser.click("#viewer .samples button:nth-child(3)")
    assert (
        browser.eval(
            "document.querySelector('#viewer .samples button:nth-child(3)').getAttribute('aria-pressed')"
        )
        == "true"
    )
    assert (
        browser.eval("document.querySelector('#viewer .msg.task pre').textContent")
        == run.samples[2]["messages"][1]["content"]
    )
    browser.screenshot(site["root"] / "viewer.png", full_page=False)
    browser.press_escape()
    assert browser.eval("document.getElementById('viewer').hidden") is True
    browser.screenshot(site["root"] / "page.png")
    assert (site["root"] / "page.png").stat().st_size > 20_000
    assert browser.exceptions == []


@needs_chromium
def test_invalid_calls_are_marked_and_transcripts_cannot_inject_markup(browser: Browser, site: dict) -> None:
    sloppy = site["sloppy"]
    browser.open(site["index"])
    title = browser.eval("document.title")
    run_id = next(r.id for r in site["runs"] if r.model == "sloppy-model")
    browser.click(f'tr[data-run="{run_id}"]')
    assert count(browser, "#viewer .msg.call.invalid") == 1  # every sample starts with one malformed call
    badge = browser.eval("document.querySelector('#viewer .msg.invalid .badge').textContent")
    assert badge == "invalid call · " + sloppy.samples[0]["steps"][0]["error_type"]
    assert browser.eval("document.querySelector('#viewer .msg.task pre').textContent") == HOSTILE
    assert browser.eval("document.title") == title
    assert count(browser, "#viewer img") == 0
    assert sloppy.samples[0]["steps"][0]["valid"] is False
    assert browser.exceptions == []


@needs_chromium
def test_a_run_link_opens_the_viewer(browser: Browser, site: dict) -> None:
    run = site["runs"][3]
    browser.open(site["index"], fragment=f"run-{run.id}")
    assert browser.eval("document.getElementById('viewer').hidden") is False
    assert browser.eval(f"document.querySelector('tr[data-run=\"{run.id}\"]').classList.contains('selected')")


@needs_chromium
def test_step_budget_curves_per_model_with_before_and_after_on_one_plot(browser: Browser, site: dict) -> None:
    browser.open(site["index"])
    runs = site["runs"]
    lineages = {(r.group_key, r.lineage) for r in runs}
    # the DPO pair shares one
    assert count(browser, "[data-plot=budget]") == len(lineages) == 2 * (len(MODELS) - 1) + 1
    captions = browser.eval(
        "[...document.querySelectorAll('[data-plot=budget] figcaption')].map(c => c.textContent)"
    )
    pair = [i for i, c in enumerate(captions) if "· SmolLM2-135M-Instruct ·" in c]
    assert len(pair) == 2  # one per benchmark
    figure = f"document.querySelectorAll('[data-plot=budget]')[{pair[0]}]"
    assert browser.eval(f"{figure}.querySelectorAll('path.line').length") == 2
    dashed = browser.eval(f"{figure}.querySelectorAll('path.line[stroke-dasharray]').length")
    assert dashed == 1  # the before run's curve
    # laid out for real: each curve never falls as the budget grows (screen y grows downwards)
    heights = browser.eval(
        f"(() => {{ const pts = [...{figure}.querySelectorAll('circle.point')]; const by = {{}};"
        " pts.forEach(c => { (by[c.getAttribute('fill')] ||= []).push(c.getBoundingClientRect().y); });"
        " return Object.values(by); })()"
    )
    assert len(heights) == 2 and all(ys == sorted(ys, reverse=True) and ys[0] > ys[-1] for ys in heights)
    tips = browser.eval(f"[...{figure}.querySelectorAll('g.mark title')].map(t => t.textContent)")
    after = next(r for r in runs if r.tag == "after-dpo" and not r.env_kwargs)
    assert any(
        t.startswith(f"SmolLM2-135M-Instruct-dpo [after-dpo]: {100 * after.accuracy:.1f}%")
        and "accuracy@3" in t
        for t in tips
    )
    assert browser.exceptions == []


@needs_chromium
def test_error_types_as_stacked_bars(browser: Browser, site: dict) -> None:
    browser.open(site["index"])
    runs = site["runs"]
    assert count(browser, "[data-plot=errors]") == 2  # one per benchmark
    segments = browser.eval(
        "[...document.querySelectorAll('[data-plot=errors] rect.segment')]"
        ".map(r => [r.dataset.type, +r.dataset.count, r.getBoundingClientRect().width])"
    )
    expected = sorted((t, c) for r in runs for t, c in r.error_counts().items())
    assert sorted((t, c) for t, c, _ in segments) == expected
    assert {t for t, _ in expected} == {"syntax_error", "unknown_function"}
    assert all(width > 0 for _, _, width in segments)
    # each run's segments fill the same full width: shares of its invalid replies
    totals = browser.eval(
        "[...document.querySelectorAll('[data-plot=errors] svg')].map(svg => { const rows = {};"
        " svg.querySelectorAll('rect.segment').forEach(r => {"
        " rows[r.getAttribute('y')] = (rows[r.getAttribute('y')] || 0)"
        " + r.getBoundingClientRect().width; }); return Object.values(rows); })"
    )
    widths = [w for per_plot in totals for w in per_plot]
    assert widths and max(widths) - min(widths) < 1.0
    legend = browser.eval(
        "[...document.querySelectorAll('[data-plot=errors] text.legend')].map(t => t.textContent)"
    )
    assert set(legend) == {"syntax_error", "unknown_function"}
    assert browser.exceptions == []
