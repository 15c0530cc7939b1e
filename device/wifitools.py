# WiFi station helpers for MicroPython on the ESP8266 (v1.19 on).
# The SDK retries forever and keeps credentials and the AP on/off mode in
# flash, rewriting them on every call, so: a hard connect deadline, and
# nothing is written when it is already what is stored.
import network, time, json

try:
  _STA, _AP = network.WLAN.IF_STA, network.WLAN.IF_AP
except AttributeError:
  _STA, _AP = network.STA_IF, network.AP_IF

def _stat(name, default):
  return getattr(network, 'STAT_' + name, default)

_IDLE = _stat('IDLE', 0)
_CONNECTING = _stat('CONNECTING', 1)
_GOT_IP = _stat('GOT_IP', 5)
_FAILED = {_stat('WRONG_PASSWORD', 2): 'wrong password', _stat('NO_AP_FOUND', 3): 'no AP found',
           _stat('CONNECT_FAIL', 4): 'connect failed'}
# Written after the SDK stored new credentials: hash of what it holds.
_STAMP = '/.wifitools'

class WiFiError(OSError):
  def __init__(self, reason, detail=''):
    super().__init__(reason + detail)
    self.reason = reason

def config(path=None):
  # Settings dict from path, else /config.json, else /secrets.json; {} if none.
  for p in (path,) if path else ('/config.json', '/secrets.json'):
    try:
      f = open(p)
    except OSError:
      continue
    try:
      return json.load(f)
    except ValueError:
      raise ValueError(p + ': not valid JSON')
    finally:
      f.close()
  return {}

def wlan():
  return network.WLAN(_STA)

def _stamp(ssid, password):
  import hashlib
  return hashlib.sha256(('%s\0%s' % (ssid, password)).encode()).digest()

def _stored(path):
  try:
    with open(path, 'rb') as f:
      return f.read()
  except OSError:
    return None

def _stored_ssid(w):
  try:
    return w.config('ssid')
  except ValueError:
    return w.config('essid')

def connect(ssid=None, password=None, timeout=20, hostname=None):
  # Returns the IP address; raises WiFiError(reason) and disconnects on failure.
  if ssid is None:
    c = config()
    ssid = c.get('ssid')
    if password is None:
      password = c.get('password')
    hostname = hostname or c.get('hostname')
    if not ssid:
      raise WiFiError('no ssid', ': none given and none in /config.json or /secrets.json')
  password = password or ''
  w = wlan()
  if not w.active():
    w.active(True)
  if hostname:
    _set_hostname(hostname)
  stamp = _stamp(ssid, password)
  same = _stored_ssid(w) == ssid and _stored(_STAMP) == stamp
  if same and w.isconnected():
    return w.ifconfig()[0]
  t0 = time.ticks_ms()
  if not same:
    # Drop any old link first so its GOT_IP is not read as this one's.
    w.disconnect()
    w.connect(ssid, password)
    try:
      with open(_STAMP, 'wb') as f:
        f.write(stamp)
    except OSError:
      pass
  elif w.status() != _CONNECTING:
    w.connect()
  while True:
    st = w.status()
    if st == _GOT_IP:
      return w.ifconfig()[0]
    waited = time.ticks_diff(time.ticks_ms(), t0)
    # A failure code is only trusted once the SDK has had time to replace
    # the one left over from an earlier attempt.
    if st in _FAILED and waited >= 1000:
      w.disconnect()
      raise WiFiError(_FAILED[st], ' (%s)' % ssid)
    if waited >= timeout * 1000:
      w.disconnect()
      raise WiFiError('timeout', ' after %d s (%s): %s' % (
        timeout, ssid, 'still connecting, wrong password?' if st == _CONNECTING else status()))
    time.sleep_ms(100)

def ensure_connected(timeout=20):
  w = wlan()
  if w.active() and w.isconnected():
    return w.ifconfig()[0]
  return connect(timeout=timeout)

def disconnect():
  wlan().disconnect()

def status():
  w = wlan()
  if not w.active():
    return 'inactive'
  st = w.status()
  if st == _GOT_IP:
    return 'connected'
  if st == _CONNECTING:
    return 'connecting'
  return _FAILED.get(st) or ('idle' if st == _IDLE else 'status %d' % st)

def ip():
  w = wlan()
  return w.ifconfig()[0] if w.active() and w.isconnected() else None

def scan():
  # [(ssid, rssi dBm, channel, authmode)], strongest first.
  w = wlan()
  if not w.active():
    w.active(True)
  nets = []
  for n, bssid, ch, rssi, auth, hidden in w.scan():
    try:
      n = n.decode()
    except UnicodeError:
      pass
    nets.append((n, rssi, ch, auth))
  nets.sort(key=lambda n: -n[1])
  return nets

def ap(on=False):
  # The ESP8266 stores the mode in flash on every change: only change it when needed.
  a = network.WLAN(_AP)
  if a.active() != on:
    a.active(on)
  return a.active()

def _set_hostname(name):
  # network.hostname() from v1.20, dhcp_hostname before; sent on the next connect.
  if hasattr(network, 'hostname'):
    network.hostname(name)
  else:
    wlan().config(dhcp_hostname=name)

def hostname(name=None):
  if name:
    _set_hostname(name)
  if hasattr(network, 'hostname'):
    return network.hostname()
  return wlan().config('dhcp_hostname')
