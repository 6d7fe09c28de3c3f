namespace FtpGateway.IntegrationTests.Devices;

/// <summary>One step of a device's FTP conversation: a command and the replies the device accepts, or an upload.</summary>
/// <param name="Command">the line the device sends.</param>
/// <param name="Accepts">the reply codes the device carries on after (any other makes it give up).</param>
/// <param name="Upload">bytes sent on a data connection for STOR/APPE/STOU (null: a plain command).</param>
/// <param name="Mode">how the device opens its data connections.</param>
internal sealed record DeviceStep(string Command, int[] Accepts, byte[]? Upload = null, RawDataMode Mode = RawDataMode.Pasv);

/// <summary>How a device opens data connections (the test client's modes).</summary>
internal enum RawDataMode
{
    Pasv,
    Epsv,
    Port,
}

/// <summary>
/// A device family as the gateway meets it: the command sequence its manuals and public captures show (login,
/// the folder dance, the upload, its "Test" button), the user settings the README recommends for it, and what must
/// be stored afterwards. <see cref="DeviceProfiles.All"/> is the compatibility matrix the README shows.
/// </summary>
internal sealed record DeviceProfile(string Family, string Relies, Dictionary<string, string> Settings, DeviceStep[] Steps, string[] Stored);

internal static class DeviceProfiles
{
    private static readonly int[] Ok = [200, 202];
    private static readonly int[] Done = [226];

    private static byte[] Jpeg(int size) => [0xFF, 0xD8, 0xFF, 0xE0, .. new byte[size]];

    private static byte[] Pdf(int size) => [.. "%PDF-1.4\n"u8.ToArray(), .. new byte[size]];

    private static byte[] Mp4(int size) => [0, 0, 0, 0x18, .. "ftypmp42"u8.ToArray(), .. new byte[size]];

    private static DeviceStep Cmd(string command, params int[] accepts) => new(command, accepts);

    private static DeviceStep Put(string command, byte[] data, RawDataMode mode = RawDataMode.Pasv) => new(command, Done, data, mode);

    private static DeviceStep[] Login(string user) => [Cmd($"USER {user}", 331), Cmd($"PASS {user}-pw", 230)];

    private static readonly Dictionary<string, string> Camera = new()
    {
        ["Permissions"] = "WriteOnly",
        ["CreateDirectories"] = "true",
        ["OnExistingFile"] = "Rename",
    };

    /// <summary>Dahua and its OEMs: unique names, and a work-directory marker rewritten in place (so Overwrite).</summary>
    private static readonly Dictionary<string, string> Dahua = new()
    {
        ["Permissions"] = "WriteOnly",
        ["CreateDirectories"] = "true",
    };

    private static readonly Dictionary<string, string> Scanner = new()
    {
        ["Permissions"] = "WriteOnly",
        ["OnExistingFile"] = "Rename",
        ["CreateDirectories"] = "true",
    };

    /// <summary>Every family the matrix covers; each logs in as a user of its own name.</summary>
    public static IReadOnlyList<DeviceProfile> All { get; } =
    [
        new("Hikvision (IPC, NVR)", "CWD/MKD one level at a time, PASV, STOR; re-sent names", Camera,
        [
            .. Login("hikvision"), Cmd("TYPE I", 200), Cmd("PWD", 257),
            Cmd("CWD cam01", 250, 550), Cmd("MKD cam01", 257, 550), Cmd("CWD cam01", 250),
            Cmd("CWD 2026-12-06", 250, 550), Cmd("MKD 2026-12-06", 257, 550), Cmd("CWD 2026-12-06", 250),
            Put("STOR 192.168.1.64_01_20261206101530123_MOTION_DETECTION.jpg", Jpeg(3000)),
            Put("STOR 192.168.1.64_01_20261206101530123_MOTION_DETECTION.jpg", Jpeg(3001)), // the same name again
            Cmd("QUIT", 221),
        ],
        ["/hikvision/cam01/2026-12-06/192.168.1.64_01_20261206101530123_MOTION_DETECTION.jpg", "/hikvision/cam01/2026-12-06/192.168.1.64_01_20261206101530123_MOTION_DETECTION.1.jpg"]),

        new("Dahua (IPC, NVR, XVR)", "CWD / chain, SIZE /<dir>/DVRWorkDirectory probe (550 to a write-only user: it writes the marker again), STOR deep paths", Dahua,
        [
            .. Login("dahua"), Cmd("TYPE I", 200), Cmd("CWD /", 250), Cmd("SIZE /SN7M0ABC/DVRWorkDirectory", 213, 550),
            Put("STOR /SN7M0ABC/DVRWorkDirectory", [0]), Cmd("CWD /", 250),
            Put("STOR /SN7M0ABC/2026-12-06/001/jpg/10/15/30[M][0@0][0].jpg", Jpeg(2000)),
            Cmd("CWD /", 250), Cmd("SIZE /SN7M0ABC/DVRWorkDirectory", 213, 550), Put("STOR /SN7M0ABC/DVRWorkDirectory", [0]),
            Put("STOR /SN7M0ABC/2026-12-06/001/dav/10/10.15.00-10.16.00[M][0@0][0].dav", new byte[5000]),
            Cmd("QUIT", 221),
        ],
        ["/dahua/SN7M0ABC/DVRWorkDirectory", "/dahua/SN7M0ABC/2026-12-06/001/jpg/10/15/30[M][0@0][0].jpg", "/dahua/SN7M0ABC/2026-12-06/001/dav/10/10.15.00-10.16.00[M][0@0][0].dav"]),

        new("Axis (network cameras)", "PASV, STOR under a temporary name, RNFR/RNTO; Test button stores and deletes", Camera,
        [
            .. Login("axis"), Cmd("TYPE I", 200), Cmd("CWD axis", 250, 550), Cmd("MKD axis", 257), Cmd("CWD axis", 250),
            Put("STOR axis_test_file.txt", "test"u8.ToArray()), Cmd("DELE axis_test_file.txt", 250), // the Test button
            Put("STOR image_tmp_123.jpg", Jpeg(4000)), Cmd("RNFR image_tmp_123.jpg", 350), Cmd("RNTO image20261206_101530.jpg", 250),
            Cmd("QUIT", 221),
        ],
        ["/axis/axis/image20261206_101530.jpg"]),

        new("Hanwha Wisenet", "TYPE I, PASV, MKD a/b/c in one command, STOR", Camera,
        [
            .. Login("hanwha"), Cmd("TYPE I", 200), Cmd("MKD XNV-6080/2026-12-06/10", 257), Cmd("CWD XNV-6080/2026-12-06/10", 250),
            Put("STOR 20261206_101530_Motion.jpg", Jpeg(2500)), Cmd("QUIT", 221),
        ],
        ["/hanwha/XNV-6080/2026-12-06/10/20261206_101530_Motion.jpg"]),

        new("Reolink", "MODE S before every upload, EPSV, STOR into a dated folder that does not exist yet", Camera,
        [
            .. Login("reolink"), Cmd("TYPE I", 200), Cmd("MODE S", 200),
            Put("STOR Cam01/2026/12/06/RecM01_20261206_101530_101600_6D28.mp4", Mp4(6000), RawDataMode.Epsv),
            Cmd("MODE S", 200), Put("STOR Cam01/2026/12/06/Cam01_00_20261206101530.jpg", Jpeg(1500), RawDataMode.Epsv),
            Cmd("QUIT", 221),
        ],
        ["/reolink/Cam01/2026/12/06/RecM01_20261206_101530_101600_6D28.mp4", "/reolink/Cam01/2026/12/06/Cam01_00_20261206101530.jpg"]),

        new("Uniview", "OPTS UTF8 ON, FEAT, PASV, MKD per level (550 when it exists), STOR", Camera,
        [
            .. Login("uniview"), Cmd("FEAT", 211), Cmd("OPTS UTF8 ON", 200), Cmd("TYPE I", 200),
            Cmd("MKD IPC", 257, 550), Cmd("MKD IPC/20261206", 257, 550), Cmd("CWD IPC/20261206", 250),
            Put("STOR 101530_0001.jpg", Jpeg(1800)), Cmd("QUIT", 221),
        ],
        ["/uniview/IPC/20261206/101530_0001.jpg"]),

        new("Amcrest (Dahua OEM)", "as Dahua, with APPE of its work file", Dahua,
        [
            .. Login("amcrest"), Cmd("TYPE I", 200), Cmd("CWD /", 250), Cmd("SIZE /AMC0123/DVRWorkDirectory", 213, 550),
            Put("APPE /AMC0123/DVRWorkDirectory", [0]),
            Put("STOR /AMC0123/2026-12-06/001/jpg/10/15/31[M][0@0][0].jpg", Jpeg(2000)), Cmd("QUIT", 221),
        ],
        ["/amcrest/AMC0123/DVRWorkDirectory", "/amcrest/AMC0123/2026-12-06/001/jpg/10/15/31[M][0@0][0].jpg"]),

        new("HP LaserJet / OfficeJet scan to FTP", "SYST, PWD, CWD to the folder, PASV, STOR scan0001.pdf after every reboot; Test stores and deletes", Scanner,
        [
            .. Login("hp"), Cmd("SYST", 215), Cmd("PWD", 257), Cmd("TYPE I", 200), Cmd("CWD scans", 250, 550), Cmd("MKD scans", 257), Cmd("CWD scans", 250),
            Put("STOR HPTestFile.txt", "HP"u8.ToArray()), Cmd("DELE HPTestFile.txt", 250),
            Put("STOR scan0001.pdf", Pdf(3000)), Put("STOR scan0001.pdf", Pdf(3100)), Cmd("QUIT", 221),
        ],
        ["/hp/scans/scan0001.pdf", "/hp/scans/scan0001.1.pdf"]),

        new("Xerox WorkCentre / VersaLink scan to FTP", "PASV, STOR under a temporary name, RNTO the final one, a .lck file removed after", Scanner,
        [
            .. Login("xerox"), Cmd("TYPE I", 200), Cmd("CWD /", 250), Cmd("MKD xerox-scans", 257, 550), Cmd("CWD xerox-scans", 250),
            Put("STOR DOC00001.lck", [0]), Put("STOR XRXtemp0001.pdf", Pdf(4000)),
            Cmd("RNFR XRXtemp0001.pdf", 350), Cmd("RNTO DOC00001.pdf", 250), Cmd("DELE DOC00001.lck", 250), Cmd("QUIT", 221),
        ],
        ["/xerox/xerox-scans/DOC00001.pdf"]),

        new("Ricoh MFP scan to folder (FTP)", "PORT (active mode), CWD, STOR; Connection Test is a login and CWD", Scanner,
        [
            .. Login("ricoh"), Cmd("TYPE I", 200), Cmd("CWD /", 250), // Connection Test
            Cmd("MKD ricoh", 257, 550), Cmd("CWD ricoh", 250), Put("STOR 20261206101530.pdf", Pdf(2500), RawDataMode.Port), Cmd("QUIT", 221),
        ],
        ["/ricoh/ricoh/20261206101530.pdf"]),

        new("Canon imageRUNNER send to FTP", "PWD, CWD, PASV, STOR; names reused by the counter", Scanner,
        [
            .. Login("canon"), Cmd("PWD", 257), Cmd("TYPE I", 200), Cmd("MKD canon", 257, 550), Cmd("CWD canon", 250),
            Put("STOR 20261206101530.pdf", Pdf(2000)), Put("STOR 20261206101530.pdf", Pdf(2001)), Cmd("QUIT", 221),
        ],
        ["/canon/canon/20261206101530.pdf", "/canon/canon/20261206101530.1.pdf"]),

        new("Brother scan to FTP", "CWD into the store directory, PASV, STOR; Test stores and deletes", Scanner,
        [
            .. Login("brother"), Cmd("TYPE I", 200), Cmd("MKD brscan", 257, 550), Cmd("CWD brscan", 250),
            Put("STOR BRN_test.txt", "test"u8.ToArray()), Cmd("DELE BRN_test.txt", 250),
            Put("STOR BRN3C2AF4_000123.pdf", Pdf(1500)), Cmd("QUIT", 221),
        ],
        ["/brother/brscan/BRN3C2AF4_000123.pdf"]),

        new("Synology Surveillance Station export", "OPTS UTF8 ON, MKD per level, large MP4 STOR, SIZE to verify", new Dictionary<string, string> { ["CreateDirectories"] = "true", ["OnExistingFile"] = "Rename" },
        [
            .. Login("synology"), Cmd("OPTS UTF8 ON", 200), Cmd("TYPE I", 200), Cmd("MKD export", 257, 550), Cmd("MKD export/Cam-1", 257, 550),
            Cmd("CWD export/Cam-1", 250), Put("STOR Cam-1-20261206-101500-1733480100.mp4", Mp4(200_000)),
            Cmd("SIZE Cam-1-20261206-101500-1733480100.mp4", 213), Cmd("QUIT", 221),
        ],
        ["/synology/export/Cam-1/Cam-1-20261206-101500-1733480100.mp4"]),
    ];
}
