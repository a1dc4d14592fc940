"""The password rule (kefu.security.passwords): long enough and hard to guess."""

from __future__ import annotations

import pytest

from kefu.demo import _DEMO_INPUTS, _generated
from kefu.domain.errors import InvalidInput
from kefu.security.passwords import check_password, hash_new_password, verify_password


@pytest.mark.parametrize(
    "weak",
    [
        "password",
        "12345678",
        "password1234",
        "qwertyuiop",
        "Tr0ub4dor",
        "1111111111",
        "abcabcabcabc",
    ],
)
def test_common_and_short_passwords_are_refused(weak: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_password(weak)
    assert refused.value.code == "weak_password" and refused.value.status == 422


def test_the_persons_own_email_and_name_are_weak() -> None:
    check_password("mei.lin@shop.example")  # a stranger's address is just a long string
    for own in ("mei.lin@shop.example", "meilinmeilin"):
        with pytest.raises(InvalidInput):
            check_password(own, ["mei.lin@shop.example", "Mei Lin"])


def test_good_passwords_pass_and_are_hashed() -> None:
    for good in ("correct horse battery", "plum river sandal", "x7#Qv9!mZ2pL"):
        assert verify_password(hash_new_password(good, ["a@b.test"]), good)


def test_long_passwords_are_checked_by_their_start() -> None:
    check_password("plum river sandal " * 14)  # 252 characters
    with pytest.raises(InvalidInput):
        check_password("a" * 256)


def test_the_demo_generates_passwords_that_pass() -> None:
    for _ in range(50):
        check_password(_generated(), _DEMO_INPUTS)
