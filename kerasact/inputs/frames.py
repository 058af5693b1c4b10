"""Turning what users pass (arrays, lists, pandas DataFrames and Series, scipy sparse matrices)
into one numpy array, with missing values and text columns named where they are.

`np.asarray` alone loses the facts a message needs: a DataFrame's text column becomes an
object array whose first cell is another column's number, nullable `Int64`/`boolean`
columns with `pd.NA` read as text, and a missing label becomes a class named `'None'`,
`'nan'` or `'<NA>'`. Here each case is one short error naming the column or row and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

# pandas dtype kind -> what the column holds, for X (features must be numbers)
_TEXT_KINDS = {"O": "text", "U": "text", "S": "text"}


def _first(mask: np.ndarray) -> str:
    where = np.argwhere(mask)[0]
    return f"row {where[0]}" + (f", column {where[1]}" if len(where) > 1 else "")


def _refuse_sparse(value: Any, arg: str) -> None:
    if sparse.issparse(value):
        raise TypeError(f"{arg} is a scipy sparse matrix (shape {value.shape}); kerasact's Dense models take dense "
                        f"arrays: pass {arg}.toarray() (it needs {value.shape[0] * value.shape[1] * 4:,} bytes).")


def _frame_features(frame: pd.DataFrame, arg: str) -> np.ndarray:
    """A DataFrame of features as float64, each text or incomplete column named."""
    for name in frame.columns:
        column = frame[name]
        missing = column.isna().to_numpy()
        if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
            if missing.any():
                raise ValueError(f"{arg} column {name!r} has {int(missing.sum())} missing value(s) (NaN/pd.NA), "
                                 f"the first at row {int(np.argmax(missing))}; drop or impute them "
                                 "(e.g. sklearn.impute.SimpleImputer).")
            continue
        example = column[~missing].iloc[0] if (~missing).any() else None
        raise TypeError(f"{arg} column {name!r} holds text or categories (dtype {column.dtype}, e.g. "
                        f"{str(example)[:20]!r}); encode it as numbers first (e.g. pandas.get_dummies).")
    return frame.to_numpy(dtype=np.float64)


def _refuse_missing_labels(arr: np.ndarray, arg: str) -> None:
    missing = np.asarray(pd.isna(arr))
    if missing.any():
        raise ValueError(f"{arg} has {int(missing.sum())} missing label(s) (None/NaN/pd.NA), the first at "
                         f"{_first(missing)}; drop those rows (keep = ~pandas.isna({arg})) or fill them in.")


def to_array(value: Any, arg: str, *, labels: bool) -> np.ndarray:
    """`value` as a numpy array: numbers, or text only for class labels (`labels=True`).

    Args:
        value: an array-like, a pandas DataFrame/Series, or a scipy sparse matrix (refused).
        arg: the argument's name for messages (`"X"`, `"y"`, `"sample_weight"`).
        labels: True for targets, where text is a class label but a missing entry is refused;
            False for features, where every column must be numeric.

    Returns:
        The array; object input becomes float64 when it is all numbers, else str.

    Example:
        >>> to_array(pd.Series(["cat", "dog"], dtype="string"), "y", labels=True).tolist()
        ['cat', 'dog']
    """
    _refuse_sparse(value, arg)
    if isinstance(value, pd.DataFrame) and not labels:
        return _frame_features(value, arg)
    if isinstance(value, (pd.Series, pd.DataFrame)):
        dtypes = value.dtypes if isinstance(value, pd.DataFrame) else [value.dtype]
        # Nullable extension dtypes (Int64, boolean, string) hold pd.NA, which only an object array keeps.
        extension = any(isinstance(d, pd.api.extensions.ExtensionDtype) for d in dtypes)
        arr = value.to_numpy(dtype=object) if extension else value.to_numpy()
    else:
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            raise ValueError(f"{arg} is ragged: its rows have different lengths; give every row the same number "
                             "of values.") from None
    if arr.dtype.kind != "O":
        return arr
    if labels:
        _refuse_missing_labels(arr, arg)
    try:  # a list mixing numbers and None: numbers (None is NaN, reported by the finiteness check)
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        pass
    if not labels:
        cells = arr.ravel()
        text = next((i for i, cell in enumerate(cells) if not _is_number(cell)), 0)
        raise TypeError(f"{arg} must be numeric; got text (e.g. {str(cells[text])[:20]!r} at "
                        f"{_first(np.arange(arr.size).reshape(arr.shape) == text)}). Encode text or categorical "
                        "columns as numbers first.")
    return arr.astype(str)


def _is_number(cell: Any) -> bool:
    try:
        float(cell)
    except (TypeError, ValueError):
        return False
    return True


def rows(X: Any) -> int:
    """Rows of an array or of a dict of `(n, 1)` columns (a table model's raw inputs).

    Example:
        >>> rows({"a": np.zeros((3, 1)), "b": np.zeros((3, 1))})
        3
    """
    return len(next(iter(X.values()))) if isinstance(X, Mapping) else len(X)


def table_inputs(X: Mapping[str, Any], model: Any = None) -> dict[str, np.ndarray]:
    """A dict of raw input columns checked: each `(n, 1)`, one `n`, and the model's input names.

    Example:
        >>> table_inputs({"a": [[1.0], [2.0]]})["a"].shape
        (2, 1)
    """
    columns = {str(k): np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in X.items()}
    if not columns:
        raise ValueError("X is an empty dict; pass one (n, 1) array per input column.")
    lengths = {name: len(v) for name, v in columns.items()}
    bad = [name for name, v in columns.items() if v.ndim != 2 or v.shape[1] != 1]
    if bad or len(set(lengths.values())) > 1:
        raise ValueError(f"X columns must each be (n, 1) with one n; got shapes "
                         f"{ {k: columns[k].shape for k in list(columns)[:4]} }. Use kerasact.tabular.to_inputs.")
    expected = getattr(model, "input", None)
    if isinstance(expected, Mapping) and set(expected) != set(columns):
        raise ValueError(f"X columns {sorted(columns)[:6]} are not the model's inputs {sorted(expected)[:6]}; pass "
                         "the table itself (kerasact reads the columns it needs).")
    return columns
