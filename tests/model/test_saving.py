"""kerasact.model.saving: crafted bad files are refused with clear messages, good files round-trip,
and neither a failing write nor a SIGKILL mid-save ever leaves a torn model at the target."""

import json
import os
import pathlib
import re
import select
import signal
import struct
import subprocess
import sys
import time
import zipfile

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kerasact.model._archive
from kerasact.model.saving import load_model, save_model

WEIGHTS = "model.weights.h5"


def tiny_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


@keras.saving.register_keras_serializable(package="kerasact_test")
class Double(keras.layers.Layer):
    """A custom layer: loads only when passed explicitly in custom_objects."""

    def call(self, x):
        return x * 2.0


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("valid") / "model.keras"
    tiny_model().save(path)
    return path


# ---- crafted bad files: each maker writes one into a tmp dir and returns its path ----


def _rezip(valid: pathlib.Path, dest: pathlib.Path, drop=(), replace=None) -> pathlib.Path:
    with zipfile.ZipFile(valid) as src, zipfile.ZipFile(dest, "w") as out:
        for name in src.namelist():
            if name not in drop:
                out.writestr(name, (replace or {}).get(name, src.read(name)))
    return dest


def _with_layer(valid: pathlib.Path, dest: pathlib.Path, layer: dict) -> pathlib.Path:
    config = json.loads(zipfile.ZipFile(valid).read("config.json"))
    config["config"]["layers"][1] = layer
    return _rezip(valid, dest, replace={"config.json": json.dumps(config)})


def truncated(valid, d):
    data = valid.read_bytes()
    (d / "m.keras").write_bytes(data[: len(data) // 2])
    return d / "m.keras"


def garbage(valid, d):
    (d / "m.keras").write_bytes(bytes(range(256)) * 8)
    return d / "m.keras"


def empty(valid, d):
    (d / "m.keras").write_bytes(b"")
    return d / "m.keras"


def bad_crc(valid, d):
    data = bytearray(valid.read_bytes())
    info = zipfile.ZipFile(valid).getinfo(WEIGHTS)
    # Member data starts after the 30-byte local header, its file name and extra field.
    start = info.header_offset
    name_len, extra_len = struct.unpack("<HH", data[start + 26 : start + 30])
    data[start + 30 + name_len + extra_len + info.compress_size // 2] ^= 0xFF
    (d / "m.keras").write_bytes(bytes(data))
    return d / "m.keras"


def no_config(valid, d):
    return _rezip(valid, d / "m.keras", drop={"config.json"})


def no_weights(valid, d):
    return _rezip(valid, d / "m.keras", drop={WEIGHTS})


def config_not_json(valid, d):
    return _rezip(valid, d / "m.keras", replace={"config.json": b"{not json"})


def lambda_layer(valid, d):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(d / "m.keras")  # plain Keras writes it; kerasact must refuse to read it
    return d / "m.keras"


def foreign_module(valid, d):
    layer = {"module": "os", "class_name": "system", "config": {"command": "echo pwned"},
             "registered_name": None}
    return _with_layer(valid, d / "m.keras", layer)


def unknown_registered(valid, d):
    layer = {"module": "evil_pkg.layers", "class_name": "Backdoor", "config": {},
             "registered_name": "evil_pkg>Backdoor"}
    return _with_layer(valid, d / "m.keras", layer)


def keras_non_modeling(valid, d):
    # Inside the keras namespace, so only Keras's own check refuses it; kerasact rewords it.
    layer = {"module": "keras.utils", "class_name": "get_file",
             "config": {"origin": "http://example.invalid/x"}, "registered_name": None}
    return _with_layer(valid, d / "m.keras", layer)


def tfsm_layer(valid, d):
    # Keras writes a TFSMLayer as any built-in layer; loading it would run a SavedModel from disk.
    layer = {"module": "keras.layers", "class_name": "TFSMLayer", "registered_name": None,
             "config": {"name": "served", "filepath": str(d / "elsewhere"), "call_endpoint": "serve"}}
    return _with_layer(valid, d / "m.keras", layer)


def torch_wrapper(valid, d):
    layer = {"module": "keras.layers", "class_name": "TorchModuleWrapper", "registered_name": None,
             "config": {"name": "torch", "module": "gASVAAAAAAAAAAA="}}  # a pickle, unpickled on load
    return _with_layer(valid, d / "m.keras", layer)


def config_list(valid, d):
    return _rezip(valid, d / "m.keras", replace={"config.json": b"[1, 2]"})


def config_without_class(valid, d):
    return _rezip(valid, d / "m.keras", replace={"config.json": b'{"layers": []}'})


def custom_not_passed(valid, d):
    model = keras.Sequential([keras.Input((4,)), Double()])
    model.save(d / "m.keras")
    return d / "m.keras"


def legacy_h5(valid, d):
    tiny_model().save(d / "m.h5")  # Keras 3 still writes legacy HDF5
    return d / "m.h5"


def saved_model_dir(valid, d):
    (d / "saved_model").mkdir()
    (d / "saved_model" / "saved_model.pb").write_bytes(b"\x08\x01")
    return d / "saved_model"


def missing(valid, d):
    return d / "nowhere" / "m.keras"


def corrupt(detail: str) -> str:
    return re.escape(f"is corrupt or incomplete ({detail}): re-save it or restore a backup.")


def foreign(name: str) -> str:
    return re.escape(f"names {name!r}, which is not built into Keras; only built-in Keras "
                     "layers load, or custom objects you pass in custom_objects=.")


def not_model(detail: str) -> str:
    return re.escape(f"is not a Keras model file ({detail}); write one with kerasact.save_model(model, path).")


NOT_ZIP = corrupt("not a zip archive: truncated or overwritten")
LAMBDA = "Lambda layers hold arbitrary Python code and are refused"
TRUSTED = re.escape("not allowed in safe mode. If you trust the file, use "
                    "keras.saving.load_model(path, safe_mode=False).")
TFSM = "contains a TFSMLayer{}, which loads a SavedModel from disk: " + TRUSTED
BAD_FILES = [  # (maker, exception type, message fragment)
    pytest.param(truncated, ValueError, NOT_ZIP, id="truncated"),
    pytest.param(garbage, ValueError, NOT_ZIP, id="garbage"),
    pytest.param(empty, ValueError, corrupt("the file is empty"), id="empty"),
    pytest.param(bad_crc, ValueError, corrupt(f"member {WEIGHTS!r} fails its CRC check"),
                 id="bad-crc"),
    pytest.param(no_config, ValueError, corrupt("'config.json' is missing"), id="no-config"),
    pytest.param(no_weights, ValueError, corrupt(f"{WEIGHTS!r} is missing"), id="no-weights"),
    pytest.param(config_not_json, ValueError, corrupt("'config.json' is not valid JSON"),
                 id="bad-json"),
    pytest.param(lambda_layer, ValueError, "contains a Lambda layer 'lambda'; " + LAMBDA,
                 id="lambda"),
    pytest.param(tfsm_layer, ValueError, TFSM.format(" 'served'"), id="tfsm-layer"),
    pytest.param(torch_wrapper, ValueError,
                 "contains a TorchModuleWrapper 'torch', which unpickles Python code: " + TRUSTED,
                 id="torch-module-wrapper"),
    pytest.param(config_list, ValueError, not_model("its config.json holds a JSON list, not an object"),
                 id="config-list"),
    pytest.param(config_without_class, ValueError, not_model("its config.json names no 'class_name' and 'config'"),
                 id="config-no-class"),
    pytest.param(foreign_module, ValueError, foreign("os.system"), id="os-system"),
    pytest.param(unknown_registered, ValueError, foreign("evil_pkg>Backdoor"),
                 id="unknown-registered"),
    pytest.param(keras_non_modeling, ValueError,
                 r"names an object Keras will not resolve safely \(Cannot deserialize "
                 r"`keras\.utils\.get_file`", id="keras-non-modeling"),
    pytest.param(custom_not_passed, ValueError, foreign("kerasact_test>Double"),
                 id="custom-not-passed"),
    pytest.param(legacy_h5, ValueError,
                 r"m\.h5' is a legacy HDF5 file; kerasact loads only the \.keras format\. "
                 r"Convert it once in trusted code", id="h5"),
    pytest.param(saved_model_dir, ValueError,
                 r"saved_model' is a directory \(a legacy SavedModel\?\); kerasact loads only",
                 id="saved-model-dir"),
    pytest.param(missing, FileNotFoundError, r"nowhere/m\.keras' does not exist; check the path",
                 id="missing"),
]


@pytest.mark.parametrize(("make", "error", "match"), BAD_FILES)
def test_bad_file_is_refused_with_a_clear_message(valid, tmp_path, make, error, match):
    path = make(valid, tmp_path)
    with pytest.raises(error, match=match) as caught:
        load_model(path)
    message = str(caught.value)
    assert type(caught.value) is error  # no BadZipFile, KeyError… dressed up as a subclass
    assert message.startswith("load_model: path='") and len(message) <= 300, message
    assert path.name in message


@pytest.mark.parametrize("why", sorted(kerasact.model._archive._REFUSALS))
def test_every_refusal_fits_300_characters_at_its_longest(why):
    path = pathlib.Path("/" + "deep/" * 40 + "model.keras")  # shown by its last 80 characters
    # The longest detail each row is given: a layer name cut to 30 characters, or a 100-character detail.
    layer_rows = set(kerasact.model._archive._UNSAFE.values())
    detail = " " + repr("a" * 29 + "…") if why in layer_rows else "d" * 100
    assert len(str(kerasact.model._archive._refuse(path, why, detail))) <= 300


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_byte_loads_intact_or_is_refused_cleanly(valid, tmp_path, data):
    original = valid.read_bytes()
    damaged = bytearray(original)
    at = data.draw(st.integers(0, len(original) - 1), label="offset")
    damaged[at] ^= data.draw(st.integers(1, 255), label="xor")
    cut = data.draw(st.sampled_from([len(original), at + 1]), label="keep bytes")
    path = tmp_path / "m.keras"
    path.write_bytes(bytes(damaged[:cut]))
    try:
        loaded = load_model(path)
    except ValueError as err:  # any other exception type is a raw error escaping
        assert str(err).startswith("load_model: ") and len(str(err)) <= 300, str(err)
    else:  # the byte was one zip does not check (a timestamp, say): the model is intact
        want = keras.saving.load_model(valid).get_weights()
        for got, expected in zip(loaded.get_weights(), want, strict=True):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        pytest.param(lambda_layer, "contains a Lambda layer; " + LAMBDA, id="lambda"),
        pytest.param(tfsm_layer, TFSM.format(""), id="tfsm-layer"),
        pytest.param(foreign_module, r"will not resolve safely \(Could not locate class 'system'",
                     id="os-system"),
    ],
)
def test_keras_safe_mode_errors_are_normalised_too(valid, tmp_path, monkeypatch, make, match):
    # Switch off kerasact's own scan: Keras's safe mode must still refuse, in kerasact's words.
    monkeypatch.setattr(kerasact.model._archive, "scan_config", lambda *args: None)
    with pytest.raises(ValueError, match=match) as caught:
        load_model(make(valid, tmp_path))
    assert len(str(caught.value)) <= 300


def test_custom_objects_passed_explicitly_load(tmp_path):
    model = keras.Sequential([keras.Input((4,)), Double()])
    path = save_model(model, tmp_path / "m.keras")
    loaded = load_model(path, custom_objects={"kerasact_test>Double": Double})
    prediction = loaded.predict(np.ones((2, 4)), verbose=0)
    np.testing.assert_array_equal(prediction, np.full((2, 4), 2.0))


def test_round_trip_keeps_predictions_weights_and_compiled_loss(tmp_path):
    model = tiny_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    X = np.random.normal(size=(16, 4)).astype("float32")
    model.train_on_batch(X, (X[:, :1] > 0).astype("float32"))  # so the optimizer has state
    path = save_model(model, tmp_path / "deep" / "er" / "model.keras")
    assert path == tmp_path / "deep" / "er" / "model.keras"
    assert os.listdir(path.parent) == ["model.keras"]  # no temporary file left behind
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    for got, want in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert loaded.loss == "binary_crossentropy"
    assert int(loaded.optimizer.iterations) == 1
    assert not load_model(path, compile=False).compiled


def test_saved_file_gets_an_ordinary_mode_not_mkstemps_0600(tmp_path):
    path = save_model(tiny_model(), tmp_path / "m.keras")
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


PATH_EXPECTED = re.escape("is not valid: expected a file path ending in '.keras' (str or pathlib.Path). "
                          "Pass a file name such as 'model.keras'.")
BAD_ARGUMENTS = [  # (call, exception type, message fragment); each message starts with the argument
    pytest.param(lambda d: save_model(tiny_model(), d / "m.h5"), ValueError,
                 r"path='.*m\.h5' does not end in '\.keras'.*Use a name like", id="save-h5"),
    pytest.param(lambda d: save_model(tiny_model(), d / "dir.keras"), ValueError,
                 r"dir\.keras' is a directory; pass a file path inside it", id="save-dir"),
    pytest.param(lambda d: save_model("model", d / "m.keras"), TypeError,
                 r"^model='model' \(str\) is not valid: expected a keras\.Model\. Pass the model itself",
                 id="save-not-model"),
    pytest.param(lambda d: save_model(None, d / "m.keras"), TypeError, r"^model=None \(NoneType\) is not valid",
                 id="save-model-none"),
    pytest.param(lambda d: save_model(tiny_model(), 5), TypeError, r"^path=5 \(int\) " + PATH_EXPECTED,
                 id="save-int"),
    pytest.param(lambda d: save_model(tiny_model(), None), TypeError, r"^path=None \(NoneType\) " + PATH_EXPECTED,
                 id="save-none"),
    pytest.param(lambda d: save_model(tiny_model(), ""), ValueError, r"^path='' " + PATH_EXPECTED, id="save-empty"),
    pytest.param(lambda d: save_model(tiny_model(), str(d / "m.keras").encode()), TypeError,
                 r"^path=b'.* \(bytes\) " + PATH_EXPECTED, id="save-bytes"),
    pytest.param(lambda d: load_model(3), TypeError, r"^path=3 \(int\) " + PATH_EXPECTED, id="load-int"),
    pytest.param(lambda d: load_model(None), TypeError, r"^path=None \(NoneType\) " + PATH_EXPECTED,
                 id="load-none"),
    pytest.param(lambda d: load_model(""), ValueError, r"^path='' " + PATH_EXPECTED, id="load-empty"),
    pytest.param(lambda d: load_model(d / "m.json"), ValueError, "is not a .keras file", id="load-json"),
    pytest.param(lambda d: load_model(d / "m.keras", custom_objects=[Double]), TypeError,
                 r"^custom_objects=\[.*\(list\) is not valid: expected None or a dict.*Pass \{'pkg>Name': Name\}",
                 id="load-custom-list"),
    pytest.param(lambda d: load_model(d / "m.keras", compile="yes"), TypeError,
                 r"^compile='yes' \(str\) is not valid: expected True or False\. Pass compile=False",
                 id="load-compile-str"),
    pytest.param(lambda d: load_model(d / "m.keras", compile=None), TypeError,
                 r"^compile=None \(NoneType\) is not valid", id="load-compile-none"),
    pytest.param(lambda d: load_model(d / "m.keras", compile=1), TypeError, r"^compile=1 \(int\) is not valid",
                 id="load-compile-int"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_ARGUMENTS)
def test_bad_arguments(tmp_path, call, error, match):
    (tmp_path / "dir.keras").mkdir()
    tiny_model().save(tmp_path / "m.keras")  # a good file: only the argument is wrong
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(error, match=match) as caught:
        call(tmp_path)
    assert type(caught.value) is error and len(str(caught.value)) <= 300
    assert sorted(os.listdir(tmp_path)) == before  # refused before anything was written


def test_keras_with_loading_cves_is_refused(valid, monkeypatch):
    monkeypatch.setattr(keras, "__version__", "3.15.0")
    with pytest.raises(ValueError, match=r"keras.__version__='3.15.0'.*expected keras>=3.15.1"):
        load_model(valid)


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()], ids=repr)
def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch, failure):
    target = tmp_path / "model.keras"
    old = tiny_model()
    save_model(old, target)
    new = tiny_model()
    assert not np.array_equal(new.get_weights()[0], old.get_weights()[0])

    def torn_save(filepath, *args, **kwargs):
        pathlib.Path(filepath).write_bytes(b"PK\x03\x04" + bytes(500))  # half-written, then dies
        raise failure

    monkeypatch.setattr(new, "save", torn_save)
    with pytest.raises(type(failure)):
        save_model(new, target)
    assert os.listdir(tmp_path) == ["model.keras"]
    for got, want in zip(load_model(target).get_weights(), old.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


# ---- a real SIGKILL mid-save ----

WRITER = """
import sys
import numpy as np
import keras
from kerasact.model.saving import save_model

target, version = sys.argv[1], int(sys.argv[2])
# ~1 M parameters: each save takes long enough for a kill to land inside it.
model = keras.Sequential([keras.Input((64,))] + [keras.layers.Dense(512) for _ in range(4)])
print("ready", flush=True)
sys.stdin.readline()
while True:  # version v has every weight equal to v
    model.set_weights([np.full(w.shape, version, w.dtype) for w in model.get_weights()])
    save_model(model, target)
    print("saved", version, flush=True)
    version += 1
"""


def _line(proc: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"writer {proc.pid} said nothing for {timeout} s"
    return proc.stdout.readline()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_save_leaves_a_loadable_model(tmp_path):
    target, kills, stride = tmp_path / "model.keras", 5, 1_000_000
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    logs = [open(tmp_path / f"writer{i}.err", "w") for i in range(kills)]
    # Start every writer at once so their TensorFlow imports overlap; each then waits for "go".
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(i * stride)], env=env,
                         text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        for i, log in enumerate(logs)
    ]
    mid_save = 0
    try:
        for i, (writer, delay) in enumerate(zip(writers, np.random.uniform(0.0, 0.4, kills))):
            first = i * stride
            assert _line(writer, 90) == "ready\n", (tmp_path / f"writer{i}.err").read_text()
            writer.stdin.write("go\n")
            writer.stdin.flush()
            assert _line(writer, 30) == f"saved {first}\n"
            temps_before = len(list(tmp_path.glob(".model.keras.*")))
            time.sleep(delay)
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            announced = [int(line.split()[1]) for line in writer.stdout.read().splitlines()]
            last = max([first, *announced])
            mid_save += len(list(tmp_path.glob(".model.keras.*"))) > temps_before
            weights = load_model(target, compile=False).get_weights()
            version = weights[0].flat[0]
            # One whole version: the last announced, or the next if the kill cut off its print.
            assert first <= version <= last + 1, (delay, version, last)
            assert all(np.all(w == version) for w in weights), (delay, version)
    finally:
        for writer, log in zip(writers, logs):
            if writer.poll() is None:
                writer.kill()
                writer.wait()
            for stream in (writer.stdin, writer.stdout, log):
                stream.close()
    assert mid_save, "no kill landed mid-save, so nothing was tested; use a larger model"
