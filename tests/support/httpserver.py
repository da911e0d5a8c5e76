"""The one server loop every stand-in shares: bind on loopback, announce the port, serve until a signal.

The Kubernetes API stand-in, the Prometheus fault proxy and both fake Tritons used to carry their own
copy of this: a quiet ``ThreadingHTTPServer``, an atomic port file written last (its presence means
"ready"), SIGTERM/SIGINT handling and a shutdown.  They now use these functions.

* ``LoopbackServer``: a threaded server bound to 127.0.0.1 (or ::1) that drops the traceback of a client
  that went away, optionally wrapped in TLS (``tls=ssl.SSLContext``).
* ``write_atomic(path, text)``: write through a temp file and a rename.
* ``serve_until_signal(server, port_file, idle=None, tick=0.5)``: start serving, write the port file
  last, run ``idle()`` every ``tick`` seconds until SIGTERM or SIGINT, then shut the server down.
* ``wait_port_file(path, timeout, alive=None)``: the reader's side, bounded; raises with a message.

Standard library only.
"""

import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import ThreadingHTTPServer


def write_atomic(path, text):
    """Write via a temp file and a rename, so that readers never see a partial file."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP(S) server on loopback that is quiet about clients that went away.

    ``state`` is stored as ``server.state`` for the handler (``self.server.state``).  With ``tls``, every
    accepted connection is wrapped in that server-side ``SSLContext``; the handshake happens in the
    connection's own thread (``do_handshake_on_connect=False``) so that a slow or failing client cannot
    stall the accept loop.
    """

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, handler, state=None, tls=None, queue_size=None):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        if queue_size:
            self.request_queue_size = queue_size
        self.state = state
        self.tls = tls
        super().__init__(address, handler)

    @property
    def port(self):
        return self.server_address[1]

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        if self.tls is not None:
            try:
                request.settimeout(30)
                request.do_handshake()
                request.settimeout(None)
            except (OSError, ssl.SSLError):
                return  # a client that does not trust us, or went away: nothing to serve
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (OSError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def serve_until_signal(server, port_file, idle=None, tick=0.5, before_close=None):
    """Serve in a thread, write ``port_file`` (the port, last), and run until SIGTERM/SIGINT.

    ``idle()`` runs on the main thread every ``tick`` seconds (a pods-file poller, say).
    ``before_close()`` runs after the server stopped accepting and before its socket closes (let open
    watches end).  Returns 0.
    """
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    write_atomic(port_file, f"{server.port}\n")  # last: its presence means ready
    while not stop.wait(tick):
        if idle is not None:
            idle()
    server.shutdown()
    if before_close is not None:
        before_close()
    server.server_close()
    return 0


def wait_port_file(path, timeout, alive=None, what=None):
    """The port written to ``path``; raises RuntimeError after ``timeout`` s or when ``alive()`` is false."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, encoding="utf-8") as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            pass
        if alive is not None and not alive():
            raise RuntimeError(f"{what or path}: the process exited before writing its port file")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{what or path}: no port file after {timeout:g} s")
        time.sleep(0.05)
