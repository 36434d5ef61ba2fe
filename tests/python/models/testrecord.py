"""Shared by inproc.py and the models it runs in the same process: what the
models saw (calls) and what they are told to do (behaviour)."""

calls = []        # one dict per call, see record.py
behaviour = None  # behaviour(frame, n) -> what process() returns (n from 1)
kept = []         # frames a model keeps (keep.py)
