"""The runner's own music on the beat of the plan (issue 16).

``analysis`` loads a song and finds its beats, ``stretch`` bends a song's time with Rubber Band so chosen source
instants land on chosen target instants (pitch kept), and ``plan`` maps song beats onto the plan's footstrikes, joins
and loops songs and normalises the loudness of the result. librosa is imported only when beats are detected.
"""
