"""The first import of every worker entrypoint: eventlet's monkey patching (DESIGN D1/D2).

It must run before any other import, so that sockets, threads and time are green everywhere.
Eventlet and the dnspython it imports warn of their own deprecation on import; those warnings
say nothing an operator can act on (DESIGN D2 records the choice of nameko and eventlet), so
they are silenced here, once, and `make run` prints one line per process.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    warnings.filterwarnings("ignore", message=r"DSA is deprecated")
    import eventlet

eventlet.monkey_patch()
