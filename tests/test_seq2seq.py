"""Chapter 10's data and encoder-decoder: formats that name one date each, splits by date, the parser baseline,
the vocabulary, the inference path against teacher forcing, attention masking, greedy decoding and beam search."""
import datetime as dt

import keras
import matplotlib
import numpy as np
import pytest
from keras import ops

matplotlib.use("Agg")

from course_utils import plots  # noqa: E402
from course_utils.dates import FIRST_DAY, FORMATS, LAST_DAY, date_pairs, format_date, parse_with_dateutil, split_dates  # noqa: E402
from course_utils.seq2seq import (BOS, EOS, PAD, CharVocabulary, EncoderDecoder, ExactMatchCallback, beam_search,  # noqa: E402
                                  build_encoder_decoder, exact_match, greedy_decode)

ALL_DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]


def test_every_string_of_every_format_names_exactly_one_date():
    seen = {}
    for fmt in FORMATS:
        for day in ALL_DAYS:
            text = format_date(day, fmt)
            assert seen.setdefault(text, day) == day, f"{text!r} would mean {seen[text]} and {day}"
    assert len(seen) > 12 * len(ALL_DAYS)          # only iso-like duplicates across formats may coincide


def test_format_date_rejects_unknown_formats_and_dates_outside_the_range():
    with pytest.raises(ValueError, match="unknown date format"):
        format_date(dt.date(2000, 1, 1), "roman")
    with pytest.raises(ValueError, match="two-digit years would be ambiguous"):
        format_date(dt.date(2050, 1, 1), "iso")


def test_splits_are_disjoint_cover_every_day_and_keep_their_proportions():
    train, val, test = split_dates((0.8, 0.1, 0.1), seed=3)
    assert sorted(train + val + test) == ALL_DAYS
    assert not (set(train) & set(val) or set(train) & set(test) or set(val) & set(test))
    assert abs(len(val) - 0.1 * len(ALL_DAYS)) <= 1 and split_dates(seed=3)[2] == test
    with pytest.raises(ValueError, match="sum to 1"):
        split_dates((0.8, 0.3))


def test_pairs_are_written_dates_with_their_iso_form():
    days = ALL_DAYS[:500]
    sources, targets, formats = date_pairs(days, 200, seed=1)
    assert len(sources) == 200 and len(set(targets)) == 200        # drawn without replacement
    for s, t, f in zip(sources, targets, formats):
        assert format_date(dt.date.fromisoformat(t), f) == s
    assert set(formats) == set(FORMATS)


def test_the_parser_baseline_uses_the_datasets_two_digit_years_and_fails_softly():
    assert parse_with_dateutil("1/2/49", dayfirst=False) == "2049-01-02"
    assert parse_with_dateutil("1/2/50", dayfirst=False) == "1950-01-02"
    assert parse_with_dateutil("01.02.2003", dayfirst=True) == "2003-02-01"
    assert parse_with_dateutil("7th of March 2021", dayfirst=False) == "2021-03-07"
    assert parse_with_dateutil("not a date", dayfirst=False) == ""


def test_vocabulary_round_trip_padding_and_clear_errors():
    vocab = CharVocabulary(["2021-03-07", "1999-12-31"])
    ids = vocab.encode(["2021-03-07"], bos=True, eos=True, length=14)
    assert ids[0, 0] == BOS and ids[0, 11] == EOS and ids[0, 12:].tolist() == [PAD, PAD]
    assert vocab.decode(ids[0]) == "2021-03-07" and len(vocab) == len(vocab.chars) + 3
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode(["2021/03/07"])
    with pytest.raises(ValueError, match="longer than length=4"):
        vocab.encode(["2021-03-07"], length=4)


@pytest.fixture(scope="module")
def tiny():
    vocab = CharVocabulary(["0123456789-", "abc ."])
    src = vocab.encode(["ab c", "a.b", "cc"], length=6)          # padded differently
    dec_in = vocab.encode(["012", "345", "678"], bos=True)
    nets = {}
    for attention in (False, True):
        keras.utils.set_random_seed(0)
        nets[attention] = build_encoder_decoder(len(vocab), len(vocab), units=8, embed_dim=4, attention=attention)
    return vocab, src, dec_in, nets


@pytest.mark.parametrize("attention", [False, True])
def test_the_step_model_reproduces_the_teacher_forced_logits(tiny, attention):
    _, src, dec_in, nets = tiny
    net = nets[attention]
    enc_out, state = (np.asarray(a) for a in net.encoder(ops.convert_to_tensor(src)))
    steps = []
    for t in range(dec_in.shape[1]):
        logits, state, _ = net.step([ops.convert_to_tensor(a) for a in (dec_in[:, t:t + 1], state, enc_out, src)])
        steps.append(np.asarray(logits)[:, 0])
    np.testing.assert_allclose(np.stack(steps, axis=1), np.asarray(net.model([src, dec_in])), rtol=1e-4, atol=1e-5)


def test_attention_weights_sum_to_one_and_are_zero_on_padding(tiny):
    _, src, _, nets = tiny
    ids, weights = greedy_decode(nets[True], src, max_len=4)
    assert weights.shape == (3, 4, 6)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(weights[src[:, None, :].repeat(4, axis=1) == PAD] == 0.0)
    _, no_weights = greedy_decode(nets[False], src, max_len=4)
    assert np.all(no_weights == 0.0)


@pytest.mark.parametrize("attention", [False, True])
def test_beam_search_of_width_one_is_greedy_decoding(tiny, attention):
    _, src, _, nets = tiny
    greedy, _ = greedy_decode(nets[attention], src, max_len=5)
    beam, _ = beam_search(nets[attention], src, max_len=5, width=1)
    np.testing.assert_array_equal(beam, greedy)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        beam_search(nets[attention], src, max_len=5, width=0)


class _Scripted:
    """A stand-in decoder step whose next-token probabilities depend only on the previous token: from <s>,
    'a' (0.6) beats 'b' (0.4); after 'a' nothing is likely (0.34 at best); after 'b', </s> has 0.99."""

    TABLE = {BOS: {3: 0.6, 4: 0.4}, 3: {3: 0.34, 4: 0.33, EOS: 0.33}, 4: {EOS: 0.99, 3: 0.01}}

    def __call__(self, inputs, training=False):
        prev, state = np.asarray(inputs[0]), np.asarray(inputs[1])
        probs = np.full((len(prev), 5), 1e-9)
        for row, token in enumerate(prev[:, 0]):
            for nxt, p in self.TABLE.get(int(token), {PAD: 1.0}).items():
                probs[row, nxt] = p
        return [np.log(probs)[:, None, :], state, np.zeros((len(prev), 1, 1))]


def test_beam_search_finds_the_more_probable_sequence_greedy_misses():
    encoder = lambda src, training=False: [np.zeros((len(src), 1, 1)), np.zeros((len(src), 1))]  # noqa: E731
    net = EncoderDecoder(model=None, encoder=encoder, step=_Scripted(), attention=False)
    src = np.ones((2, 1), dtype="int32")
    greedy, _ = greedy_decode(net, src, max_len=3)
    beam, score = beam_search(net, src, max_len=3, width=2)
    assert greedy[0].tolist() == [3, 3, 3]                   # a, a, a: 0.6 * 0.34 * 0.34
    assert beam[0].tolist() == [4, EOS, PAD]                 # b, </s>: 0.4 * 0.99, then padding at no cost
    np.testing.assert_allclose(score, np.log(0.4 * 0.99), rtol=1e-6)


def test_exact_match_and_its_callback(tiny):
    vocab, src, _, nets = tiny
    assert exact_match(["2021-03-07", "x"], ["2021-03-07", "y"]).tolist() == [True, False]
    with pytest.raises(ValueError, match="2 predictions for 1 targets"):
        exact_match(["a", "b"], ["a"])
    ids, _ = greedy_decode(nets[True], src, max_len=4)
    callback = ExactMatchCallback(nets[True], src, [vocab.decode(ids[0]), "?", "?"], vocab, max_len=4)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert logs["val_exact_match"] == pytest.approx(1 / 3) and callback.history == [logs["val_exact_match"]]
    assert [c.tolist() for c in callback.correct] == [[True, False, False]]


def test_plot_alignment_labels_characters_and_checks_shapes():
    weights = np.full((3, 4), 0.25)
    fig = plots.plot_alignment([("7.3.", "a-b", weights)])
    labels = {t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()}
    assert {"7", ".", "3", "a", "-", "b"} <= labels
    assert "attention weight" in {ax.get_ylabel() for ax in fig.axes}
    with pytest.raises(ValueError, match=r"must have shape \(3, 4\)"):
        plots.plot_alignment([("7.3.", "a-b", np.ones((4, 3)))])
