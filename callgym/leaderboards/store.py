"""The leaderboard store: one SQLite file in the user's data directory (``--db`` to choose).

Tables: ``meta`` (application name, schema version), ``runs`` (one self-describing row per
benchmark of one model config on one env config), ``metrics`` (per run and difficulty level,
with interval bounds), ``outcomes`` (every episode's result, so two runs can be paired later)
and ``samples`` (a few full transcripts per run, for the HTML viewer).

Several benchmark processes may write at once and lose nothing: the file is in WAL mode,
waits on locks (``busy_timeout``) instead of failing, and writes each call to
:meth:`Leaderboard.add_runs` in one ``BEGIN IMMEDIATE`` transaction (the write lock is taken
up front, so two writers never deadlock upgrading a read lock).

A file from elsewhere or damaged (edited by hand, by another tool): a bad ``meta`` table
(no callgym application name, a ``schema_version`` that is not a number) is an error
naming the file; a damaged row (text in a number column, ``env_kwargs`` that is not JSON)
is skipped with a warning naming the file and the run when listing runs, and is an error
when that run is asked for by id (``compare 12 13``).

>>> import tempfile, os
>>> from callgym.leaderboards.records import RunRecord
>>> with Leaderboard(os.path.join(tempfile.mkdtemp(), "lb.db")) as board:
...     run_id = board.add_run(RunRecord(env_id="callgym/FOL-v0", model="m"))
...     [r.model for r in board.runs()]
['m']
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from callgym import json_text
from callgym.episode import Episode
from callgym.errors import DataError
from callgym.field_types import check_fields
from callgym.json_text import without_surrogates
from callgym.leaderboards.records import MetricRow, RunRecord
from callgym.preflight import check_output_file

APPLICATION = "callgym-leaderboard"
SCHEMA_VERSION = 1
DB_NAME = "leaderboard.db"
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    suite TEXT NOT NULL, suite_version TEXT NOT NULL,
    env_id TEXT NOT NULL, env_version TEXT NOT NULL, env_kwargs TEXT NOT NULL,
    model TEXT NOT NULL, model_size INTEGER, lineage TEXT NOT NULL,
    backend TEXT NOT NULL, agent TEXT NOT NULL, sampling TEXT NOT NULL, seed INTEGER,
    n INTEGER NOT NULL, problems INTEGER NOT NULL, excluded INTEGER NOT NULL,
    package_version TEXT NOT NULL, created TEXT NOT NULL, tag TEXT NOT NULL, notes TEXT NOT NULL
);
CREATE INDEX runs_by_group ON runs (env_id, env_version, env_kwargs, suite, suite_version);
CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    env_id TEXT NOT NULL, difficulty TEXT NOT NULL, name TEXT NOT NULL,
    value REAL NOT NULL, ci_low REAL, ci_high REAL,
    PRIMARY KEY (run_id, env_id, difficulty, name)
);
CREATE TABLE outcomes (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, sample INTEGER NOT NULL, difficulty TEXT, correct INTEGER NOT NULL,
    num_steps INTEGER NOT NULL, valid_calls INTEGER NOT NULL, tokens_out INTEGER NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (run_id, idx, sample)
);
CREATE TABLE samples (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL, episode TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
"""

_RUN_COLUMNS = (
    "suite", "suite_version", "env_id", "env_version", "env_kwargs", "model", "model_size", "lineage",
    "backend", "agent", "sampling", "seed", "n", "problems", "excluded", "package_version", "created", "tag",
    "notes",
)


def default_db_path() -> Path:
    """``$CALLGYM_HOME/leaderboard.db``, else ``$XDG_DATA_HOME/callgym/leaderboard.db``,
    else ``~/.local/share/callgym/leaderboard.db``."""
    if os.environ.get("CALLGYM_HOME"):
        return Path(os.environ["CALLGYM_HOME"]).expanduser() / DB_NAME
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home).expanduser() / "callgym" / DB_NAME


class Leaderboard:
    """An open leaderboard file; use as a context manager.

    Args:
        path: the SQLite file; None for :func:`default_db_path`.
        readonly: for readers (show, export, compare): the file is opened with SQLite's
            ``mode=ro`` and never written, not even to create it or switch it to WAL; a
            missing or empty file is an error.
        timeout: seconds to wait for another process's write lock before giving up.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, readonly: bool = False, timeout: float = 60.0
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.readonly = readonly
        if not self.path.exists() and readonly:
            raise DataError(
                f"{self.path}: no leaderboard here yet; run `callgym bench` first or pass --db PATH"
            )
        if self.path.is_dir():
            raise DataError(
                f"{self.path} is a directory; pass --db a file path such as {self.path / DB_NAME}"
            )
        if self.path.exists() and not self.path.is_file():  # a FIFO would block the open forever
            raise DataError(f"{self.path} is not a regular file; pass --db a SQLite file path")
        try:
            self._conn = self._connect(timeout)
        except (OSError, sqlite3.Error) as e:
            raise DataError(f"{self.path}: cannot open it ({e}); pass --db a writable file path") from e
        try:
            self._open(timeout)
        except BaseException:
            self._conn.close()
            raise

    # ------------------------------------------------------------------ opening

    def _connect(self, timeout: float) -> sqlite3.Connection:
        if self.readonly:  # SQLite itself refuses every write on this connection
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(self.path, timeout=timeout, isolation_level=None)

    def _open(self, timeout: float) -> None:
        conn = self._conn
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            tables = self._tables()
            if tables:
                self._check_meta(tables)  # before touching it: a foreign file is refused unchanged
            elif self.readonly:
                raise DataError(self._not_ours("it holds no tables at all"))
            if self.readonly:
                return
            self._enable_wal(timeout)
            if tables:
                return
            with self._transaction():
                # Re-checked under the write lock: another process may have created it meanwhile.
                if not self._tables():
                    self._create_schema()
            self._check_meta(self._tables())
        except sqlite3.OperationalError as e:  # locked, read-only, disk full: not a format problem
            raise DataError(self._cannot(e)) from e
        except sqlite3.DatabaseError as e:
            raise DataError(self._not_ours(f"SQLite says: {e}")) from e

    def _enable_wal(self, timeout: float) -> None:
        """Switch the file to WAL (persistent in the file; a no-op once set).

        The switch needs an exclusive lock, and while another process is creating the same
        new file SQLite answers "database is locked" at once instead of waiting out the busy
        timeout (waiting could deadlock): retry until the timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _tables(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _create_schema(self) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._conn.execute(statement)
        self._conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION))],
        )

    def _check_meta(self, tables: set[str]) -> None:
        """The file must say it is a callgym leaderboard of a schema this code understands."""
        if "meta" not in tables:
            raise DataError(self._not_ours("it holds other tables"))
        meta = {row[0]: row[1] for row in self._conn.execute("SELECT key, value FROM meta")}
        if meta.get("application") != APPLICATION:
            raise DataError(self._not_ours("its meta table does not name callgym"))
        if not str(meta.get("schema_version", "")).isdigit():
            raise DataError(
                f"{self.path}: schema_version {meta.get('schema_version')!r} is not a number: the file is "
                "damaged; restore it from a backup or pass --db another file"
            )
        if int(meta["schema_version"]) > SCHEMA_VERSION:
            raise DataError(
                f"{self.path}: leaderboard schema v{meta['schema_version']} is newer than this callgym "
                f"understands (v{SCHEMA_VERSION}); upgrade callgym or pass --db another file"
            )

    def _cannot(self, error: sqlite3.OperationalError) -> str:
        hint = (
            "another process held the write lock longer than the timeout; retry"
            if "locked" in str(error)
            else "check the path"
        )
        return f"{self.path}: SQLite cannot use it ({error}); {hint}"

    def _not_ours(self, why: str) -> str:
        return f"{self.path} is not a callgym leaderboard ({why}); pass --db a new or callgym-made file"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout for the write lock
        except sqlite3.OperationalError as e:
            raise DataError(self._cannot(e)) from e
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Leaderboard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ writing

    def add_run(self, run: RunRecord) -> int:
        """Write one run with its metrics, outcomes and samples; returns its id."""
        return self.add_runs([run])[0]

    def add_runs(self, runs: Iterable[RunRecord]) -> list[int]:
        """Write runs in one transaction (all or none); sets and returns their ids."""
        runs = list(runs)
        with self._transaction() as conn:
            for run in runs:
                run.id = self._insert(conn, run)
        return [run.id for run in runs if run.id is not None]

    def _insert(self, conn: sqlite3.Connection, run: RunRecord) -> int:
        values = _run_values(run)
        placeholders = ", ".join("?" for _ in _RUN_COLUMNS)
        cursor = conn.execute(f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) VALUES ({placeholders})", values)
        run_id = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(run_id, m.env_id, m.difficulty, m.name, m.value, m.ci_low, m.ci_high) for m in run.metrics],
        )
        conn.executemany(
            "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, o.index, o.sample, o.difficulty, int(o.correct), o.num_steps, o.valid_calls,
              o.tokens_out, o.seconds) for o in run.outcomes],
        )
        conn.executemany(
            "INSERT INTO samples VALUES (?, ?, ?)",
            [(run_id, i, json_text.dumps(s, default=str)) for i, s in enumerate(run.samples)],
        )
        return run_id

    # ------------------------------------------------------------------ reading

    def runs(
        self,
        *,
        env_id: str | None = None,
        model: str | None = None,
        tag: str | None = None,
        samples: bool = False,
    ) -> list[RunRecord]:
        """Runs with their metrics (oldest first), optionally filtered; ``samples`` loads transcripts."""
        where, params = [], []
        for column, value in (("env_id", env_id), ("model", model), ("tag", tag)):
            if value is not None:
                where.append(f"runs.{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        runs = self._readable(
            _run_from_row, self._conn.execute(f"SELECT * FROM runs {clause} ORDER BY id", params)
        )
        runs = self._attach_metrics(runs, clause, params)
        if samples:
            for run in runs:
                run.samples = self.samples(run.id or 0)
        return runs

    def get_run(self, run_id: int, *, samples: bool = False) -> RunRecord:
        """One run by id, with its metrics."""
        row = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise DataError(f"{self.path}: no run with id {run_id}; `callgym leaderboard show` lists the ids")
        try:
            run = _run_from_row(row)
        except DataError as e:
            raise DataError(f"{self.path}: {e}; repair that row or pass --db another file") from None
        if not self._attach_metrics([run], "WHERE runs.id = ?", (run_id,)):
            raise DataError(
                f"{self.path}: run {run_id} has damaged metrics; repair them or pass --db another file"
            )
        if samples:
            run.samples = self.samples(run_id)
        return run

    def samples(self, run_id: int) -> list[dict[str, Any]]:
        """The full transcripts kept for a run (Episode dicts)."""
        rows = self._conn.execute(
            "SELECT run_id, position, episode FROM samples WHERE run_id = ? ORDER BY position", (run_id,)
        )
        return self._readable(_sample_from_row, rows)

    def outcomes(self, run_id: int) -> list[Episode]:
        """Every episode of a run as a light Episode (no transcript): enough to pair runs."""
        run = self.get_run(run_id)
        rows = list(
            self._conn.execute("SELECT * FROM outcomes WHERE run_id = ? ORDER BY idx, sample", (run_id,))
        )
        for row in rows:
            if not (_is_int(row["idx"]) and _is_int(row["sample"]) and row["correct"] in (0, 1)):
                raise DataError(
                    f"{self.path}: run {run_id} holds a damaged outcome (idx {row['idx']!r}, correct "
                    f"{row['correct']!r}); repair that row or pass --db another file"
                )
        return [
            Episode(
                env_id=run.env_id, index=row["idx"], sample=row["sample"], env_kwargs=dict(run.env_kwargs),
                seed=run.seed, agent=run.agent, model=run.model, backend=run.backend,
                difficulty=row["difficulty"], correct=bool(row["correct"]), reward=float(row["correct"]),
                tokens_out=row["tokens_out"], seconds=row["seconds"], version=run.version,
            )
            for row in rows
        ]

    def count(self, table: str = "runs") -> int:
        """Rows in one of the store's tables."""
        if table not in ("runs", "metrics", "outcomes", "samples"):
            raise DataError(
                f"table {table!r} is not a leaderboard table; use runs, metrics, outcomes or samples"
            )
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def _attach_metrics(
        self, runs: list[RunRecord], where: str = "", params: Iterable[Any] = ()
    ) -> list[RunRecord]:
        """Fill ``runs`` with their metrics, selected by the same filter that chose the runs;
        return the runs whose metrics are all readable (the others are skipped with a warning)."""
        by_id = {run.id: run for run in runs}
        damaged: set[int] = set()
        sql = f"SELECT m.* FROM metrics m JOIN runs ON runs.id = m.run_id {where} ORDER BY m.run_id, m.rowid"
        for row in self._conn.execute(sql, list(params)):
            if row["run_id"] not in by_id:
                continue
            metric = MetricRow(*tuple(row)[1:])
            try:
                check_fields(MetricRow, asdict(metric), label="column ")
            except DataError as e:
                damaged.add(row["run_id"])
                log.warning("%s: run %s skipped: metric %r: %s", self.path, row["run_id"], metric.name, e)
                continue
            by_id[row["run_id"]].metrics.append(metric)
        return [run for run in runs if run.id not in damaged]

    def _readable(self, build: Any, rows: Iterable[sqlite3.Row]) -> list[Any]:
        """``build(row)`` for every row; a damaged row (text in a number column, broken JSON:
        a file edited by hand or by another tool) is skipped with a warning naming it, so
        one bad row does not hide the rest of the leaderboard."""
        built = []
        for row in rows:
            try:
                built.append(build(row))
            except DataError as e:
                log.warning("%s: %s skipped: %s", self.path, _row_name(row), e)
        return built

def _run_values(run: RunRecord) -> tuple[Any, ...]:
    data = {
        "suite": run.suite,
        "suite_version": str(run.suite_version),
        "env_id": run.env_id,
        "env_version": run.env_version,
        "env_kwargs": json.dumps(run.env_kwargs, sort_keys=True, default=str),
        "model": run.model,
        "model_size": run.model_size,
        "lineage": run.lineage,
        "backend": run.backend,
        "agent": run.agent,
        "sampling": json.dumps(run.sampling, sort_keys=True, default=str),
        "seed": run.seed,
        "n": run.n,
        "problems": run.problems,
        "excluded": run.excluded,
        "package_version": run.version,
        "created": run.created,
        "tag": run.tag,
        "notes": run.notes,
    }
    # SQLite stores UTF-8, which a lone surrogate (say from a non-UTF-8 --tag) cannot enter.
    return tuple(without_surrogates(data[column]) for column in _RUN_COLUMNS)


def _row_name(row: sqlite3.Row) -> str:
    keys = row.keys()
    if "position" in keys:
        return f"sample {row['position']} of run {row['run_id']}"
    return f"run {row['id']}" if "id" in keys else "a row"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_column(data: dict[str, Any], column: str) -> Any:
    try:
        return json.loads(data[column])
    except (TypeError, ValueError, RecursionError):
        raise DataError(f"column {column!r} holds {str(data[column])[:40]!r}, which is not JSON") from None


def _sample_from_row(row: sqlite3.Row) -> dict[str, Any]:
    episode = _json_column(dict(row), "episode")
    if not isinstance(episode, dict):
        raise DataError("column 'episode' does not hold an episode object")
    return episode


def _run_from_row(row: sqlite3.Row) -> RunRecord:
    """A run from its row; DataError names the first damaged column."""
    data = dict(row)
    data["env_kwargs"], data["sampling"] = _json_column(data, "env_kwargs"), _json_column(data, "sampling")
    check_fields(RunRecord, {**data, "version": data["package_version"]}, label="column ")
    return RunRecord(
        id=data["id"], env_id=data["env_id"], env_version=data["env_version"], env_kwargs=data["env_kwargs"],
        suite=data["suite"], suite_version=data["suite_version"], model=data["model"],
        model_size=data["model_size"], lineage=data["lineage"], backend=data["backend"], agent=data["agent"],
        sampling=data["sampling"], seed=data["seed"], n=data["n"], problems=data["problems"],
        excluded=data["excluded"], version=data["package_version"], created=data["created"], tag=data["tag"],
        notes=data["notes"],
    )



def publish(records: Iterable[RunRecord], db: str | os.PathLike[str] | None = None) -> list[RunRecord]:
    """Add benchmark rows to the leaderboard ``db`` (None: the user's default one) in one
    transaction, so a suite's rows land together or not at all; sets and returns their ids."""
    records = list(records)
    with Leaderboard(db) as board:
        board.add_runs(records)
    return records


def check_db(db: str | os.PathLike[str] | None) -> None:
    """A --db that exists must be a leaderboard (opened read-only); one that does not must be creatable."""
    check_output_file(db, "--db")
    if db and Path(db).exists():
        Leaderboard(db, readonly=True).close()
