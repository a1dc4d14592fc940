"""The default matcher on the Chinese and Japanese FAQ fixtures (our own sentences)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kefu.bot.evaluation import read_examples
from kefu.bot.matching import ANSWER_THRESHOLD, Example, TrainingError, clean_examples, train
from kefu.bot.matching.tfidf import TfidfModel

DATA = Path(__file__).parent / "data"


def _model(lang: str) -> TfidfModel:
    model = train(read_examples(DATA / f"faq_{lang}_kb.csv"))
    assert isinstance(model, TfidfModel)
    return model


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_faq_top1_at_least_90_percent(lang: str) -> None:
    model = _model(lang)
    test = [ex for ex in read_examples(DATA / f"faq_{lang}_test.csv") if ex.category != "oos"]
    right = sum(model.match(ex.text).category == ex.category for ex in test)
    assert right / len(test) >= 0.9


def test_fast_path_scores_equal_scikit_learns_transform() -> None:
    model = _model("zh")
    texts = ["退款多久能到账", "ＡＢＣ全角 refund?", "", "完全没见过的字"]
    batch = model.scores(texts)
    for text, row in zip(texts, batch, strict=True):
        assert np.allclose(model.score_one(text), row, atol=1e-5)


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_a_batch_decides_as_one_question_at_a_time(lang: str) -> None:
    model = _model(lang)
    texts = [ex.text for ex in read_examples(DATA / f"faq_{lang}_test.csv")] + ["", "ＡＢＣ"]
    many = model.match_many(texts)
    assert len(many) == len(texts) and model.match_many([]) == []
    for text, batched in zip(texts, many, strict=True):
        one = model.match(text)
        assert (one.category, one.answer, one.threshold) == (
            batched.category,
            batched.answer,
            batched.threshold,
        )
        assert abs(one.confidence - batched.confidence) < 1e-5


def test_confidence_is_a_probability_and_uses_the_production_threshold() -> None:
    model = _model("zh")
    sure = model.match("忘记密码了怎么办")
    assert sure.category == "password" and sure.answer
    assert 0.0 < sure.confidence < 1.0 and sure.threshold == ANSWER_THRESHOLD
    unsure = model.match("火星上有没有水")
    assert unsure.confidence < sure.confidence


def test_full_width_and_case_are_normalised() -> None:
    model = train([Example("Reset my PASSWORD", "pw"), Example("where is my parcel", "ship")] * 2)
    assert model.match("ｒｅｓｅｔ ｐａｓｓｗｏｒｄ").category == "pw"


def test_cleaning_and_training_errors() -> None:
    rows = [Example("  a  b ", "x"), Example("a b", "x"), Example(" ", "y"), Example("c", "")]
    assert clean_examples(rows) == [Example("a b", "x")]
    with pytest.raises(TrainingError):
        train(rows)


def test_too_few_categories_fail_before_the_backend_is_imported() -> None:
    """A workspace with one article or none must not pay for importing scikit-learn (seconds
    on a loaded machine) only to be told that nothing can be trained."""
    code = (
        "import sys\n"
        "from kefu.bot.matching import Example, TrainingError, train\n"
        "try:\n"
        "    train([Example('where is my parcel', 'ship')])\n"
        "except TrainingError:\n"
        "    pass\n"
        "print('sklearn' in sys.modules, 'kefu.bot.matching.tfidf' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_character_weight_is_folded_into_the_weights() -> None:
    """The SVM sees the character block × CHAR_WEIGHT; the model scores plain TF-IDF vectors
    with the weight folded in, and gets the SVM's own decision values."""
    from scipy import sparse

    from kefu.bot.matching.features import CHAR_WEIGHT, fit_linear
    from kefu.bot.matching.tfidf import train_tfidf

    examples = read_examples(DATA / "faq_zh_kb.csv")
    model = train_tfidf(examples)
    texts = [ex.text for ex in examples]
    x = sparse.hstack(
        [CHAR_WEIGHT * model.chars.transform(texts), model.words.transform(texts)]
    ).tocsr()
    weights, bias, labels = fit_linear(x, [ex.category for ex in examples], 0.5)
    assert labels == model.labels and CHAR_WEIGHT != 1.0
    probe = ["退款多久能到账", "我的包裹在哪里", "ＡＢＣ refund"]
    x_probe = sparse.hstack(
        [CHAR_WEIGHT * model.chars.transform(probe), model.words.transform(probe)]
    ).tocsr()
    assert np.allclose(model.scores(probe), x_probe @ weights + bias, atol=1e-4)
