"""The matcher's text normalisation: one form for full-width, traditional and simplified text."""

from __future__ import annotations

import re

import pytest

from kefu.bot.matching import Example, train
from kefu.bot.textnorm import MAX_QUERY_CHARS, TOKEN_PATTERN, normalise, simplified


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("ＡＰＩ　Ｋｅｙ　１２３", "api key 123"),  # full-width letters, digits and space
        ("退款多久？！", "退款多久?!"),  # full-width punctuation
        ("ｉＰｈｏｎｅ退貨", "iphone退货"),
        ("Reset My PASSWORD", "reset my password"),
    ],
)
def test_full_width_forms_and_case(written: str, read: str) -> None:
    assert normalise(written) == read


@pytest.mark.parametrize(
    ("traditional", "simple"),
    [
        ("退款多久到帳", "退款多久到账"),
        ("怎麼刪除帳號", "怎么删除账号"),  # OpenCC gives 帐号; the variant table makes it 账号
        ("會員自動續費怎麼關閉", "会员自动续费怎么关闭"),
        ("簡訊驗證碼沒收到", "短信验证码没收到"),  # 簡訊 is Taiwan's 短信
        ("電子發票在哪裡下載", "电子发票在哪里下载"),
        ("軟體的網路設定", "软件的网络设置"),  # Taiwan's words as the mainland's
        ("保固多久", "保固多久"),  # no simplified counterpart: unchanged
    ],
)
def test_traditional_characters_read_as_simplified(traditional: str, simple: str) -> None:
    assert normalise(traditional) == simple
    assert normalise(simple) == simple  # simplified text is left as it is


def test_text_without_han_is_not_converted_and_odd_characters_are_safe() -> None:
    assert simplified("where is my parcel?") == "where is my parcel?"
    # The converter reads C strings: a NUL must not cut the question, a lone surrogate
    # (valid in a Python str, from JSON "\ud800") must not raise.
    assert normalise("退\x00貨了") == "退 货了"
    assert normalise("退貨\ud800嗎") == "退货?吗"
    assert len(normalise("退" * (MAX_QUERY_CHARS + 50))) == MAX_QUERY_CHARS


def test_word_tokens_split_han_and_kana_and_keep_latin_words() -> None:
    tokens = re.findall(TOKEN_PATTERN, normalise("iPhone退货 要几天? API_key v2 パスワード"))
    assert tokens == ["iphone", "退", "货", "要", "几", "天", "api_key", "v2", *"パスワード"]


def test_a_traditional_or_full_width_question_matches_a_simplified_article() -> None:
    model = train(
        [
            Example("退款多久能到账", "refund"),
            Example("钱什么时候退回来", "refund"),
            Example("怎么注销账号", "delete_account"),
            Example("不想用了想删除账户", "delete_account"),
            Example("怎么获取API密钥", "api_key"),
            Example("API Key在哪里生成", "api_key"),
        ]
    )
    assert model.match("退款幾天到帳").category == "refund"
    assert model.match("怎麼註銷帳號").category == "delete_account"
    assert model.match("ＡＰＩ　ｋｅｙ在哪").category == "api_key"
