# examples/thingspeak-logger/main.py, several cycles of its real loop with
# the ESP8266 stand-ins: WiFi drops, a server error, a sensor that is absent.
import sys, builtins
sys.path.insert(0, '/stubs')
sys.path.insert(0, '/app')
import vtime
sys.modules['time'] = vtime
import network, machine, dht
import socket as net
import tsreplies as R
from tcheck import check

network.aps['home'] = ('secret', -60, 6)
with open('/config.json', 'w') as f:
    f.write('{"ssid": "home", "password": "secret", "write_key": "WKEY0123456789AB",'
            ' "interval": 60, "hostname": "esp-hall"}')

lines = []
_print = builtins.print


def capture(*args, **kw):
    lines.append(' '.join(str(a) for a in args))


def cycles(n):
    del lines[:]
    builtins.print = capture
    try:
        main.run(cycles=n)
    finally:
        builtins.print = _print
    for l in lines:
        _print('#   ' + l)


def query(p):
    line = bytes(p.sent).split(b'\r\n')[0]
    return dict(kv.split(b'=') for kv in line.split(b' ')[1].split(b'?')[1].split(b'&'))


import main

# Four cycles: good, WiFi drops then good (chunked), server error, good.
# The first reading is the probe at startup; the one taken in the cycle
# that loses WiFi (21.6) is never posted.
dht.readings = [(20.0, 30.0), (21.5, 40.0), (21.6, 41.0), (21.7, 42.0), (21.8, 43.0), (21.9, 44.0)]
peers = [net.Peer(R.with_length(b'101')), net.Peer(R.chunked(b'102')),
         net.Peer(R.with_length(R.ERROR_PAGE, code=500)), net.Peer(R.with_length(b'104'))]
net.peers.extend(peers)
t0 = vtime.now_ms
real_update = main.thingspeak.Channel.update
drops = []


def update_after_drop(self, *a, **kw):
    # Take the WiFi away before the second post; the loop must rejoin.
    if len(drops) == 0 and peers[0].closed and not peers[1].sent:
        drops.append(1)
        network.drop()
        raise OSError(113)  # EHOSTUNREACH, what a post without a link gets
    return real_update(self, *a, **kw)


main.thingspeak.Channel.update = update_after_drop
cycles(5)
main.thingspeak.Channel.update = real_update
log = '\n'.join(lines)
check('startup line names the sensor and interval', 'sensor dht22, posting every 60 s' in log, log)
posted = [l for l in lines if 'posted entry' in l]
check('three posts logged with entry ids', [l.split('posted entry ')[1].split(':')[0] for l in posted]
      == ['101', '102', '104'], repr(posted))
check('log line carries the reading', '21.5 C, 40 %RH' in posted[0], posted[0])
check('failed cycles logged with the reason', sum('post failed' in l for l in lines) == 2 and
      'HTTPError: HTTP 500' in log and 'OSError' in log, log)
check('every post carried temperature and humidity',
      [(query(p)[b'field1'], query(p)[b'field2']) for p in peers if p.sent] ==
      [(b'21.5', b'40.0'), (b'21.7', b'42.0'), (b'21.8', b'43.0'), (b'21.9', b'44.0')],
      repr([query(p) for p in peers if p.sent]))
check('every socket closed', all(p.closed for p in peers))
check('AP interface turned off', network.flash['ap'] is False)
check('hostname from the config', network.host['at_connect'] == 'esp-hall', repr(network.host))
check('credentials written to flash once in five cycles', network.writes['creds'] == 1,
      repr(network.writes))
elapsed = vtime.now_ms - t0
check('cycles start 60 s apart', 5 * 60000 <= elapsed <= 5 * 60000 + 5000, '%d ms' % elapsed)
timers = [t for t in machine.Timer.made if t.callback]
check('ESP8266: a periodic virtual timer watches the loop', len(timers) == 1 and
      timers[0].id == -1 and timers[0].mode == machine.Timer.PERIODIC, repr(timers))
cb = timers[0].callback
cb(timers[0])
check('watchdog timer quiet while the loop comes round', machine.resets == 0)
vtime.advance(main.WDT_MS + 1000)
try:
    cb(timers[0])
    check('watchdog resets a loop that stopped', False, 'no reset')
except machine.Reset:
    check('watchdog resets a loop that stopped', machine.resets == 1)
machine.resets = 0
led = machine.Pin.writes[2]
blinks = sum(1 for _, v in led if v == 0)
check('LED blinked once per post', blinks == 3, repr(led))
check('LED left off (high)', led[-1][1] == 1, repr(led))

# No sensor on GPIO2: the logger posts the supply voltage instead.
dht.present = False
net.peers.append(net.Peer(R.with_length(b'105')))
cycles(1)
log = '\n'.join(lines)
check('no sensor: falls back to the supply voltage', 'sensor vcc' in log and 'supply 3.30 V' in log, log)
check('no sensor: field1 is the voltage in volts', query(net.opened[-1])[b'field1'] == b'3.297',
      repr(query(net.opened[-1])))

# A channel that keeps failing: reset after ten failed cycles in a row.
dht.present = True
for i in range(10):
    net.peers.append(net.Peer(R.with_length(b'0')))
try:
    cycles(12)
    check('reset after ten failures', False, 'no reset')
except machine.Reset:
    check('reset after ten failed cycles in a row', machine.resets == 1 and
          sum('post failed' in l for l in lines) == 10 and 'resetting' in lines[-1], '\n'.join(lines))
check('a rejected post is logged as such', 'RateLimited' in '\n'.join(lines))

# A port whose WDT takes a long timeout (ESP32, RP2): that one is used and
# fed at least once a second while the loop waits.
class LongWDT:
    feeds = 0
    timeout = None

    def __init__(self, id=0, timeout=5000):
        LongWDT.timeout = timeout

    def feed(self):
        LongWDT.feeds += 1


esp_wdt, machine.WDT = machine.WDT, LongWDT
n_timers = len(machine.Timer.made)
net.peers.append(net.Peer(R.with_length(b'106')))
cycles(1)
machine.WDT = esp_wdt
check('WDT with a timeout: used with the cycle budget', LongWDT.timeout == main.WDT_MS and
      len(machine.Timer.made) == n_timers, repr((LongWDT.timeout, len(machine.Timer.made))))
check('WDT fed at least once a second while waiting', LongWDT.feeds >= 55, '%d feeds' % LongWDT.feeds)
machine.WDT.modern = True
net.peers.append(net.Peer(R.with_length(b'107')))
cycles(1)
check('ESP8266 v1.20+ WDT (ValueError for a timeout): timer watchdog instead',
      len(machine.Timer.made) == n_timers + 1 and 'posted entry 107' in '\n'.join(lines))

# A missing config stops with a clear line, no crash.
import os
os.remove('/config.json')
cycles(1)
check('missing config: one clear line', len(lines) == 1 and 'config.json needs' in lines[0], repr(lines))
