# ThingSpeak + its own HTTP/1.0 client for a 38 KB heap; 2-space indent
# keeps it under 6 KB so the board can compile it.
import socket, time, json

class ThingSpeakError(Exception):
  pass

class HTTPError(ThingSpeakError):
  def __init__(self, status, why=''):
    super().__init__('HTTP %d %s' % (status, why))
    self.status = status

class RateLimited(ThingSpeakError):
  pass

def _fail(why):
  raise ThingSpeakError(why)

_WHY = {400: 'bad key?', 401: 'bad key?', 404: 'no such channel?', 429: 'too many requests'}
_KEYS = ('field1', 'field2', 'field3', 'field4', 'field5', 'field6', 'field7',
         'field8', 'lat', 'long', 'elevation', 'status')

def _enc(out, v):
  # Percent-encode all but RFC 3986 unreserved bytes; numbers need none.
  if isinstance(v, (int, float)):
    out += str(v)
    return
  for c in v if isinstance(v, bytes) else str(v).encode():
    if 48 <= c <= 57 or 97 <= c | 32 <= 122 or c in b'-_.~':
      out.append(c)
    else:
      out += b'%%%02X' % c

def _step(p, c, name):
  # Match byte c (any case) at position p of name; -1: no match.
  if 65 <= c <= 90:
    c += 32
  return p + 1 if 0 <= p < len(name) and name[p] == c else -1

class Channel:
  def __init__(self, write_key=None, channel_id=None, read_key=None,
               host='api.thingspeak.com', timeout=10, interval=15):
    self.write_key = write_key
    self.channel_id = channel_id
    self.read_key = read_key
    self.interval = interval
    self._last = None
    h = host.split(':')
    self._hp = (h[0], int(h[1]) if len(h) > 1 else 80)
    self.timeout = timeout
    self._tail = (' HTTP/1.0\r\nHost: %s\r\n\r\n' % host).encode()
    self._buf = bytearray(128)
    self._addr = None
    self._n = self._i = 0

  def get(self, req, limit=1024):
    # req: bytearray b'GET /path?query'. Returns the body of a 2xx reply,
    # read through a fixed buffer; headers are never kept.
    req += self._tail
    if self._addr is None:
      self._addr = socket.getaddrinfo(*self._hp)[0][-1]
    s = self._s = socket.socket()
    self._n = self._i = 0
    try:
      s.settimeout(self.timeout)
      try:
        s.connect(self._addr)
      except OSError:
        self._addr = None
        raise
      s.write(req)
      for c in b'HTTP/':
        if self._byte() != c:
          _fail('not an HTTP reply')
      while self._byte() != 32:
        pass
      st = self._num(10)
      if st // 100 != 2:
        raise HTTPError(st, _WHY.get(st, 'server error' if st >= 500 else ''))
      clen, chunked = self._headers()
      body = bytearray()
      if chunked:
        n = self._num(16)
        while n > 0:
          self._copy(body, n, limit)
          self._num(0)
          n = self._num(16)
        if n:
          _fail('bad chunk size')
      else:
        self._copy(body, clen, limit)
    finally:
      s.close()
    return body

  def _byte(self, want=1, eof=False):
    i = self._i
    if i >= self._n:
      n = self._s.readinto(self._buf, want)
      if not n:
        return -1 if eof else _fail('connection closed early')
      self._n = n
      i = 0
    self._i = i + 1
    return self._buf[i]

  def _headers(self):
    clen = -1
    chunked = False
    while True:
      c = self._byte()
      if c == 13:
        c = self._byte()
      if c == 10:
        return clen, chunked
      a = b = 0
      while c != 58:
        if c == 10:
          _fail('bad header')
        a = _step(a, c, b'content-length')
        b = _step(b, c, b'transfer-encoding')
        c = self._byte()
      if a == 14:
        clen = self._num(10)
        continue
      p = 0
      while c != 10:
        c = self._byte()
        if c in b', \t\r\n':
          chunked |= b == 17 and p == 7
          p = 0
        else:
          p = _step(p, c, b'chunked')

  def _num(self, base):
    # A number in base (0: none), then the rest of the line.
    n = -1
    while True:
      c = self._byte()
      if c == 10:
        return n
      d = c - 48 if 48 <= c <= 57 else (c | 32) - 87 if 97 <= c | 32 <= 102 else 99
      if base > d:
        n = max(n, 0) * base + d
        if n > 0xFFFFFF:
          _fail('length too large')
      elif n >= 0 or c not in b' \t':
        base = 0

  def _copy(self, out, n, limit):
    # n < 0: no length given, read until the peer closes.
    while n:
      c = self._byte(min(n, len(self._buf)) if n > 0 else len(self._buf), n < 0)
      if c < 0:
        return
      if len(out) >= limit:
        _fail('reply over %d bytes' % limit)
      out.append(c)
      n -= 1

  def update(self, wait=True, **kw):
    q = bytearray(b'GET /update?api_key=')
    _enc(q, self.write_key or _fail('no write key'))
    n = len(q)
    for k in kw:
      if k not in _KEYS:
        raise ValueError(k)
      v = kw[k]
      if v is not None:
        q += b'&'
        q += k
        q += b'='
        _enc(q, v)
    if len(q) == n:
      raise ValueError('nothing to send')
    if self._last is not None:
      left = self.interval * 1000 - time.ticks_diff(time.ticks_ms(), self._last)
      if left > 0:
        if not wait:
          raise RateLimited('next update in %d ms' % left)
        time.sleep_ms(left)
    try:
      body = self.get(q, 32)
    finally:
      self._last = time.ticks_ms()
    try:
      n = int(body)
    except ValueError:
      _fail('unexpected reply')
    if n < 1:
      raise RateLimited('rejected (reply 0): too soon, or bad data')
    return n

  def _read(self, path, limit):
    q = bytearray(b'GET /channels/')
    _enc(q, self.channel_id or _fail('no channel id'))
    q += path
    if self.read_key:
      q += b'&api_key=' if b'?' in path else b'?api_key='
      _enc(q, self.read_key)
    body = self.get(q, limit)
    if body == b'-1':
      _fail('no read access: pass read_key')
    return json.loads(body)

  def last(self, field=None):
    if field is None:
      return self._read(b'/feeds/last.json', 1024)
    return self._read(b'/fields/%d/last.json' % field, 1024).get('field%d' % field)

  def feeds(self, results=10, limit=4096):
    return self._read(b'/feeds.json?results=%d' % results, limit)['feeds']
