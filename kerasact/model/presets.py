"""The presets table, where the model's readers find it: `kerasact._presets` holds it (TensorFlow-free,
so the command line lists the presets without loading Keras)."""

from kerasact._presets import DEFAULT_PRESET, PRESETS, STREAM_PRESET, Preset, get

__all__ = ["DEFAULT_PRESET", "PRESETS", "STREAM_PRESET", "Preset", "get"]
