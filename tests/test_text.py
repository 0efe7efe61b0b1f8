"""course_utils.text: word vectorizer (standardisation, vocabulary, padding, .keras round trip) and CharVocab."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from course_utils.text import UNKNOWN_CHAR, CharVocab, make_word_vectorizer, standardize_text, vocabulary  # noqa: E402

REVIEWS = [
    "A great movie!<br /><br />The acting was GREAT.",
    "Terrible, terrible film. Don't watch it.<br />Really terrible.",
    "great film, great cast",
]


@pytest.fixture(scope="module")
def vec():
    return make_word_vectorizer(REVIEWS, max_tokens=12, sequence_length=8)


def test_standardize_strips_html_punctuation_and_case():
    out = standardize_text(tf.constant(["Great.<br /><br />The END!", "Don't <i>ever</i> (really)"])).numpy()
    words = [s.decode().split() for s in out]
    assert words == [["great", "the", "end"], ["dont", "ever", "really"]]


def test_vocabulary_order_and_size(vec):
    vocab = vocabulary(vec)
    assert vocab[:2] == ["", "[UNK]"]
    assert all(isinstance(w, str) for w in vocab)
    assert len(vocab) == 12 == vec.vocabulary_size()            # max_tokens counts padding and [UNK]
    assert vocab[2:4] == ["great", "terrible"]                  # 4 and 3 occurrences: most frequent first
    assert not any(w in vocab for w in ("br", "<br", "br />", "great.", "Great"))


def test_ids_are_padded_and_truncated(vec):
    ids = vec(["great film", "great " * 20]).numpy()
    vocab = vocabulary(vec)
    assert ids.shape == (2, 8)
    assert [vocab[i] for i in ids[0, :2]] == ["great", "film"] and (ids[0, 2:] == 0).all()
    assert (ids[1] == vocab.index("great")).all()
    assert vec(["zzzunseen"]).numpy()[0, 0] == 1                 # out of vocabulary -> [UNK]


def test_no_sequence_length_pads_to_the_longest_text():
    ragged = make_word_vectorizer(REVIEWS, max_tokens=12, sequence_length=None)
    ids = ragged(["great film", "great " * 20]).numpy()
    assert ids.shape == (2, 20) and (ids[0, 2:] == 0).all()


def test_accepts_datasets_and_arrays(vec):
    expected = vocabulary(vec)
    ds = tf.data.Dataset.from_tensor_slices(REVIEWS)
    for texts in (ds, ds.batch(2), np.array(REVIEWS, dtype=object)):
        assert vocabulary(make_word_vectorizer(texts, max_tokens=12, sequence_length=8)) == expected


def test_model_with_vectorizer_survives_keras_file(vec, tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(1,), dtype="string")
    x = vec(inputs)
    x = keras.layers.Embedding(12, 4)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    texts = tf.constant([["GREAT film!<br />"], ["terrible, terrible"], ["never seen words"]])
    before = model.predict(texts, verbose=0)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), before, rtol=1e-6)
    reloaded_vec = next(layer for layer in loaded.layers if isinstance(layer, keras.layers.TextVectorization))
    assert reloaded_vec.get_config()["standardize"] is standardize_text
    assert vocabulary(reloaded_vec) == vocabulary(vec)


POEM = "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。"


def test_charvocab_order_is_frequency_then_code_point():
    cv = CharVocab.from_texts(["bab", "cca", "d"])
    # counts: a 2, b 2, c 2, d 1 -> ties broken by code point
    assert cv.chars == (UNKNOWN_CHAR, "a", "b", "c", "d")
    assert cv.size == len(cv) == 5
    assert cv.char2idx["a"] == 1 and cv.idx2char[4] == "d"
    assert CharVocab.from_texts(["d", "cca", "bab"]) == cv      # input order does not matter


def test_charvocab_poem_round_trip():
    cv = CharVocab.from_texts([POEM])
    assert cv.chars[0] == UNKNOWN_CHAR
    assert cv.chars[1:6] == ("。", "头", "明", "月", "，")        # 2 occurrences each, then by code point
    assert "\n" in cv.char2idx
    ids = cv.encode(POEM)
    assert ids.dtype == np.int32 and ids.shape == (len(POEM),) and ids.min() >= 1
    assert cv.decode(ids) == POEM
    assert cv.decode(tf.constant(ids)) == POEM
    assert cv.decode([]) == ""
    assert isinstance(cv.idx2char, np.ndarray) and cv.idx2char[ids[0]] == "床"


def test_charvocab_min_count_and_unknown_characters():
    cv = CharVocab.from_texts(POEM, min_count=2)
    assert set(cv.chars[1:]) == {"明", "月", "头", "，", "。"}
    with pytest.raises(ValueError, match=r"2 character\(s\) not in the vocabulary: '光', '床'.*errors=\"replace\""):
        cv.encode("床前明月光"[::2])                               # 床, 明, 光
    ids = cv.encode("床明X", errors="replace")
    assert ids.tolist() == [0, cv.char2idx["明"], 0]
    assert cv.decode(ids) == f"{UNKNOWN_CHAR}明{UNKNOWN_CHAR}"
    with pytest.raises(ValueError, match="errors"):
        cv.encode("明", errors="ignore")
    with pytest.raises(IndexError):
        cv.decode([cv.size])


def test_charvocab_replacement_character_in_text_is_not_a_vocabulary_entry():
    cv = CharVocab.from_texts(["ab" + UNKNOWN_CHAR])
    assert cv.chars == (UNKNOWN_CHAR, "a", "b")
    assert cv.encode(UNKNOWN_CHAR).tolist() == [0]


def test_c1_control_characters_become_spaces():
    """IMDB contains U+0085; left in place it becomes a vocabulary entry that breaks reloading a .keras model."""
    out = standardize_text(tf.constant(["wait\x85what", "ok\x9fthen"])).numpy()
    assert [t.decode() for t in out] == ["wait what", "ok then"]


def test_encode_last_tokens_keeps_each_texts_last_words_across_batches():
    from course_utils.truncation import encode_last_tokens

    texts = np.array(["one two three four five", "two three", "five four three two one two", "one"])
    vectorizer = make_word_vectorizer(texts, sequence_length=None)
    vocab = vectorizer.get_vocabulary()
    ids = encode_last_tokens(vectorizer, texts, length=3, batch_size=2)    # batches padded to different widths
    words = [[vocab[i] for i in row if i] for row in ids]
    assert ids.shape == (4, 3)
    assert words == [["three", "four", "five"], ["two", "three"], ["two", "one", "two"], ["one"]]
    assert ids[1, 2] == 0 and ids[3, 1:].tolist() == [0, 0]      # padded with 0 at the end
    with pytest.raises(ValueError, match="sequence_length=None"):
        encode_last_tokens(make_word_vectorizer(texts, sequence_length=4), texts)
