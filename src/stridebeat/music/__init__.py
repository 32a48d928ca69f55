"""The runner's own music on the beat of the plan (issue 16).

``analysis`` loads a song and finds its beats, ``stretch`` bends a song's time with Rubber Band so chosen source
instants land on chosen target instants (pitch kept), and ``plan`` maps song beats onto the plan's footstrikes, joins
and loops songs and normalises the loudness of the result; ``mix`` puts it under the clicks and calls. Everything
here is numpy (``onset``, ``loudness`` and ``stridebeat.core.peaks`` re-implement what librosa, pyloudnorm and scipy
would give, and the tests hold them to those libraries); the stretch runs the ``rubberband`` program.
"""
