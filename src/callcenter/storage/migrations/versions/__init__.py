"""Migration scripts, one per schema revision (``NNNN_<what>.py``)."""
