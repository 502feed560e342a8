"""The demo center (``callcenter demo``): :mod:`.seed` writes its people, queues and
configuration; :mod:`.driver` plays simulated customers and agents against the running
server through its HTTP API."""
