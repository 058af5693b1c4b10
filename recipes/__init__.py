"""keras-io-style recipe scripts; run one with `python -m recipes.binary`, all with `python -m recipes`."""
