# Stand-in for the ESP8266 socket module. Each socket() takes the next Peer
# from `peers` and replays its reply. readinto(buf, n) behaves like the
# port's: it waits for n bytes unless the peer closes first (fill=True), or,
# with fill=False, returns early at each of the peer's segment boundaries
# (the behaviour of a short recv), so both reading styles are exercised.
# A stall raises ETIMEDOUT when a timeout was set (the port's behaviour)
# and fails the test otherwise; a reset raises ECONNRESET.
import errno

AF_INET = 2
SOCK_STREAM = 1
peers = []
opened = []
lookups = 0


class Peer:
    def __init__(self, reply=b'', cuts=(), fill=True, stall_at=None, reset_at=None,
                 connect=None, host='184.106.153.149'):
        self.reply = reply
        self.cuts = cuts          # offsets where a segment ends
        self.fill = fill
        self.stall_at = stall_at  # offset where the peer stops sending
        self.reset_at = reset_at  # offset where the peer resets
        self.connect = connect    # None, 'refused' or 'stall'
        self.host = host
        self.sent = bytearray()
        self.timeout = 'unset'
        self.closed = False
        self.pos = 0
        self.addr = None


def getaddrinfo(host, port, *args):
    global lookups
    lookups += 1
    return [(AF_INET, SOCK_STREAM, 0, '', ('10.0.0.7' if host != 'api.thingspeak.com' else '184.106.153.149', port))]


def _want_timeout(p):
    if p.timeout is None or p.timeout == 'unset':
        raise AssertionError('peer stalled and the socket has no timeout: would hang forever')
    raise OSError(errno.ETIMEDOUT)


class socket:
    def __init__(self, *args):
        if not peers:
            raise AssertionError('unexpected connection: no scripted peer left')
        self.p = peers.pop(0)
        opened.append(self.p)

    def settimeout(self, t):
        self.p.timeout = t

    def connect(self, addr):
        p = self.p
        p.addr = addr
        if p.connect == 'refused':
            raise OSError(errno.ECONNREFUSED)
        if p.connect == 'stall':
            _want_timeout(p)

    def _check(self):
        if self.p.closed:
            raise OSError(errno.EBADF)

    def write(self, data):
        self._check()
        self.p.sent.extend(data)
        return len(data)

    send = write

    def readinto(self, buf, n=None):
        self._check()
        p = self.p
        if n is None or n > len(buf):
            n = len(buf)
        got = 0
        while got < n:
            if p.pos == p.reset_at:
                raise OSError(errno.ECONNRESET)
            if p.pos == p.stall_at:
                _want_timeout(p)
            if p.pos >= len(p.reply):
                break
            if got and not p.fill and p.pos in p.cuts:
                break
            buf[got] = p.reply[p.pos]
            p.pos += 1
            got += 1
        return got

    def close(self):
        self.p.closed = True
