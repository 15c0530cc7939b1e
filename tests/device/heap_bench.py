# Heap allocated per thingspeak call on MicroPython 1.27, counted directly
# (gc.disable(), gc.mem_alloc() difference), stand-in socket included.
import sys, gc
sys.path.insert(0, '/stubs')
import vtime
sys.modules['time'] = vtime
import socket as net
import tsreplies as R
import thingspeak as ts


def alloc(fn, reply):
    net.peers.append(net.Peer(reply))
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    fn()
    used = gc.mem_alloc() - a
    gc.enable()
    return used


ch = ts.Channel('WKEY0123456789AB', channel_id=1417, interval=0)
gc.collect()
base = gc.mem_alloc()
ch2 = ts.Channel('WKEY0123456789AB', interval=0)
gc.collect()
print('%-52s %5d bytes' % ('Channel() itself (kept between updates)', gc.mem_alloc() - base))
cases = [
    ('update(field1=21.5), first call', lambda: ch2.update(field1=21.5), R.with_length(b'1')),
    ('update(field1=21.5), steady state', lambda: ch2.update(field1=21.5), R.with_length(b'2')),
    ('update(3 float fields), Content-Length reply', lambda: ch2.update(field1=21.5, field2=40.0, field3=3.27), R.with_length(b'3')),
    ('update(3 float fields), chunked reply', lambda: ch2.update(field1=21.5, field2=40.0, field3=3.27), R.chunked(b'4')),
    ('update(8 fields + status)', lambda: ch2.update(field1=1, field2=2, field3=3, field4=4, field5=5, field6=6, field7=7, field8=8, status='all good & dry'), R.with_length(b'5')),
    ('last() (JSON entry)', lambda: ch.last(), R.with_length(R.LAST)),
    ('feeds(results=2) (JSON, %d-byte body)' % len(R.FEEDS), lambda: ch.feeds(2), R.with_length(R.FEEDS)),
]
buf = bytearray(128)


def bare_exchange():
    # What the stand-in itself allocates for one request/reply.
    s = net.socket()
    s.settimeout(10)
    s.connect(('184.106.153.149', 80))
    s.write(b'GET / HTTP/1.0\r\n\r\n')
    while s.readinto(buf, 1):
        pass
    s.close()


cases.append(('stand-in socket alone, one exchange (included above)', bare_exchange,
              R.with_length(b'1')))
for name, fn, reply in cases:
    print('%-52s %5d bytes' % (name, alloc(fn, reply)))
