"""The embedded Asterisk outlives the thread that started it.

Linux's parent-death signal (``PR_SET_PDEATHSIG``, which makes Asterisk die with our
process) fires when the *thread* that forked the child ends, not the process
(prctl(2)). The server starts Asterisk from a worker thread (``anyio.to_thread``), whose
threads end after 10 s idle: Asterisk was SIGKILLed in the middle of the desk's calls
(found by ``test_deskphone_browser.py``). The truth here is the kernel's: the process
is still there after the starting thread has ended, and ARI still answers."""

from __future__ import annotations

import subprocess
import threading

import httpx
import pytest

from callcenter.settings import Settings
from callcenter.voice.asterisk import RunningAsterisk, find_install, start_asterisk


def test_asterisk_outlives_the_thread_that_started_it() -> None:
    install = find_install(Settings.load().cache_dir)
    started: list[RunningAsterisk] = []
    thread = threading.Thread(target=lambda: started.append(start_asterisk(install)))
    thread.start()
    thread.join()
    (asterisk,) = started
    try:
        with pytest.raises(subprocess.TimeoutExpired):  # a SIGKILL would end it at once
            asterisk.process.wait(timeout=1.0)
        r = httpx.get(f"{asterisk.ari_url}/asterisk/info", auth=asterisk.ari_auth, timeout=5)
        assert r.status_code == 200
    finally:
        asterisk.stop()
