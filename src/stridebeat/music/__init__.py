"""The runner's own music on the beat of the plan (issue 16).

``songs`` reads a song (its header checked before any sample is decoded), ``analysis`` finds its beats, ``mapping``
maps song beats onto the plan's footstrikes (joins and loops included, no audio), ``stretch`` bends a song's time with
Rubber Band so chosen source instants land on chosen target instants (pitch kept), ``plan`` stretches and joins the
mapped songs, ``limiter`` holds their peaks and finds the gain for a loudness, ``mix`` puts the music under the clicks
and calls, and ``job`` walks a job's playlist through its reps and rests (``plan_music``, ``track_with_music``).
Everything here is numpy (``onset``, ``loudness`` and ``stridebeat.core.peaks`` re-implement what librosa, pyloudnorm
and scipy would give, and the tests hold them to stored references and to those libraries); the stretch runs the
``rubberband`` program.
"""
