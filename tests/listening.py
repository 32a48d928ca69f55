"""An independent listener for the voice tests: pocketsphinx (offline, English model shipped in the wheel) constrained
to the cue language, which is written out here from English number grammar, not from stridebeat.voice.

The decoder must pick the right path among thousands: "fifty one" against "fifty nine", "thirteen" against "thirty",
"two hundred" against "three hundred".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GRAMMAR = """#JSGF V1.0;
grammar cues;
public <cue> = <time> | <distance> | <command> | <duration> | hold <time> ;
<digit> = zero | one | two | three | four | five | six | seven | eight | nine ;
<nonzero> = one | two | three | four | five | six | seven | eight | nine ;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen ;
<seconds> = <digit> | <teen> | (twenty | thirty | forty | fifty) [<nonzero>] ;
<minutes> = one minute | (two | three | four | five | six | seven | eight | nine) minutes ;
<time> = [<minutes>] <seconds> point <digit> ;
<distance> = <nonzero> hundred | one thousand | finish ;
<command> = on your marks | set | go | hold | hold the rhythm | rest | next rep ;
<duration> = <seconds> (second | seconds) | ninety seconds | <minutes> [<seconds> (second | seconds)] ;
"""


def make_listener() -> Callable[[np.ndarray], str]:
    """A function from 16 kHz int16 mono PCM to the words heard ("" for nothing)."""
    import pocketsphinx

    decoder = pocketsphinx.Decoder(samprate=16000, loglevel="FATAL")
    decoder.add_jsgf_string("cues", GRAMMAR)
    decoder.activate_search("cues")

    def hear(pcm: np.ndarray) -> str:
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp else ""

    return hear
