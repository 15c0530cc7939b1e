# Stand-in for the ESP8266 port's machine module: pins remember what was
# written, ADC(1) reads the supply in mV, WDT takes no timeout (as on the
# ESP8266) and counts feeds, reset() stops the program under test.
import vtime


class Reset(Exception):
    pass


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    writes = {}   # pin number -> [(ms, level)], shared by every Pin object on it

    def __init__(self, id, mode=-1, pull=None, value=None):
        self.id = id
        Pin.writes.setdefault(id, [])
        if value is not None:
            self.value(value)

    def value(self, v=None):
        w = Pin.writes[self.id]
        if v is None:
            return w[-1][1] if w else 1
        w.append((vtime.now_ms, v))

    def __call__(self, v=None):
        return self.value(v)


class ADC:
    supply_mv = 3297

    def __init__(self, ch):
        self.ch = ch

    def read(self):
        return ADC.supply_mv if self.ch == 1 else 512


class WDT:
    # v1.19's ESP8266 WDT takes no keyword (TypeError); later ones refuse
    # any timeout but the fixed 5 s (ValueError): `modern` picks which.
    feeds = 0
    modern = False

    def __init__(self, id=0, *, timeout=None):
        if timeout is not None:
            if WDT.modern:
                raise ValueError()
            raise TypeError("function doesn't take keyword arguments")

    def feed(self):
        WDT.feeds += 1


class Timer:
    PERIODIC = 1
    ONE_SHOT = 0
    made = []

    def __init__(self, id):
        self.id = id
        self.callback = None
        Timer.made.append(self)

    def init(self, period=-1, mode=PERIODIC, callback=None):
        self.period = period
        self.mode = mode
        self.callback = callback

    def deinit(self):
        self.callback = None


resets = 0


def reset():
    global resets
    resets += 1
    raise Reset()
