# tests/ports_lib.sh - a fake machine for serial port discovery: a sysfs
# tree laid out as Linux lays out USB serial adapters (usb-serial drivers
# such as ch341 and cp210x, cdc_acm, and the platform ttyS ports that are
# not USB), and a /dev with by-path links.  esp01 reads them through
# ESP01_SYSFS_ROOT and ESP01_DEV_ROOT.  Sourced after tests/lib.sh.
#
#   fake_machine DIR                  empty machine; sets FSYS, FDEV
#   fake_usb_serial NAME DRIVER VID PID SERIAL BUSPORT TARGET [PRODUCT]
#       a usb-serial port (DRIVER ch341-uart, cp210x, ftdi_sio, pl2303):
#       /sys/class/tty/NAME -> .../usb1/1-BUSPORT/1-BUSPORT:1.0/NAME/tty/NAME
#       and /dev/NAME -> TARGET (a pty, or a file)
#   fake_cdc_acm NAME VID PID SERIAL BUSPORT TARGET [PRODUCT]
#   fake_platform_tty NAME            /sys/class/tty/ttyS0 on serial8250
#   fake_virtual_tty NAME             /sys/class/tty/tty0 without a device

fake_machine() {
    FSYS=$1/sys FDEV=$1/dev
    mkdir -p "$FSYS/class/tty" "$FSYS/bus/usb/drivers/cdc_acm" "$FSYS/bus/usb-serial/drivers" \
        "$FSYS/bus/platform/drivers/serial8250" "$FDEV/serial/by-path" "$FDEV/serial/by-id" \
        "$FSYS/devices/pci0000:00/0000:00:14.0/usb1"
}

# _usb_device BUSPORT VID PID SERIAL PRODUCT: the USB device directory
_usb_device() {
    local d=$FSYS/devices/pci0000:00/0000:00:14.0/usb1/1-$1
    mkdir -p "$d"
    echo "$2" > "$d/idVendor"
    echo "$3" > "$d/idProduct"
    [ -n "$4" ] && echo "$4" > "$d/serial"
    printf '%s\n' "${5:-USB Serial}" > "$d/product"
    case $2 in  # what these vendors' chips report
        1a86) echo "QinHeng Electronics" ;; 10c4) echo "Silicon Labs" ;; 0403) echo "FTDI" ;;
        303a) echo "Espressif" ;; *) echo "Generic" ;;
    esac > "$d/manufacturer"
    USBDEV=$d
}

# _dev_links NAME BUSPORT TARGET SERIAL
_dev_links() {
    ln -sfn "$3" "$FDEV/$1"
    ln -sfn "../../$1" "$FDEV/serial/by-path/pci-0000:00:14.0-usb-0:$2:1.0-port0"
    [ -n "$4" ] && ln -sfn "../../$1" "$FDEV/serial/by-id/usb-esp01-test_$4-if00-port0"
    return 0
}

fake_usb_serial() {
    local name=$1 driver=$2 vid=$3 pid=$4 serial=$5 bus=$6 target=$7 product=${8:-}
    _usb_device "$bus" "$vid" "$pid" "$serial" "$product"
    local iface=$USBDEV/1-$bus:1.0 port=$USBDEV/1-$bus:1.0/$name
    mkdir -p "$iface" "$port/tty/$name" "$FSYS/bus/usb-serial/drivers/$driver"
    ln -sfn "$FSYS/bus/usb" "$iface/subsystem"
    ln -sfn "$FSYS/bus/usb-serial" "$port/subsystem"
    ln -sfn "$FSYS/bus/usb-serial/drivers/$driver" "$port/driver"
    ln -sfn "$port" "$port/tty/$name/device"
    ln -sfn "$port/tty/$name" "$FSYS/class/tty/$name"
    _dev_links "$name" "$bus" "$target" "$serial"
}

fake_cdc_acm() {
    local name=$1 vid=$2 pid=$3 serial=$4 bus=$5 target=$6 product=${7:-}
    _usb_device "$bus" "$vid" "$pid" "$serial" "$product"
    local iface=$USBDEV/1-$bus:1.0
    mkdir -p "$iface/tty/$name"
    ln -sfn "$FSYS/bus/usb" "$iface/subsystem"
    ln -sfn "$FSYS/bus/usb/drivers/cdc_acm" "$iface/driver"
    ln -sfn "$iface" "$iface/tty/$name/device"
    ln -sfn "$iface/tty/$name" "$FSYS/class/tty/$name"
    _dev_links "$name" "$bus" "$target" "$serial"
}

fake_platform_tty() {
    local d=$FSYS/devices/platform/serial8250
    mkdir -p "$d/tty/$1"
    ln -sfn "$FSYS/bus/platform" "$d/subsystem"
    ln -sfn "$d" "$d/tty/$1/device"
    ln -sfn "$d/tty/$1" "$FSYS/class/tty/$1"
    : > "$FDEV/$1"
}

fake_virtual_tty() {
    mkdir -p "$FSYS/devices/virtual/tty/$1"
    ln -sfn "$FSYS/devices/virtual/tty/$1" "$FSYS/class/tty/$1"
}
