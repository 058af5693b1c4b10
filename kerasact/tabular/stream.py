"""CSV files read in chunks, for tables larger than memory: a path, a glob or a list of paths
becomes a list of files sharing one header; their rows come as numbered pandas chunks;
`RowSample` keeps a bounded, uniform sample of the rows while they pass, `scan` makes the one
pass that counts and samples them, and `pooled` shuffles blocks of rows through a bounded pool.

Rows are numbered across the files in order (the first data row of the first file is row 0),
and `row_keys` hashes a row number with a seed: the same row gets the same key on every pass,
so a sample or a split drawn from the keys is the same on every pass and needs no row list.
"""

from __future__ import annotations

import glob
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kerasact import _errors
from kerasact.tabular.tables import is_table, read_errors

_GLOB = set("*?[")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # splitmix64's increment and mixing constants
_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_SAMPLE_SALT = 2  # a row's place in the sample: a draw of its own, apart from any split drawn with another salt


def is_csv_source(data: Any) -> bool:
    """True for a `.csv` path, a glob of them, or a list of `.csv` paths.

    Example:
        >>> is_csv_source("data/part-*.csv"), is_csv_source(["a.csv", "b.csv"]), is_csv_source({"a": [1]})
        (True, True, False)
    """
    if isinstance(data, Sequence) and not isinstance(data, str):
        return len(data) > 0 and all(isinstance(p, (str, os.PathLike)) and is_table(p) for p in data)
    return isinstance(data, (str, os.PathLike)) and is_table(data)


def csv_files(source: Any, arg: str = "data") -> list[Path]:
    """The CSV files of a path, a glob (sorted) or a list of paths, each checked to exist.

    Example:
        >>> csv_files("data/part-*.csv")  # doctest: +SKIP
        [PosixPath('data/part-0.csv'), PosixPath('data/part-1.csv')]
    """
    if not is_csv_source(source):
        raise _errors.invalid(arg, source, "a .csv path, a glob such as 'data/*.csv', or a list of .csv paths",
                              kind=TypeError)
    names = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files: list[Path] = []
    for name in map(str, names):
        found = sorted(glob.glob(name)) if _GLOB & set(name) else [name]
        if not found:
            raise ValueError(f"{arg}={name!r} matches no file; check the pattern (globs are not recursive).")
        missing = [f for f in found if not Path(f).is_file()]
        if missing:
            raise ValueError(f"{arg}: {missing[0]!r} is not a file; pass the path of a CSV file.")
        files += [Path(f) for f in found]
    return files


def header(files: Sequence[Path], arg: str = "data") -> list[str]:
    """The column names the files share; a file with another header is refused by name.

    Example:
        >>> header([Path("a.csv"), Path("b.csv")])  # doctest: +SKIP
        ['age', 'island', 'species']
    """
    names = None
    for path in files:
        with read_errors(path, arg):
            columns = [str(c) for c in pd.read_csv(path, nrows=0).columns]
        if names is not None and columns != names:
            raise ValueError(f"{arg}: {str(path)!r} has the columns {columns[:6]}, but {str(files[0])!r} has "
                             f"{names[:6]}; give every file the same header.")
        names = columns
    return names or []


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows of one file: `frame.index` holds their row numbers across all the files."""

    path: Path
    offset: int  # data rows of the file before this chunk (its first row is row offset + 1 of the file)
    frame: pd.DataFrame

    @property
    def rows(self) -> np.ndarray:
        return self.frame.index.to_numpy(dtype=np.int64)


def read_chunks(files: Sequence[Path], chunk_rows: int, arg: str = "data") -> Iterator[Chunk]:
    """The rows of the files in order, `chunk_rows` at a time: memory holds one chunk, not a file.

    Example:
        >>> sum(len(chunk.frame) for chunk in read_chunks(csv_files("data/*.csv"), 10_000))  # doctest: +SKIP
        1000000
    """
    first = 0
    for path in files:
        offset = 0
        with read_errors(path, arg), pd.read_csv(path, chunksize=chunk_rows) as reader:
            for frame in reader:
                if frame.empty:
                    continue
                frame.index = pd.RangeIndex(first, first + len(frame))
                frame.columns = frame.columns.map(str)
                yield Chunk(path, offset, frame)
                first, offset = first + len(frame), offset + len(frame)


def read_csvs(files: Sequence[Path], arg: str = "data") -> pd.DataFrame:
    """All the rows of the files as one DataFrame (for tables that fit in memory).

    Example:
        >>> read_csvs(csv_files("data/*.csv")).shape  # doctest: +SKIP
        (2000, 5)
    """
    header(files, arg)
    frames = []
    for path in files:
        with read_errors(path, arg):
            frames.append(pd.read_csv(path))
    return pd.concat(frames, ignore_index=True).rename(columns=str)


def row_keys(rows: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A 64-bit hash (splitmix64) of each row number, fixed by `seed` and `salt`.

    Example:
        >>> bool((row_keys(np.arange(3), 0, 1) == row_keys(np.arange(3), 0, 1)).all())
        True
    """
    with np.errstate(over="ignore"):
        start = _mix(np.array([seed * 2**20 + salt], dtype=np.uint64))[0]
        return _mix(start + (np.asarray(rows, dtype=np.uint64) + np.uint64(1)) * _GOLDEN)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _MIX[0]
    z = (z ^ (z >> np.uint64(27))) * _MIX[1]
    return z ^ (z >> np.uint64(31))


def fractions(keys: np.ndarray) -> np.ndarray:
    """Keys as floats uniform in [0, 1).

    Example:
        >>> float(fractions(np.array([0], dtype=np.uint64))[0])
        0.0
    """
    return (keys >> np.uint64(11)).astype(np.float64) * 2.0**-53


class RowSample:
    """The `size` rows with the smallest keys seen so far: a uniform sample without replacement
    ("bottom-k"), of any number of rows, in memory proportional to `size`.

    Example:
        >>> sample = RowSample(100)
        >>> for chunk in read_chunks(files, 10_000):  # doctest: +SKIP
        ...     sample.add(row_keys(chunk.rows, seed=0, salt=1), chunk.frame)
        >>> sample.frame()  # doctest: +SKIP
    """

    def __init__(self, size: int) -> None:
        self.size, self.seen = size, 0
        self._keys: list[np.ndarray] = []
        self._frames: list[pd.DataFrame] = []
        self._held = 0
        self._limit = np.uint64(2**64 - 1)  # rows with a key above the size-th smallest cannot get in

    def add(self, keys: np.ndarray, frame: pd.DataFrame) -> None:
        self.seen += len(frame)
        keep = keys <= self._limit
        if keep.any():
            self._keys.append(keys[keep])
            self._frames.append(frame[keep])
            self._held += int(keep.sum())
        if self._held >= 2 * self.size:
            self._compact()

    def _compact(self) -> None:
        keys = np.concatenate(self._keys)
        frame = pd.concat(self._frames)
        if len(keys) > self.size:
            smallest = np.argpartition(keys, self.size - 1)[:self.size]
            keys, frame = keys[smallest], frame.iloc[smallest]
            self._limit = keys.max()
        self._keys, self._frames, self._held = [keys], [frame], len(keys)

    def frame(self) -> pd.DataFrame:
        """The sample, in file order; its index holds the row numbers."""
        if not self._frames:
            return pd.DataFrame()
        self._compact()
        return self._frames[0].sort_index()


@dataclass(frozen=True)
class Scan:
    """What one pass over the files found (`scan`)."""

    sample: pd.DataFrame  # a uniform sample of the rows; its index holds their row numbers
    rows: np.ndarray  # rows per part
    labels: list[Counter] | None  # per part, target value -> rows; None past `max_labels` values


def scan(files: Sequence[Path], target: str, parts: Callable[[np.ndarray], np.ndarray], *, n_parts: int, seed: int,
         sample_rows: int, chunk_rows: int, max_labels: int) -> Scan:
    """Read every row once: count the rows of each part (`parts(row numbers)` -> part indices),
    count the target's values per part while there are at most `max_labels` of them, keep a
    uniform sample of `sample_rows` rows, and refuse a missing target value by its row.

    Example:
        >>> found = scan(files, "label", lambda rows: rows % 2, n_parts=2, seed=0, sample_rows=1000,
        ...              chunk_rows=10_000, max_labels=1000)  # doctest: +SKIP
    """
    sample, rows = RowSample(sample_rows), np.zeros(n_parts, np.int64)
    labels: list[Counter] | None = [Counter() for _ in range(n_parts)]
    for chunk in read_chunks(files, chunk_rows):
        y, part = chunk.frame[target], parts(chunk.rows)
        missing = y.isna().to_numpy()
        if missing.any():
            raise ValueError(f"target {target!r} is missing in {int(missing.sum())} row(s) of {str(chunk.path)!r}, "
                             f"the first its data row {chunk.offset + int(np.argmax(missing)) + 1}; drop those rows "
                             "or fill them in.")
        rows += np.bincount(part, minlength=n_parts)
        if labels is not None:
            for i, counter in enumerate(labels):
                counter.update(y[part == i].value_counts(sort=False).to_dict())
            labels = None if len(set().union(*labels)) > max_labels else labels
        sample.add(row_keys(chunk.rows, seed, salt=_SAMPLE_SALT), chunk.frame)
    return Scan(sample.frame(), rows, labels)


def pooled(blocks: Iterable[list[np.ndarray]], size: int, rng: np.random.Generator) -> Iterator[list[np.ndarray]]:
    """Blocks of rows (lists of arrays of one length) shuffled through a pool of `size` rows: each
    row out is drawn at random from the pool (tf.data's `shuffle`, vectorised per block).

    Example:
        >>> out = pooled(([np.arange(i, i + 3)] for i in (0, 3, 6)), 4, np.random.default_rng(0))
        >>> sorted(np.concatenate([block[0] for block in out]).tolist())
        [0, 1, 2, 3, 4, 5, 6, 7, 8]
    """
    pool = None
    for block in blocks:
        pool = block if pool is None else [np.concatenate([a, b]) for a, b in zip(pool, block)]
        if len(pool[0]) > size:
            order = rng.permutation(len(pool[0]))
            out, keep = order[:len(order) - size], order[len(order) - size:]
            yield [a[out] for a in pool]
            pool = [a[keep] for a in pool]
    if pool is not None:
        order = rng.permutation(len(pool[0]))
        yield [a[order] for a in pool]
