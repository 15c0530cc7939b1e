# thingspeak.Channel against scripted ThingSpeak peers (see stubs/socket.py).
import sys, gc, errno
sys.path.insert(0, '/stubs')
import vtime
sys.modules['time'] = vtime
import socket as net
import tsreplies as R
from tcheck import check, raises
import thingspeak as ts

KEY = 'WKEY0123456789AB'
TAIL = b' HTTP/1.0\r\nHost: api.thingspeak.com\r\n\r\n'


def peer(reply, **kw):
    p = net.Peer(reply, **kw)
    net.peers.append(p)
    return p


def channel(**kw):
    kw.setdefault('interval', 0)
    return ts.Channel(KEY, **kw)


def query(p):
    # The request's query string as a dict (values still percent-encoded).
    line = bytes(p.sent).split(b'\r\n')[0]
    path = line.split(b' ')[1]
    out = {}
    for kv in path.split(b'?', 1)[1].split(b'&'):
        k, v = kv.split(b'=', 1)
        out[k.decode()] = v.decode()
    return path.split(b'?')[0].decode(), out


# --- a plain update, Content-Length framing
p = peer(R.with_length(b'1234'))
ch = channel()
n = ch.update(field1=21.5, field2=40)
check('update returns the entry id (Content-Length)', n == 1234, repr(n))
path, q = query(p)
check('update request path and fields', path == '/update' and q == {
    'api_key': KEY, 'field1': '21.5', 'field2': '40'}, repr((path, q)))
check('request is HTTP/1.0 with a Host header and nothing else', bytes(p.sent).endswith(TAIL)
      and bytes(p.sent).count(b'\r\n') == 3, repr(bytes(p.sent)))
check('socket closed after a good reply', p.closed)
check('timeout set before connect', p.timeout == 10, repr(p.timeout))
check('connects to the resolved address on port 80', p.addr == ('184.106.153.149', 80), repr(p.addr))

# --- chunked framings
p = peer(R.chunked(b'1235'))
check('update returns the entry id (chunked)', channel().update(field1=1) == 1235)
p = peer(R.chunked(b'98765', sizes=[2, 1, 2], ext=b';name=value'))
check('chunked: several chunks, upper-case hex, extensions', channel().update(field1=1) == 98765)
p = peer(R.until_close(b'77'))
check('reply without length read until the peer closes', channel().update(field1=1) == 77)
p = peer(R.with_length(b'31').replace(b'Content-Length: ', b'CONTENT-LENGTH:'))
check('header names matched without regard to case or space', channel().update(field1=1) == 31)
p = peer(R.with_length(b'12').replace(b'\r\n', b'\n'))
check('bare LF line ends accepted', channel().update(field1=1) == 12)

# --- ThingSpeak's refusals
peer(R.with_length(b'0'))
e = raises('body "0" is a rate-limit/rejected error', ts.RateLimited, channel().update,
           field1=1, match='reply 0')
check('RateLimited is a ThingSpeakError', isinstance(e, ts.ThingSpeakError))
peer(R.chunked(b'0'))
raises('body "0" chunked is rejected too', ts.RateLimited, channel().update, field1=1)
for code, body, word in ((400, b'0', 'key'), (401, b'-1', 'key'), (404, b'', 'channel'),
                         (429, b'Too Many Requests', 'too many'),
                         (500, R.ERROR_PAGE, 'server error'), (502, R.ERROR_PAGE, 'server error')):
    p = peer(R.with_length(body, code=code, ctype=b'text/html; charset=utf-8'))
    e = raises('HTTP %d raises HTTPError' % code, ts.HTTPError, channel().update, field1=1,
               match=word)
    check('HTTP %d: status in the exception' % code,
          getattr(e, 'status', None) == code and str(code) in str(e), repr(e))
    check('HTTP %d: socket closed' % code, p.closed)
peer(R.with_length(b'<html>oops</html>'))
raises('non-numeric update reply', ts.ThingSpeakError, channel().update, field1=1,
       match='unexpected')
peer(b'SSH-2.0-OpenSSH_9.2\r\n')
raises('not an HTTP reply', ts.ThingSpeakError, channel().update, field1=1, match='HTTP')

# --- every byte boundary, both read styles
def all_cuts(name, reply, call, want):
    bad = []
    for k in range(1, len(reply)):
        for fill in (False, True):
            peer(reply, cuts=(k,), fill=fill)
            try:
                got = call()
            except Exception as e:
                got = e
            if got != want:
                bad.append((k, fill, got))
    peer(reply, cuts=range(len(reply)), fill=False)
    got = call()
    if got != want:
        bad.append(('one byte at a time', got))
    check('%s split at every byte boundary (%d bytes)' % (name, len(reply)), not bad, repr(bad[:3]))

all_cuts('Content-Length reply', R.with_length(b'1234'), lambda: channel().update(field1=1), 1234)
all_cuts('chunked reply', R.chunked(b'4321', sizes=[1, 3]), lambda: channel().update(field1=1), 4321)
rc = ts.Channel(channel_id=1417)
all_cuts('chunked feeds JSON', R.chunked(R.FEEDS, sizes=[300, len(R.FEEDS) - 300]),
         lambda: rc.feeds(results=2)[1]['entry_id'], 42)

# --- replies recorded from Node's HTTP server (tests/peers/http_replies.mjs)
import os


def outcome(fn):
    try:
        return fn()
    except ts.HTTPError as e:
        return 'HTTPError %d' % e.status
    except Exception as e:
        return type(e).__name__


try:
    recorded = sorted(os.listdir('/replies'))
except OSError:
    recorded = []
check("replies recorded from Node's HTTP server are here", len(recorded) == 7, repr(recorded))
if recorded:
    def rec(name):
        with open('/replies/' + name, 'rb') as f:
            return f.read()

    def post():
        return outcome(lambda: channel().update(field1=1))

    all_cuts('Node http: Content-Length reply', rec('length-1234'), post, 1234)
    all_cuts('Node http: chunked reply from three writes', rec('chunked-5678'), post, 5678)
    all_cuts('Node http: HTTP/1.0 reply ended by the close', rec('http10-close-4321'), post, 4321)
    all_cuts('Node http: body "0"', rec('zero'), post, 'RateLimited')
    all_cuts('Node http: 400', rec('status-400'), post, 'HTTPError 400')
    all_cuts('Node http: 500', rec('status-500'), post, 'HTTPError 500')
    rc = ts.Channel(channel_id=1417)
    all_cuts('Node http: chunked JSON feeds', rec('feeds-chunked'),
             lambda: outcome(lambda: rc.feeds(2)[1]['entry_id']), 42)

# --- peers that stall, reset, close early or refuse
reply = R.with_length(b'1234')
body_at = reply.index(b'\r\n\r\n') + 5
for where, at in (('before the reply', 0), ('in the status line', 7), ('in the headers', 40),
                  ('in the body', body_at)):
    p = peer(reply, stall_at=at)
    e = raises('stall %s: timeout' % where, OSError, channel().update, field1=1)
    check('stall %s: ETIMEDOUT, socket closed' % where,
          getattr(e, 'errno', None) == errno.ETIMEDOUT and p.closed, repr(e))
    p = peer(reply, reset_at=at)
    e = raises('reset %s: error' % where, OSError, channel().update, field1=1)
    check('reset %s: ECONNRESET, socket closed' % where,
          getattr(e, 'errno', None) == errno.ECONNRESET and p.closed, repr(e))
p = peer(reply[:-2])
raises('peer closes mid-body', ts.ThingSpeakError, channel().update, field1=1, match='closed')
check('socket closed after an early close', p.closed)
p = peer(R.chunked(b'1234')[:-7])
raises('peer closes inside chunked framing', ts.ThingSpeakError, channel().update, field1=1)
p = peer(b'', connect='stall')
e = raises('connect that never completes times out', OSError, channel(timeout=3).update, field1=1)
check('connect timeout: ETIMEDOUT after settimeout(3), socket closed',
      getattr(e, 'errno', None) == errno.ETIMEDOUT and p.timeout == 3 and p.closed, repr(e))
ch = channel()
peer(reply)
ch.update(field1=1)
before = net.lookups
peer(reply)
ch.update(field1=2)
check('address looked up once per channel', net.lookups == before, '%d lookups' % (net.lookups - before))
p = peer(b'', connect='refused')
raises('connect refused', OSError, ch.update, field1=1)
peer(reply)
ch.update(field1=3)
check('a failed connect forgets the address and looks it up again', net.lookups == before + 1)
peer(R.with_length(b'9' * 40))
raises('oversized update reply refused', ts.ThingSpeakError, channel().update, field1=1, match='over')
peer(R.with_length(b'1', code=200).replace(b'Content-Length: 1', b'Content-Length: 99999999999'))
raises('absurd Content-Length refused', ts.ThingSpeakError, channel().update, field1=1, match='large')

# --- URL-encoding and arguments
p = peer(reply)
channel().update(field1=-3, field2=0.25, field3='a b', status='21\u00b0C & ok/100%+x=y?',
                 lat=51.5, long=-0.125, elevation=35)
path, q = query(p)
check('values are URL-encoded', q == {
    'api_key': KEY, 'field1': '-3', 'field2': '0.25', 'field3': 'a%20b',
    'status': '21%C2%B0C%20%26%20ok%2F100%25%2Bx%3Dy%3F', 'lat': '51.5', 'long': '-0.125',
    'elevation': '35'}, repr(q))
raises('unknown field name refused', ValueError, channel().update, field9=1)
raises('an update with nothing to send is refused', ValueError, channel().update, field1=None)
raises('no write key', ts.ThingSpeakError, ts.Channel().update, field1=1, match='write key')
p = peer(reply)
ts.Channel(KEY, host='127.0.0.1:8080').update(field1=1)
check('host with a port: connects there, Host header keeps the port',
      p.addr == ('10.0.0.7', 8080) and b'\r\nHost: 127.0.0.1:8080\r\n' in p.sent, repr((p.addr, p.sent)))

# --- 15 s spacing
ch = ts.Channel(KEY)
peer(reply)
ch.update(field1=1)
vtime.advance(4000)
slept = vtime.slept_ms
peer(reply)
ch.update(field1=2)
check('second update within 15 s waits out the rest (11 s)', vtime.slept_ms - slept == 11000,
      '%d ms' % (vtime.slept_ms - slept))
left = len(net.peers)
peer(reply)
raises('wait=False refuses instead of waiting', ts.RateLimited, ch.update, field1=3, wait=False,
       match='next update in')
check('a refused update opens no connection', len(net.peers) == left + 1)
net.peers.pop()
vtime.advance(15000)
slept = vtime.slept_ms
peer(reply)
ch.update(field1=4)
check('no wait once 15 s have passed', vtime.slept_ms == slept)
vtime.advance(15000)
peer(R.with_length(b'0'))
raises('a rejected update', ts.RateLimited, ch.update, field1=5, wait=False, match='reply 0')
raises('... still starts the 15 s over', ts.RateLimited, ch.update, field1=5, wait=False,
       match='next update in 15000 ms')
ch2 = ts.Channel(KEY, interval=60)
peer(reply)
ch2.update(field1=1)
slept = vtime.slept_ms
peer(reply)
ch2.update(field1=1)
check('interval is configurable (60 s)', vtime.slept_ms - slept == 60000)

# --- reads
rc = ts.Channel(channel_id=1417, read_key='RKEY')
p = peer(R.with_length(R.FEEDS, ctype=b'application/json; charset=utf-8'))
feeds = rc.feeds(results=2)
path, q = query(p)
check('feeds(): request', path == '/channels/1417/feeds.json' and q == {'results': '2', 'api_key': 'RKEY'},
      repr((path, q)))
check('feeds(): parsed JSON entries', [f['field1'] for f in feeds] == ['21.4', '21.5'], repr(feeds))
p = peer(R.chunked(R.LAST, sizes=[20, len(R.LAST) - 20]))
last = rc.last()
check('last(): whole entry', last['entry_id'] == 42 and last['field2'] == '41', repr(last))
check('last(): path', query(p)[0] == '/channels/1417/feeds/last.json')
p = peer(R.with_length(R.LAST_FIELD1))
check('last(1): the field value', rc.last(1) == '21.5')
check('last(1): path', query(p)[0] == '/channels/1417/fields/1/last.json')
peer(R.with_length(b'-1'))
raises('private channel without a read key', ts.ThingSpeakError, ts.Channel(channel_id=7).last,
       match='read access')
peer(R.with_length(R.FEEDS))
raises('feeds reply over the limit', ts.ThingSpeakError, rc.feeds, 2, 100, match='over 100')
raises('reads need a channel id', ts.ThingSpeakError, ts.Channel(KEY).last, match='channel id')

check('every socket was closed', all(p.closed for p in net.opened),
      '%d of %d open' % (sum(not p.closed for p in net.opened), len(net.opened)))
check('every scripted peer was used', not net.peers, repr(net.peers))

# --- heap per update cycle: count allocations directly (this build grows its heap)
def heap(reply, **fields):
    ch = channel()
    worst = 0
    for i in range(3):
        peer(reply)
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        ch.update(**fields)
        used = gc.mem_alloc() - a
        gc.enable()
        worst = max(worst, used)
    return worst

for name, reply in (('Content-Length', R.with_length(b'1234')), ('chunked', R.chunked(b'1234'))):
    used = heap(reply, field1=21.5, field2=40.0, field3=3.27)
    print('# heap per update (%s reply, 3 float fields): %d bytes' % (name, used))
    check('update cycle allocates under 2 KB (%s)' % name, used < 2048, '%d bytes' % used)
used = heap(R.with_length(b'1234'), field1=21.5, field2=40, status='all good & dry')
print('# heap per update (with an encoded status): %d bytes' % used)
check('update cycle with a status allocates under 2 KB', used < 2048, '%d bytes' % used)
used = heap(R.chunked(b'1234'), field1=1, field2=2.5, field3=3, field4=4, field5=5, field6=6,
            field7=7, field8=-8.25, lat=51.5, long=-0.125, elevation=35, status='all good & dry')
print('# heap per update (every field, position and a status): %d bytes' % used)
check('update cycle with every field allocates under 2 KB', used < 2048, '%d bytes' % used)
