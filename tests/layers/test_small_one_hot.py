"""SmallOneHot and CategoryEmbedding: RealMLP's category rules on StringLookup codes (0 = OOV)."""

import keras
import numpy as np

from kerasact.layers import MAX_ONE_HOT_LEVELS, CategoryEmbedding, SmallOneHot, category_encoder, one_hot_table


def _encode(layer, codes):
    return keras.ops.convert_to_numpy(layer(np.asarray(codes, "int32"))).tolist()


def test_pytabkits_tables():
    assert one_hot_table(1).tolist() == [[-1.0], [1.0]]  # missing -1, the level +1
    assert one_hot_table(2).tolist() == [[0.0], [1.0], [-1.0]]  # two levels: one ±1 feature, missing 0
    assert one_hot_table(3).tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_missing_unseen_and_out_of_range_codes_are_all_zeros():
    lookup = keras.layers.StringLookup(vocabulary=["a", "b", "c"], num_oov_indices=1)
    codes = lookup(np.array([["b"], ["never seen"], ["c"]]))
    assert _encode(SmallOneHot(3), codes) == [[0, 1, 0], [0, 0, 0], [0, 0, 1]]
    assert _encode(SmallOneHot(3), [[-1], [4], [99]]) == [[0, 0, 0]] * 3
    assert _encode(SmallOneHot(2), [0, 1, 2, 5]) == [[0.0], [1.0], [-1.0], [0.0]]  # (n,) codes work too


def test_more_than_eight_levels_get_an_eight_wide_standard_normal_embedding():
    assert isinstance(category_encoder(MAX_ONE_HOT_LEVELS), SmallOneHot)
    layer = category_encoder(MAX_ONE_HOT_LEVELS + 1)
    assert isinstance(layer, CategoryEmbedding) and (layer.input_dim, layer.output_dim) == (10, 8)
    big = category_encoder(400)
    out = keras.ops.convert_to_numpy(big(np.array([[0], [400], [401], [-3]], "int32")))
    assert out.shape == (4, 8)
    np.testing.assert_array_equal(out[2:], [out[0], out[0]])  # out of range reads the OOV row 0
    table = big.get_weights()[0]
    assert table.shape == (401, 8) and 0.9 < table.std() < 1.1 and abs(table.mean()) < 0.1  # N(0, 1)
