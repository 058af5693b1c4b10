"""Reading a table (a pandas DataFrame, a dict of columns or a CSV path) and turning its rows
into the model's raw inputs: one `(n, 1)` tensor per feature column, by name.

Keras refuses numpy string arrays in `fit`/`predict` and silently misaligns a dict with an
extra key, so the rows go in as `tf.constant`s keyed by exactly the model's input names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from kerasact import _errors
from kerasact.tabular.schema import Schema, layer_names  # Column: the docstring examples

MISSING = "[missing]"  # the category a missing value of a categorical column becomes


def is_table(data: Any) -> bool:
    """True for what `read_table` takes: a DataFrame, a dict of columns, or a `.csv` path.

    Example:
        >>> is_table({"a": [1, 2]}), is_table([[1, 2]])
        (True, False)
    """
    if isinstance(data, (pd.DataFrame, Mapping)):
        return True
    return isinstance(data, (str, os.PathLike)) and str(data).lower().endswith((".csv", ".csv.gz"))


def read_table(data: Any, arg: str = "X") -> pd.DataFrame:
    """A DataFrame with string column names from a DataFrame, a dict of columns or a CSV file.

    Example:
        >>> read_table({1: [1, 2], "b": ["x", "y"]}).columns.tolist()  # names become strings
        ['1', 'b']
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        try:
            frame = pd.DataFrame(dict(data))
        except ValueError as err:  # columns of different lengths
            raise ValueError(f"{arg}: its columns must have one length each ({err}).") from None
    elif isinstance(data, (str, os.PathLike)):
        frame = _read_csv(Path(data), arg)
    else:
        raise _errors.invalid(arg, data, "a pandas DataFrame, a dict of columns or a .csv path", kind=TypeError)
    if frame.empty or len(frame.columns) == 0:
        raise ValueError(f"{arg} has no rows or no columns (shape {frame.shape}); pass a table with data.")
    if frame.columns.duplicated().any():
        raise ValueError(f"{arg} has duplicate column names {sorted(set(frame.columns[frame.columns.duplicated()]))};"
                         " give each column its own name.")
    return frame.rename(columns=str)


def _read_csv(path: Path, arg: str) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"{arg}={str(path)!r} is not a file; pass the path of a CSV file.")
    with read_errors(path, arg):
        return pd.read_csv(path)


@contextmanager
def read_errors(path: Path, arg: str) -> Iterator[None]:
    """pandas' reading errors as one short ValueError that names the file and the fix.

    Example:
        >>> with read_errors(Path("empty.csv"), "X"):  # doctest: +SKIP
        ...     pd.read_csv("empty.csv")
        ValueError: X='empty.csv' is empty; a CSV needs a header row and data rows.
    """
    where = f"{arg}={str(path)!r}"
    try:
        yield
    except pd.errors.EmptyDataError:
        raise ValueError(f"{where} is empty; a CSV needs a header row and data rows.") from None
    except pd.errors.ParserError as err:
        detail = str(err).strip().splitlines()[-1][:120]
        raise ValueError(f"{where} is not a regular CSV ({detail}); give every row the same number of "
                         "fields.") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{where} is not UTF-8 text (byte {err.start}); save it as UTF-8.") from None


def split_target(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """The feature columns and the target column of a table.

    Example:
        >>> X, y = split_target(pd.DataFrame({"a": [1, 2], "t": [0, 1]}), "t")
        >>> list(X.columns), y.tolist()
        (['a'], [0, 1])
    """
    if not isinstance(target, str):
        raise _errors.invalid("target", target, "the name of a column", kind=TypeError)
    if target not in frame.columns:
        raise _errors.invalid("target", target, f"a column of the table: {_errors.listed(frame.columns, target)}",
                              options=list(frame.columns))
    return frame.drop(columns=[target]), frame[target]


def check_columns(frame: pd.DataFrame, schema: Schema, arg: str = "X") -> None:
    """Refuse a table that lacks a feature column or has one the model does not know.

    Example:
        >>> check_columns(pd.DataFrame({"b": [1]}), Schema((Column("a", "numeric", "numbers", 0, 1),)))
        Traceback (most recent call last):
        ...
        ValueError: X lacks the column(s) ['a'] the model was trained on; add them (missing values are fine).
    """
    known = {c.name for c in schema.columns}
    missing = [c.name for c in schema.features if c.name not in frame.columns]
    if missing:
        raise ValueError(f"{arg} lacks the column(s) {missing[:5]} the model was trained on; add them (missing values "
                         "are fine).")
    extra = [name for name in frame.columns if name not in known]
    if extra:
        raise ValueError(f"{arg} has column(s) {extra[:5]} the model was not trained on; drop them "
                         f"(the model takes {[c.name for c in schema.features][:8]}).")


def to_inputs(frame: pd.DataFrame, schema: Schema, arg: str = "X") -> dict[str, tf.Tensor]:
    """The model's raw inputs for the rows of `frame`, in any column order and dtype.

    Numeric columns become float32 with NaN where missing (the model imputes them); categorical
    columns become strings, with `MISSING` where missing.

    Example:
        >>> schema = Schema((Column("age", "numeric", "numbers", 0, 2),))  # doctest: +SKIP
        >>> to_inputs(pd.DataFrame({"age": [3, None]}), schema)["age"].shape  # doctest: +SKIP
        TensorShape([2, 1])
    """
    check_columns(frame, schema, arg)
    inputs, keys = {}, layer_names(schema)  # keyed by the model's (Keras-safe) input names
    for column in schema.features:
        values = frame[column.name]
        if column.kind == "numeric":
            try:
                numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float32, na_value=np.nan)
            except (ValueError, TypeError):
                bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()].iloc[0]
                raise ValueError(f"{arg} column {column.name!r} is numeric for the model but holds {str(bad)[:20]!r}; "
                                 "pass numbers (missing values are fine).") from None
            inputs[keys[column.name]] = tf.constant(numbers.reshape(-1, 1))
        else:
            text = np.array([MISSING if pd.isna(v) else _category(v) for v in values.to_numpy(dtype=object)],
                            dtype=object)
            inputs[keys[column.name]] = tf.constant(text.reshape(-1, 1), dtype=tf.string)
    return inputs


def to_frame(inputs: Mapping[str, Any], schema: Schema) -> pd.DataFrame:
    """The inverse of `to_inputs`: model input columns (e.g. `result.split.X_test`) as a DataFrame
    with the table's column names, numbers as float64 and `MISSING` categories back to NaN, for
    scikit-learn baselines on the same rows.

    Example:
        >>> schema = Schema((Column("body mass", "numeric", "numbers", 0, 2),))
        >>> to_frame({"body_mass": np.array([[3.5], [np.nan]])}, schema)["body mass"].tolist()
        [3.5, nan]
    """
    keys, columns = layer_names(schema), {}
    for column in schema.features:
        values = np.asarray(inputs[keys[column.name]]).reshape(-1)
        if column.kind == "numeric":
            columns[column.name] = values.astype(np.float64)
        else:
            text = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
            columns[column.name] = pd.Series(text, dtype=object).where(pd.Series(text) != MISSING, np.nan)
    return pd.DataFrame(columns)


def _category(value: Any) -> str:
    # 3.0 and 3 are one category: whole floats (an int column with NaN reads as float) print as ints.
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
