"""Tables in: the column rules (`RULES` → `Schema`), the target rule (`target_problem`), reading a
DataFrame / dict of columns / CSV, and turning rows into a model's raw inputs (`to_inputs`). The
model that takes them is `kerasact.model.build_tabular_model`; its preprocessing lives inside it."""

from kerasact.tabular.schema import (
    FEATURES_LAYER,
    MAX_INTEGER_CATEGORIES,
    RULES,
    SCHEMA_ATTRIBUTE,
    Column,
    Rule,
    Schema,
    has_schema,
    infer_schema,
    layer_names,
    lookup_layer,
    scale_layer,
    schema_of,
    target_plan,
    target_problem,
)
from kerasact.tabular.tables import MISSING, check_columns, is_table, read_table, split_target, to_frame, to_inputs

__all__ = ["FEATURES_LAYER", "MAX_INTEGER_CATEGORIES", "MISSING", "RULES", "SCHEMA_ATTRIBUTE", "Column", "Rule",
           "Schema", "check_columns", "has_schema", "infer_schema", "is_table", "layer_names", "lookup_layer",
           "read_table", "scale_layer", "schema_of", "split_target", "target_plan", "target_problem", "to_frame",
           "to_inputs"]
