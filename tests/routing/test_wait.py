from __future__ import annotations

from kefu.routing.wait import DEFAULT_HANDLE_SECONDS, average_handle_seconds, expected_wait_seconds


def test_expected_wait_scales_with_position_and_slots() -> None:
    assert expected_wait_seconds(1, 600, 10) == 60
    assert expected_wait_seconds(25, 600, 10) == 1500
    assert expected_wait_seconds(1, 600, 0) is None


def test_average_handle_time_with_a_default() -> None:
    assert average_handle_seconds([]) == DEFAULT_HANDLE_SECONDS
    assert average_handle_seconds([100, 300]) == 200
    assert average_handle_seconds([-5, 100]) == 100
