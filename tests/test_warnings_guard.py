"""Warning blocks entered and left in crossed order by two threads (the stored views run
two at a time) must not leave the process with a dead handler."""

import threading
import warnings

import pytest

from analysis.warnings_guard import catch_warnings


def test_blocks_of_two_threads_never_cross_and_later_warnings_are_seen():
    recording_in, other_trying, recording_out = (threading.Event() for _ in range(3))

    def recording():  # as the Cox model's PHReg fit
        with catch_warnings(record=True):
            recording_in.set()
            other_trying.wait(5)
        recording_out.set()

    def quiet():  # as the propensity fit: enters while the other is inside, leaves last
        recording_in.wait(5)
        other_trying.set()
        with catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            recording_out.wait(5)

    with pytest.warns(UserWarning, match="still seen"):
        threads = [threading.Thread(target=recording), threading.Thread(target=quiet)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        # with plain warnings.catch_warnings the quiet block put back the recording
        # block's handler, and this warning went into that block's finished list
        warnings.warn("still seen", UserWarning, stacklevel=1)
