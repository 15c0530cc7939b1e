# Blink the ESP-01's blue LED (GPIO2, lit when low) and say so on the REPL.
import time
from machine import Pin

led = Pin(2, Pin.OUT)
n = 0
while True:
    n += 1
    led.value(n & 1)
    print("blink", n, "led", "off" if n & 1 else "on")
    time.sleep_ms(500)
