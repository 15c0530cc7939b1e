# boot.py runs first at every power-up; keep it small.
import gc
import esp

esp.osdebug(None)  # silence SDK debug output on the REPL UART
gc.collect()
