"""The schema of a table: what each column is (numeric, categorical, dropped), by one table of rules.

`RULES` is read top to bottom and the first rule that matches a column decides it, with the
reason printed beside it. Peers guess differently (by dtype; categorical below 5% or 50%
distinct values) and users complain about wrong guesses, so the decision is never silent:
`Schema.table()` prints it, the run directory and the model file keep it, and
`categorical=`, `numeric=` and `drop=` override it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from kerasact import _errors
from kerasact.problems import MAX_FLOAT_CLASSES, get_head, infer_problem

Kind = Literal["numeric", "categorical", "dropped"]
MAX_INTEGER_CATEGORIES = 10  # integer columns with at most this many values are categories (years, ratings)
MIN_ROWS_FOR_ID = 20  # below this, all-distinct values are no evidence of an id column
SCHEMA_ATTRIBUTE = "kerasact_schema"  # the Schema rides on the model object; save_model stores it in the file
# Names of a table model's own layers: prefixed, so no column name ("features", "scale_x") collides with them.
FEATURES_LAYER = "kerasact_features"


def scale_layer(name: str) -> str:
    """The name of a numeric column's standardisation layer in a table model.

    Example:
        >>> scale_layer("body_mass_g")
        'kerasact_scale_body_mass_g'
    """
    return f"kerasact_scale_{name}"


def lookup_layer(name: str) -> str:
    """The name of a categorical column's `StringLookup` layer in a table model.

    Example:
        >>> lookup_layer("island")
        'kerasact_lookup_island'
    """
    return f"kerasact_lookup_{name}"


@dataclass(frozen=True)
class Rule:
    """One row of the column rules: when it applies, what the column becomes, and why."""

    name: str
    applies: Callable[[pd.Series, pd.Series], bool]  # (column, its non-missing values) -> bool
    kind: Kind
    reason: str


def _is_text(column: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype))


def _is_whole(values: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(values.dtype):
        return True
    return pd.api.types.is_float_dtype(values.dtype) and bool(np.all(np.mod(values.to_numpy(float), 1) == 0))


RULES: tuple[Rule, ...] = (
    Rule("two values", lambda c, v: pd.api.types.is_bool_dtype(c.dtype) or v.nunique() == 2, "categorical",
         "bool, or exactly 2 distinct values"),
    Rule("id-like", lambda c, v: len(v) >= MIN_ROWS_FOR_ID and v.nunique() == len(v)
         and (_is_text(c) or _is_whole(v)), "dropped", "every value distinct (an id): nothing to generalise from"),
    Rule("text", lambda c, v: _is_text(c), "categorical", "text or category dtype"),
    Rule("few integers", lambda c, v: _is_whole(v) and v.nunique() <= MAX_INTEGER_CATEGORIES, "categorical",
         f"whole numbers with at most {MAX_INTEGER_CATEGORIES} distinct values"),
    Rule("numbers", lambda c, v: True, "numeric", "numbers"),
)


REASONS = {rule.name: rule.reason for rule in RULES} | {"override": "you said so"}  # rule name -> why, in words


@dataclass(frozen=True)
class Column:
    """What the schema decided about one column."""

    name: str
    kind: Kind
    rule: str  # the RULES row that decided, or "override"
    missing: int  # missing values on the rows the schema was read from
    distinct: int  # distinct non-missing values there


@dataclass(frozen=True)
class Schema:
    """The columns of a table as kerasact reads them.

    Example:
        >>> schema = infer_schema(pd.DataFrame({"age": [31.5, 40.1, 35.2, None], "island": ["a", "b", "a", "c"]}))
        >>> [(c.name, c.kind) for c in schema.columns]
        [('age', 'numeric'), ('island', 'categorical')]
    """

    columns: tuple[Column, ...]
    rows: int | None = None  # the rows the schema was read from (None: a schema saved before it was kept)

    @property
    def features(self) -> tuple[Column, ...]:
        """The columns the model takes (every column not dropped), in table order."""
        return tuple(c for c in self.columns if c.kind != "dropped")

    def names(self, kind: Kind) -> list[str]:
        return [c.name for c in self.columns if c.kind == kind]

    def table(self) -> str:
        """The schema as a printable table: column, kind, rule, missing and distinct values."""
        width = max([len("column"), *(len(str(c.name)) for c in self.columns)])
        lines = [f"{'column':<{width}}  {'kind':<11}  {'missing':>7}  {'distinct':>8}  rule"]
        lines += [f"{str(c.name):<{width}}  {c.kind:<11}  {c.missing:>7}  {c.distinct:>8}  "
                  f"{REASONS.get(c.rule, c.rule)}" for c in self.columns]
        return "\n".join(lines)

    def to_dict(self, *, why: bool = False) -> dict[str, Any]:
        """The columns as plain dicts; `why` adds each one's reason in words (a run's metrics.json)."""
        columns = [dict(vars(c)) | ({"why": REASONS.get(c.rule, c.rule)} if why else {}) for c in self.columns]
        state: dict[str, Any] = {"columns": columns}
        return state | ({"rows": self.rows} if self.rows is not None else {})

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Schema:
        try:
            return cls(tuple(Column(**column) for column in state["columns"]), state.get("rows"))
        except (KeyError, TypeError) as err:
            raise ValueError(f"schema state is not a kerasact schema ({err}); it must come from Schema.to_dict().") \
                from None


def _overrides(frame: pd.DataFrame, **given: Iterable[str]) -> dict[str, Kind]:
    """`categorical=`, `numeric=`, `drop=` as {column: kind}, each name checked against the table."""
    kinds = {"categorical": "categorical", "numeric": "numeric", "drop": "dropped"}
    chosen: dict[str, Kind] = {}
    for arg, names in given.items():
        if isinstance(names, str) or not isinstance(names, Iterable):
            fix = f"pass {arg}=[{names!r}]" if isinstance(names, str) else f"pass {arg}=['column', ...]"
            raise _errors.invalid(arg, names, "a list of column names", fix, kind=TypeError)
        for name in names:
            if name not in frame.columns:
                raise _errors.invalid(arg, name, f"a column of the table: {_errors.listed(frame.columns, name)}",
                                      options=[str(c) for c in frame.columns])
            if name in chosen:
                raise ValueError(f"{arg}: column {name!r} is also given as {chosen[name]}; give each column once.")
            chosen[name] = kinds[arg]  # type: ignore[assignment]
    return chosen


def infer_schema(frame: pd.DataFrame, *, categorical: Iterable[str] = (), numeric: Iterable[str] = (),
                 drop: Iterable[str] = ()) -> Schema:
    """Read each column's kind off the table by `RULES`, with your overrides taking precedence.

    Args:
        frame: the feature columns (the target column already taken out).
        categorical: columns to treat as categories whatever their dtype.
        numeric: columns to treat as numbers (they must hold numbers).
        drop: columns to leave out.

    Returns:
        The `Schema`; a column dropped by the id rule raises a `UserWarning` naming it.

    Example:
        >>> infer_schema(pd.DataFrame({"year": [2007, 2008, 2009, 2007]})).columns[0].kind
        'categorical'
    """
    chosen = _overrides(frame, categorical=categorical, numeric=numeric, drop=drop)
    columns = []
    for name in frame.columns:
        column = frame[name]
        values = column.dropna()
        if values.empty and chosen.get(name) != "dropped":
            raise ValueError(f"column {name!r} has no values (all {len(column)} rows read are missing); drop it "
                             f"(drop=[{name!r}]) or fill it in.")
        if name in chosen:
            kind, rule = chosen[name], "override"
            if kind == "numeric" and _is_text(column):
                raise _errors.invalid("numeric", name, "columns that hold numbers", f"column {name!r} holds text; "
                                      "make it categorical instead")
        else:
            row = next(rule for rule in RULES if rule.applies(column, values))
            kind, rule = row.kind, row.name
            if kind == "dropped":
                warnings.warn(f"column {name!r} is dropped: {row.reason}. Keep it with categorical=[{name!r}].",
                              UserWarning, stacklevel=2)
        columns.append(Column(str(name), kind, rule, int(column.isna().sum()), int(values.nunique())))
    schema = Schema(tuple(columns), len(frame))
    if not schema.features:
        raise ValueError("the table has no feature columns left (all dropped); keep some with categorical=[...] "
                         "or numeric=[...].")
    return schema


def schema_of(model: Any, arg: str = "model") -> Schema:
    """The `Schema` of a model from `build_tabular_model` (or `kerasact.load_model` of one).

    Example:
        >>> schema_of(build_tabular_model(frame, target="species")).table()  # doctest: +SKIP
    """
    schema = getattr(model, SCHEMA_ATTRIBUTE, None)
    if not isinstance(schema, Schema):
        raise _errors.invalid(arg, getattr(model, "name", model), "a model from kerasact.build_tabular_model "
                              "(or kerasact.load_model of one)", "build it from a table, or pass arrays")
    return schema


def has_schema(model: Any) -> bool:
    """True for a model that takes table rows (it carries a `Schema`).

    Example:
        >>> has_schema(object())
        False
    """
    return isinstance(getattr(model, SCHEMA_ATTRIBUTE, None), Schema)


def target_problem(y: Any, name: str = "target") -> tuple[Any, str]:
    """The problem type of a table's target column, and the rule that decided it (for printing).

    Text, bool and category targets are classes. Whole numbers are classes only with at most
    `MAX_FLOAT_CLASSES` distinct values: a price or count column is regression, not thousands
    of classes. Pass `problem=` (`--problem`) when the rule guesses wrong.

    Example:
        >>> target, reason = target_problem(pd.Series(range(500)))
        >>> target.problem, reason
        ('regression', 'whole numbers with more than 20 distinct values: a quantity, not classes')
    """
    column = pd.Series(y) if not isinstance(y, pd.Series) else y
    values = column.dropna()
    if not _is_text(column) and not pd.api.types.is_bool_dtype(column.dtype) and _is_whole(values):
        found = infer_problem(column.to_numpy(dtype=np.float64, na_value=np.nan))
        if found.problem == "regression":
            return found, f"whole numbers with more than {MAX_FLOAT_CLASSES} distinct values: a quantity, not classes"
        return found, f"whole numbers with at most {MAX_FLOAT_CLASSES} distinct values: classes"
    found = infer_problem(column)
    reason = "numbers" if found.problem == "regression" else "text, bool or category values: classes"
    return found, reason


def target_plan(y: Any, problem: str | None) -> tuple[str, dict[str, int | None], str]:
    """The problem type of a table's target, the counts the builder needs, and the printed reason.

    With `problem` given it wins, and the counts are read off `y` for that problem type.

    Example:
        >>> target_plan(pd.Series(["a", "b", "c", "a"]), None)
        ('multiclass', {'n_classes': 3, 'n_outputs': None}, 'text, bool or category values: classes')
        >>> target_plan(pd.Series([1, 2, 3, 1]), "regression")
        ('regression', {'n_classes': None, 'n_outputs': 1}, 'problem= given')
    """
    if problem is None:
        found, reason = target_problem(y)
        return found.problem, {"n_classes": found.n_classes, "n_outputs": found.n_outputs}, reason
    head = get_head(problem)
    classes = int(pd.Series(y).nunique())
    counts = {"n_classes": classes if head.count == "classes" else None,
              "n_outputs": None if head.count == "classes" else (classes if head.count == "labels" else 1)}
    return head.name, counts, "problem= given"


def layer_names(schema: Schema) -> dict[str, str]:
    """A Keras-safe layer name per feature column (Keras refuses `/` and more in names), unique.

    Example:
        >>> layer_names(Schema((Column("Delta 15 N (o/oo)", "numeric", "numbers", 0, 9),)))
        {'Delta 15 N (o/oo)': 'Delta_15_N__o_oo_'}
    """
    names: dict[str, str] = {}
    for i, column in enumerate(schema.features):
        safe = re.sub(r"[^0-9A-Za-z_.-]", "_", column.name) or "column"
        names[column.name] = safe if safe not in names.values() else f"{safe}_{i}"
    return names
