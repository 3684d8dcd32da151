"""Over a real socket (uvicorn in a thread): hangs, dropped connections, and a clean shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from tests.emulator.emulator_support import TOKEN, track_body

from tiktok_ads.emulator import EmulatorConfig, RunningEmulator, run_in_thread


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    with run_in_thread(EmulatorConfig()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(server: RunningEmulator) -> None:
    server.state.reset()


def _post(server: RunningEmulator, timeout: float = 5.0) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, timeout=timeout) as http:
        return http.post("/v1.3/event/track/", json=track_body(), headers={"Access-Token": TOKEN})


def _wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_base_url_is_the_open_api_root(server: RunningEmulator) -> None:
    """base_url ends in /open_api, so a client appends /v1.3/... as it would for TikTok."""
    assert f"http://127.0.0.1:{server.port}/open_api" == server.base_url
    assert 0 == _post(server).json()["code"]


def test_hang_outlasts_the_client_and_the_server_stays_responsive(server: RunningEmulator) -> None:
    """A hang makes the client time out; the server notices the client left and keeps serving."""
    server.state.faults.add("hang", seconds=20)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _post(server, timeout=0.3)
    assert 0 == _post(server).json()["code"]
    # The hung request ends when its client goes, long before its 20 seconds.
    _wait_for(lambda: len(server.state.requests) == 2)
    assert time.monotonic() - started < 5
    hung = next(r for r in server.state.requests if r.fault == "hang")
    assert 0 == hung.http_status


def test_hang_that_ends_first_answers_504(server: RunningEmulator) -> None:
    """When the hang's time runs out before the client's, the gateway answers 504."""
    server.state.faults.add("hang", seconds=0.2)
    response = _post(server, timeout=5)
    assert 504 == response.status_code
    assert "504 Gateway Time-out" in response.text


def test_drop_closes_the_connection_without_an_answer(server: RunningEmulator) -> None:
    """A drop closes the socket: the client gets a transport error, not an HTTP answer."""
    server.state.faults.add("drop")
    with pytest.raises(httpx.TransportError) as caught:
        _post(server)
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert [] == server.state.events
    assert 0 == _post(server).json()["code"]


def test_server_stops_cleanly_while_a_request_hangs() -> None:
    """Leaving run_in_thread while a client still waits on a hang returns within seconds."""
    outcome: list[BaseException | httpx.Response] = []

    def patient_client(running: RunningEmulator) -> None:
        try:
            outcome.append(_post(running, timeout=30))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    with run_in_thread() as running:
        running.state.faults.add("hang", seconds=30)
        waiter = threading.Thread(target=patient_client, args=(running,))
        waiter.start()
        _wait_for(lambda: running.state.faults.describe()["faults"] == [])
        started = time.monotonic()
    waiter.join(timeout=10)
    assert time.monotonic() - started < 5
    assert 1 == len(outcome)
    assert isinstance(outcome[0], httpx.TransportError)
