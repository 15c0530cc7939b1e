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
    feeds = 0

    def __init__(self, id=0):
        pass

    def feed(self):
        WDT.feeds += 1


resets = 0


def reset():
    global resets
    resets += 1
    raise Reset()
