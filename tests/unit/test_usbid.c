/* Windows device instance ids as SetupAPI reports them, and bridge names. */
#include "check.h"
#include "esp01/serialports.h"
#include "util/usbid.h"

TEST(ch340_without_serial)
{
    esp01_hwid h;
    CHECK(esp01_hwid_parse("USB\\VID_1A86&PID_7523\\5&2D9B1B0E&0&2", &h));
    CHECK_STR(h.bus, "USB");
    CHECK_EQ(h.vid, 0x1a86);
    CHECK_EQ(h.pid, 0x7523);
    CHECK_EQ(h.iface, -1);
    /* Windows made that instance up: no serial number. */
    CHECK_STR(h.serial, "");
    CHECK_EQ(h.channel, 0);
    CHECK_STR(esp01_serial_bridge(h.vid, h.pid), "CH340");
}

TEST(cp210x_with_serial)
{
    esp01_hwid h;
    CHECK(esp01_hwid_parse("USB\\VID_10C4&PID_EA60\\0001", &h));
    CHECK_EQ(h.vid, 0x10c4);
    CHECK_EQ(h.pid, 0xea60);
    CHECK_STR(h.serial, "0001");
    CHECK_STR(esp01_serial_bridge(h.vid, h.pid), "CP210x");
}

TEST(ftdi_bus_serial_and_channel)
{
    esp01_hwid h;
    CHECK(esp01_hwid_parse("FTDIBUS\\VID_0403+PID_6001+A50285BIA\\0000", &h));
    CHECK_STR(h.bus, "FTDIBUS");
    CHECK_EQ(h.vid, 0x0403);
    CHECK_EQ(h.pid, 0x6001);
    CHECK_STR(h.serial, "A50285BI");
    CHECK_EQ(h.channel, 'A');
    CHECK_STR(esp01_serial_bridge(h.vid, h.pid), "FTDI FT232R");
    /* An FTDI chip without a serial: the driver makes one up, with '&'. */
    CHECK(esp01_hwid_parse("FTDIBUS\\VID_0403+PID_6015+6&1A2B3C&0&1\\0000", &h));
    CHECK_EQ(h.pid, 0x6015);
    CHECK_STR(h.serial, "");
}

TEST(composite_interface)
{
    esp01_hwid h;
    CHECK(esp01_hwid_parse("USB\\VID_2E8A&PID_0005&MI_00\\6&3A7F5B1&0&0000", &h));
    CHECK_EQ(h.vid, 0x2e8a);
    CHECK_EQ(h.pid, 0x0005);
    CHECK_EQ(h.iface, 0);
    CHECK_STR(h.serial, "");
    CHECK(esp01_hwid_parse("USB\\VID_303A&PID_1001&MI_02\\7&1D9A&0&0002", &h));
    CHECK_EQ(h.iface, 2);
    CHECK_STR(esp01_serial_bridge(h.vid, h.pid), "Espressif USB");
}

TEST(hardware_id_and_lower_case)
{
    esp01_hwid h;
    CHECK(esp01_hwid_parse("USB\\VID_1A86&PID_7523&REV_0264", &h));
    CHECK_EQ(h.vid, 0x1a86);
    CHECK_STR(h.serial, "");
    CHECK(esp01_hwid_parse("usb\\vid_10c4&pid_ea60\\abc123", &h));
    CHECK_STR(h.bus, "usb");
    CHECK_EQ(h.pid, 0xea60);
    CHECK_STR(h.serial, "abc123");
    CHECK(esp01_hwid_parse("ftdibus\\vid_0403+pid_6010+ft1x2y3b\\0000", &h));
    CHECK_STR(h.serial, "ft1x2y3");
    CHECK_EQ(h.channel, 'B');
}

TEST(serial_bytes_made_printable)
{
    esp01_hwid h;
    CHECK(esp01_hwid_parse("USB\\VID_10C4&PID_EA60\\AB\x01\xc3\xa9", &h));
    CHECK_STR(h.serial, "AB???");
}

TEST(garbage_and_truncated)
{
    static const char *bad[] = {
        "", "\\", "USB", "USB\\", "USB\\VID_1A86", "USB\\VID_1A8&PID_7523",
        "USB\\VID_1A86&PID_752", "USB\\VID_1A86&PID_75230\\x", "USB\\VID_1A8G&PID_7523",
        "USB\\PID_7523\\0001", "\\VID_1A86&PID_7523\\0001", "ACPI\\PNP0501\\0",
        "BTHENUM\\{00001101-0000-1000-8000-00805F9B34FB}_LOCALMFG&0002\\7&1&0&000000000000_00000000",
        "VERYLONGBUSNAMEXYZ\\VID_1A86&PID_7523\\1", "USB\\VID_&PID_\\1",
        "FTDIBUS\\VID_0403+PID_600", "USB\\VID_1A86&&&&&&&&&&&&&&&&&&&&&&&&PID_7523",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        esp01_hwid h;
        memset(&h, 0x55, sizeof h);
        bool ok = esp01_hwid_parse(bad[i], &h);
        if (ok)
            printf("  parsed: '%s'\n", bad[i]);
        CHECK(!ok);
        CHECK_EQ(h.vid, 0);
        CHECK_EQ(h.iface, -1);
        CHECK_STR(h.serial, "");
    }
}

TEST(serial_that_does_not_fit_is_cut)
{
    char id[400] = "USB\\VID_10C4&PID_EA60\\";
    size_t n = strlen(id);
    memset(id + n, 'S', 300);
    id[n + 300] = '\0';
    esp01_hwid h;
    CHECK(esp01_hwid_parse(id, &h));
    CHECK_EQ(strlen(h.serial), sizeof h.serial - 1);
}

int main(void)
{
    RUN(ch340_without_serial);
    RUN(cp210x_with_serial);
    RUN(ftdi_bus_serial_and_channel);
    RUN(composite_interface);
    RUN(hardware_id_and_lower_case);
    RUN(serial_bytes_made_printable);
    RUN(garbage_and_truncated);
    RUN(serial_that_does_not_fit_is_cut);
    CHECK_DONE();
}
