# ThingSpeak logger for an ESP-01: reads a DHT11/DHT22 on GPIO2 (or the
# supply voltage when no sensor answers) and posts it every 60 s.
# Settings: /config.json, see config.example.json. Needs /lib/wifitools.py
# and /lib/thingspeak.py (`esp01 build` adds them when this file imports them).
import gc, time, machine
import wifitools, thingspeak

# Reset after this many failed cycles in a row: a clean boot clears states
# the SDK does not recover from by itself.
MAX_FAILS = 10
# Longer than the slowest cycle: 20 s WiFi + 10 s HTTP + 15 s spacing.
WDT_MS = 120000
_T0 = time.time()


def log(msg):
    print('[%6d s] %s' % (time.time() - _T0, msg))


class Sensor:
    # kind: 'dht22', 'dht11', 'vcc' or 'auto' (a DHT22 if one answers, else vcc).
    def __init__(self, kind, pin):
        self.kind = kind
        if kind in ('auto', 'dht22', 'dht11'):
            import dht
            self.dht = (dht.DHT11 if kind == 'dht11' else dht.DHT22)(machine.Pin(pin))
            time.sleep_ms(2000)  # the sensor's settling time after power-up
            try:
                self.dht.measure()
                self.kind = 'dht11' if kind == 'dht11' else 'dht22'
            except OSError:
                if kind != 'auto':
                    raise
                self.kind = 'vcc'
        if self.kind == 'vcc':
            self.adc = machine.ADC(1)
            if self.adc.read() == 65535:
                # Firmware's ADC set to the TOUT pin: no supply reading.
                self.kind = 'adc'
                self.adc = machine.ADC(0)

    def read(self):
        # Returns (fields for Channel.update, text for the log).
        if self.kind == 'vcc':
            v = self.adc.read() / 1000
            return {'field1': v}, 'supply %.2f V' % v
        if self.kind == 'adc':
            n = self.adc.read()
            return {'field1': n}, 'ADC %d/1024' % n
        self.dht.measure()
        t, h = self.dht.temperature(), self.dht.humidity()
        return {'field1': t, 'field2': h}, '%.1f C, %.0f %%RH' % (t, h)


class Watchdog:
    # machine.WDT where the port takes a timeout as long as a cycle. The
    # ESP8266's is fixed at about 5 s and, once created, no longer fed by
    # the firmware: shorter than a WiFi connect. There a virtual timer, run
    # even while the loop waits on a socket, resets the board if the loop
    # has not come round for `ms` (the SDK's own watchdog still covers
    # firmware lockups).
    def __init__(self, ms):
        self.ms = ms
        self.last = time.ticks_ms()
        try:
            self.wdt = machine.WDT(timeout=ms)
        except (TypeError, ValueError):
            self.wdt = None
            self.timer = machine.Timer(-1)
            self.timer.init(period=5000, mode=machine.Timer.PERIODIC, callback=self.check)

    def feed(self):
        self.last = time.ticks_ms()
        if self.wdt:
            self.wdt.feed()

    def check(self, timer=None):
        if time.ticks_diff(time.ticks_ms(), self.last) > self.ms:
            print('watchdog: no cycle for %d s, resetting' % (self.ms // 1000))
            machine.reset()


def blink(led):
    # The ESP-01's blue LED is lit when its pin is low.
    if led:
        led.value(0)
        time.sleep_ms(80)
        led.value(1)


def run(cycles=None):
    cfg = wifitools.config()
    if not cfg.get('ssid') or not cfg.get('write_key'):
        log('stopped: /config.json needs "ssid", "password" and "write_key" (see config.example.json)')
        return
    every = cfg.get('interval', 60)
    pin = cfg.get('led_pin', 2)
    led = machine.Pin(pin, machine.Pin.OUT, value=1) if pin is not None else None
    wifitools.ap(False)
    ch = thingspeak.Channel(cfg['write_key'], host=cfg.get('host', 'api.thingspeak.com'))
    sensor = Sensor(cfg.get('sensor', 'auto'), cfg.get('sensor_pin', 2))
    log('sensor %s, posting every %d s' % (sensor.kind, every))
    wdt = Watchdog(WDT_MS)
    fails = n = 0
    while cycles is None or n < cycles:
        n += 1
        start = time.ticks_ms()
        try:
            ip = wifitools.ensure_connected(cfg.get('wifi_timeout', 20))
            fields, text = sensor.read()
            entry = ch.update(**fields)
            blink(led)
            fails = 0
            log('posted entry %d: %s (ip %s, %d bytes free)' % (entry, text, ip, gc.mem_free()))
        except Exception as e:
            fails += 1
            log('post failed (%d in a row): %s: %s' % (fails, type(e).__name__, e))
            if fails >= MAX_FAILS:
                log('resetting after %d failed cycles' % fails)
                machine.reset()
        gc.collect()
        # Sleep out the rest of the interval, feeding the watchdog each second.
        while True:
            wdt.feed()
            left = every * 1000 - time.ticks_diff(time.ticks_ms(), start)
            if left <= 0:
                break
            time.sleep_ms(min(left, 1000))


if __name__ == '__main__':
    run()
