"""Command lines: the `kerasact` command (`main`) and what every recipe script shares
(`recipe`: flags, closing table). Importing this package loads no TensorFlow."""

from kerasact.cli import recipe
from kerasact.cli.main import main

__all__ = ["main", "recipe"]
