"""The export's sentence cache: what exporting each input sentence gave, so that an export after a few sentences
changed does the work only for those (maintainers rerun `export --project` after every annotation session).

Keyed by the sentence's exact input text (its lines, as corpus/conllu_io.py's reader delimits them; an entry
holds only where the document id the reader carries to it is the one it records, or it names its own), under a
context: the cache format, the Python version, the versions of udtools, udapi, conllu, regex and pyarrow, the source
of the modules that decide an entry (_MODULES: a change to one makes every key new), the schema and the validator's
language and level. Each entry holds that sentence's CoNLL-U text as written, sent_id, document, annotation
metadata, counts for the card, its UD validation (errors with lines relative to the sentence, replayed by
export/validate.py), schema problems and dataset row (export/writer.py's RowCodec tuple): marshal data, compressed
with lz4. The files an export writes are byte-identical with or without it (tests/export/test_incremental.py).

Where: `.NAME-export-cache.sqlite` beside the export directory NAME (export_corpus's `cache` picks another file or
none). The first export to a directory creates it, and removes it again if that export fails; later exports, refused
ones included, read and update it. Size: entries of sentences the latest complete export did not use are dropped
at its end, so it holds about one entry per sentence of the corpus, ~2.8 KB each (280 MB for 100,000 sentences,
half the export's own size: benchmarks/export.py); a file more than half free after that is compacted (VACUUM). Deleting it is always
safe (the next export is a full one). SQLite in WAL mode: two exports at once (two terminals) both read and write
it, waiting up to BUSY_TIMEOUT for the other's write; an entry is a pure function of its key, so whatever one run
wrote is right for the other (one may drop entries the other still wanted: that costs time, never correctness).
Any error of the cache itself (a locked, unreadable or corrupt file, a full disk) is logged and the export goes on
without it.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sqlite3
import struct
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
CODEC = "lz4"  # pyarrow's: 3x faster than zlib both ways, entries ~40 % bigger
BUSY_TIMEOUT = 30.0  # seconds a write waits for another export's
FLUSH_EVERY = 500  # new entries per write transaction
_VERSIONED = ("udtools", "udapi", "conllu", "regex", "pyarrow")
# The modules whose code decides what an entry holds: reading, formatting, document keys, validation, metadata,
# schema rows, counts, the entry itself. A module that comes to decide some of it must be added here.
_MODULES = ("mudawwana.corpus.conllu_io", "mudawwana.corpus.data_model", "mudawwana.corpus.splits",
            "mudawwana.corpus.ud_validator", "mudawwana.export.export_job", "mudawwana.export.validate",
            "mudawwana.export.sentence_cache", "mudawwana.export.schema_mudawwana", "mudawwana.export.schema_ud",
            "mudawwana.export.metadata", "mudawwana.export.stats", "mudawwana.export.writer",
            "mudawwana.export.splits")


def default_cache_path(out_dir: str | os.PathLike) -> Path:
    """`.NAME-export-cache.sqlite` beside the export directory NAME (not `.NAME.*`: that is the staging
    directories' pattern, which corpus/files.py cleans up)."""
    out_dir = Path(out_dir)
    return out_dir.parent / f".{out_dir.name}-export-cache.sqlite"


def context(schema: str, lang: str, level: int) -> bytes:
    """What, besides a sentence's text, decides every value cached for it (the module docstring)."""
    digest = hashlib.sha256(f"mudawwana export cache {CACHE_FORMAT}\0{sys.version_info[:2]}\0{marshal.version}\0"
                            f"{schema}\0{lang}\0{level}\0".encode())
    digest.update(_environment())
    return digest.digest()


@lru_cache(maxsize=None)
def _environment() -> bytes:
    digest = hashlib.sha256()
    for name in _VERSIONED:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\0".encode())
    import importlib

    for name in _MODULES:
        digest.update(name.encode() + b"\0" + Path(importlib.import_module(name).__file__).read_bytes() + b"\0")
    return digest.digest()


class SentenceCache:
    """One export's use of the cache file: `get`/`put` while reading, `finish` after the whole input was read,
    `close` at the end. Never raises for its own failures: the cache then just stops being used."""

    def __init__(self, path: Path, context_key: bytes) -> None:
        self.path = path
        self._context = context_key
        self._created = not path.exists()
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[bytes, bytes]] = []
        self.hits = self.misses = 0
        try:
            self._db = self._connect()
        except (sqlite3.Error, OSError) as e:
            if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
                self._replace_corrupt(e)
            else:
                self._fail("open", e)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints; a lost tail is only a cache miss
            db.execute("CREATE TABLE IF NOT EXISTS sentences (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
            # This export's entries (found or put), for `finish`: kept by SQLite, not in our memory.
            db.execute("CREATE TEMP TABLE IF NOT EXISTS used (key BLOB PRIMARY KEY) WITHOUT ROWID")
        except BaseException:
            db.close()
            raise
        return db

    def _replace_corrupt(self, error: Exception) -> None:
        log.warning("export cache %s is unreadable (%s): starting a new one", self.path, error)
        _remove(self.path)
        self._created = True
        try:
            self._db = self._connect()
        except (sqlite3.Error, OSError) as e:
            self._fail("open", e)

    def _fail(self, what: str, error: Exception) -> None:
        log.warning("export cache %s: could not %s it (%s); exporting without it", self.path, what, error)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None
        self._pending.clear()

    @property
    def usable(self) -> bool:
        return self._db is not None

    def key(self, text: str) -> bytes:
        """The key of one input sentence: its lines joined with LF (the entry says which document it was in)."""
        return hashlib.sha256(self._context + text.encode("utf-8", "surrogatepass")).digest()

    def get_many(self, keys: list[bytes]) -> dict[bytes, tuple]:
        """The entries stored under these keys (a few hundred at most: one query), by key; missing and undecodable
        ones are left out. The entries found, and those `put`, are this export's: `finish` keeps only those."""
        if self._db is None or not keys:
            return {}
        unique = list(dict.fromkeys(keys))
        try:
            found = self._db.execute(f"SELECT key, value FROM sentences WHERE key IN ({','.join('?' * len(unique))})",
                                     unique).fetchall()
        except sqlite3.Error as e:
            self._fail("read", e)
            return {}
        out = {}
        for key, value in found:
            try:
                entry = _decode(value)
            except (ValueError, EOFError, TypeError, struct.error, OSError):  # pyarrow's errors are OSErrors
                continue
            if isinstance(entry, tuple):
                out[key] = entry
        try:
            self._db.executemany("INSERT OR IGNORE INTO temp.used (key) VALUES (?)", ((k,) for k in out))
        except sqlite3.Error as e:
            self._fail("read", e)
            return {}
        self.hits += len(out)
        self.misses += len(keys) - len(out)
        return out

    def put(self, key: bytes, value: tuple) -> None:
        """Store the entry of a sentence computed afresh (written in batches of FLUSH_EVERY)."""
        if self._db is None:
            return
        self._pending.append((key, _encode(value)))
        if len(self._pending) >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        if self._db is None or not self._pending:
            return
        try:
            with _transaction(self._db):
                self._db.executemany("INSERT OR REPLACE INTO sentences (key, value) VALUES (?, ?)", self._pending)
                self._db.executemany("INSERT OR IGNORE INTO temp.used (key) VALUES (?)",
                                     ((k,) for k, _ in self._pending))
        except sqlite3.Error as e:
            self._fail("write", e)
        self._pending.clear()

    def finish(self) -> None:
        """The whole input was read: store what is pending, drop the entries this export did not use."""
        self._flush()
        if self._db is None:
            return
        try:
            (count,), (used,) = (self._db.execute(f"SELECT count(*) FROM {t}").fetchone()
                                 for t in ("sentences", "temp.used"))
            if count > used:
                with _transaction(self._db):
                    self._db.execute("DELETE FROM sentences WHERE key NOT IN (SELECT key FROM temp.used)")
                # Freed pages are reused by later entries; a file more than half free (after an upgrade made
                # every key new, or a corpus shrank) is rewritten to its entries' size.
                (free,), (pages,) = (self._db.execute(f"PRAGMA {p}").fetchone() for p in ("freelist_count",
                                                                                         "page_count"))
                if free * 2 > pages:
                    self._db.execute("VACUUM")
        except sqlite3.Error as e:
            self._fail("prune", e)

    def close(self, *, succeeded: bool) -> None:
        """Store what is pending and close; a cache file this export created is removed if it failed."""
        if succeeded or not self._created:
            self._flush()
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass
        if self._created and not succeeded:
            _remove(self.path)


def _encode(entry: tuple) -> bytes:
    import pyarrow as pa

    raw = marshal.dumps(entry)
    return struct.pack("<I", len(raw)) + pa.compress(raw, codec=CODEC, asbytes=True)


def _decode(value: bytes) -> object:
    import pyarrow as pa

    (size,) = struct.unpack_from("<I", value)
    return marshal.loads(pa.decompress(memoryview(value)[4:], decompressed_size=size, codec=CODEC, asbytes=True))


class _transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # take the write lock now (waiting up to BUSY_TIMEOUT), not mid-way

    def __exit__(self, exc_type, exc, tb) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not remove %s%s: %s", path, suffix, e)
