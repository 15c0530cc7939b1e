# Stand-in for the time module: a virtual clock that only moves when slept.
# Ticks wrap at 2**30 like the ESP8266 port's, and start just before the wrap,
# so code that compares ticks without ticks_diff fails.
_PERIOD = 1 << 30
now_ms = _PERIOD - 7000
slept_ms = 0

def ticks_ms():
    return now_ms & (_PERIOD - 1)

def ticks_diff(a, b):
    return ((a - b + _PERIOD // 2) & (_PERIOD - 1)) - _PERIOD // 2

def ticks_add(a, d):
    return (a + d) & (_PERIOD - 1)

def sleep_ms(ms):
    global now_ms, slept_ms
    if ms > 0:
        now_ms += ms
        slept_ms += ms

def sleep(s):
    sleep_ms(int(s * 1000))

def sleep_us(us):
    sleep_ms(us // 1000)

def advance(ms):
    sleep_ms(ms)

def time():
    return now_ms // 1000
