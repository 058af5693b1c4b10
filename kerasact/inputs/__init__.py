"""Checked before TensorFlow sees it: `validate` (features, targets, weights) and the label
format table (`LABEL_FORMATS`: one row per kind of `y`)."""

from kerasact.inputs._convert import Expect
from kerasact.inputs.label_formats import LABEL_FORMATS, LabelFormatRow, LossFamily
from kerasact.inputs.validation import Validated, check_split, class_sample_weights, validate

__all__ = ["LABEL_FORMATS", "Expect", "LabelFormatRow", "LossFamily", "Validated", "check_split",
           "class_sample_weights", "validate"]
