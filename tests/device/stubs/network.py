# Stand-in for the ESP8266 port's network module, v1.19 API by default
# (STA_IF/AP_IF, config('essid'), dhcp_hostname; no WLAN.IF_STA, no
# network.hostname): modern() adds the v1.20+ names.
# What the SDK keeps in flash (station credentials, interface modes) lives
# in `flash` and survives reboot(); every write to it is counted. A connect
# runs on the virtual clock: CONNECTING, then GOT_IP after join_ms, or a
# failure code after fail_ms; the status of the previous attempt lingers
# for stale_ms after connect(), as the SDK's does.
import vtime

STA_IF = 0
AP_IF = 1
STAT_IDLE = 0
STAT_CONNECTING = 1
STAT_WRONG_PASSWORD = 2
STAT_NO_AP_FOUND = 3
STAT_CONNECT_FAIL = 4
STAT_GOT_IP = 5

flash = {'ssid': '', 'password': '', 'sta': False, 'ap': True}
writes = {'creds': 0, 'mode': 0}
aps = {}          # ssid -> (password, rssi, channel)
world = {'join_ms': 3000, 'fail_ms': 2500, 'stale_ms': 300, 'silent_wrong_password': False}
host = {'name': 'ESP_0A1B2C', 'at_connect': None}
_ifaces = {}


class WLAN:
    def __new__(cls, iface=STA_IF):
        if iface not in _ifaces:
            w = object.__new__(cls)
            w.iface = iface
            w.t0 = None
            w.prev = STAT_IDLE
            _ifaces[iface] = w
        return _ifaces[iface]

    def __init__(self, iface=STA_IF):
        pass

    def _key(self):
        return 'sta' if self.iface == STA_IF else 'ap'

    def active(self, on=None):
        if on is None:
            return flash[self._key()]
        if flash[self._key()] != bool(on):
            flash[self._key()] = bool(on)
            writes['mode'] += 1
        if not on and self.iface == STA_IF:
            self.t0 = None
            self.prev = STAT_IDLE

    def connect(self, ssid=None, key=None, *, bssid=None):
        if not flash['sta']:
            raise OSError('STA must be active')
        if ssid is not None:
            flash['ssid'] = ssid
            flash['password'] = key or ''
            writes['creds'] += 1
        self.prev = self.status()
        self.t0 = vtime.ticks_ms()
        host['at_connect'] = host['name']

    def disconnect(self):
        self.t0 = None
        self.prev = STAT_IDLE

    def status(self):
        if self.t0 is None or not flash['sta']:
            return self.prev
        t = vtime.ticks_diff(vtime.ticks_ms(), self.t0)
        if t < world['stale_ms']:
            return self.prev
        ap = aps.get(flash['ssid'])
        if ap is None:
            return STAT_NO_AP_FOUND if t >= world['fail_ms'] else STAT_CONNECTING
        if ap[0] != flash['password']:
            if world['silent_wrong_password'] or t < world['fail_ms']:
                return STAT_CONNECTING
            return STAT_WRONG_PASSWORD
        return STAT_GOT_IP if t >= world['join_ms'] else STAT_CONNECTING

    def isconnected(self):
        return self.status() == STAT_GOT_IP

    def ifconfig(self):
        if self.isconnected():
            return ('192.168.1.57', '255.255.255.0', '192.168.1.1', '192.168.1.1')
        return ('0.0.0.0', '0.0.0.0', '0.0.0.0', '0.0.0.0')

    def config(self, *args, **kw):
        for k, v in kw.items():
            if k == 'dhcp_hostname':
                host['name'] = v
            else:
                raise ValueError('unknown config param')
        if args:
            k = args[0]
            if k == 'essid' or k == 'ssid' and hasattr(WLAN, 'IF_STA'):
                return flash['ssid']
            if k == 'dhcp_hostname':
                return host['name']
            raise ValueError('unknown config param')

    def scan(self):
        return [(s.encode(), b'\x12\x34\x56\x78\x9a\xbc', ch, rssi, 3, False)
                for s, (pw, rssi, ch) in aps.items()]


def drop():
    # The AP goes away for a moment; the SDK starts reconnecting by itself.
    w = WLAN(STA_IF)
    w.prev = STAT_CONNECTING
    w.t0 = vtime.ticks_ms()


def reboot():
    # Power cycle: runtime state lost; the SDK auto-connects with what flash holds.
    _ifaces.clear()
    w = WLAN(STA_IF)
    if flash['sta'] and flash['ssid']:
        w.prev = STAT_CONNECTING
        w.t0 = vtime.ticks_ms()


def modern():
    WLAN.IF_STA = STA_IF
    WLAN.IF_AP = AP_IF

    def hostname(name=None):
        if name is None:
            return host['name']
        host['name'] = name
    globals()['hostname'] = hostname
