"""`python -m kerasact`: the `kerasact` command."""

import sys

from kerasact.cli import main

sys.exit(main())
