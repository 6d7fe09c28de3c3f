using System.Diagnostics;
using System.Text;

namespace FtpGateway.TestSupport;

/// <summary>
/// A real S3 server for tests: Ceph's radosgw (Debian package) with one monitor and one in-memory OSD, all on
/// 127.0.0.1 and free ports, in a temporary directory. Ready in about 15 s; disposed, it stops and cleans up.
/// Recipe and SDK settings: shared/EMULATORS.md. The in-memory OSD only uses RAM for data actually stored, and
/// garbage collection runs every few seconds: radosgw frees overwritten objects only then (by default after
/// two hours), and a full OSD silently stalls every write.
/// </summary>
public sealed class RadosGateway : IAsyncDisposable
{
    public const string AccessKey = "FTPGWTESTACCESSKEY";
    public const string SecretKey = "ftpgw-test-secret-key-0123456789abcdef";

    /// <summary>A storage class besides STANDARD that this radosgw accepts (and reports back in HEAD).</summary>
    public const string ExtraStorageClass = "COLD";

    /// <summary>An SSE-KMS key id radosgw's testing KMS backend knows.</summary>
    public const string KmsKeyId = "testkey-1";

    private readonly List<Process> _processes = [];
    private readonly string _dir;
    private readonly string _conf;

    private RadosGateway(string dir)
    {
        _dir = dir;
        _conf = Path.Combine(dir, "ceph.conf");
    }

    public int Port { get; private set; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>The store's processes (monitor, OSD, radosgw), for the benchmark's CPU accounting.</summary>
    public IReadOnlyList<int> ProcessIds => [.. _processes.Where(p => !p.HasExited).Select(p => p.Id)];

    public static async Task<RadosGateway> StartAsync()
    {
        foreach (var tool in new[] { "radosgw", "ceph-mon", "ceph-osd", "ceph", "ceph-authtool", "monmaptool", "radosgw-admin" })
        {
            ExternalProcess.Require(tool);
        }

        var dir = Directory.CreateTempSubdirectory("ftpgw-rgw-").FullName;
        var rgw = new RadosGateway(dir);
        try
        {
            await rgw.BootAsync();
            return rgw;
        }
        catch (Exception ex)
        {
            var logs = rgw.LogTail();
            await rgw.DisposeAsync();
            throw new InvalidOperationException($"radosgw did not start: {ex.Message}\n{logs}", ex);
        }
    }

    private async Task BootAsync()
    {
        var fsid = Guid.NewGuid().ToString();
        var monPort = FreePorts.One();
        var osdPorts = FreePorts.Range(31);
        Port = FreePorts.One();
        foreach (var sub in new[] { "run", "log", "mon-a", "rgw" })
        {
            Directory.CreateDirectory(Path.Combine(_dir, sub));
        }

        var keyring = Path.Combine(_dir, "keyring");
        await File.WriteAllTextAsync(_conf, $"""
            [global]
            fsid = {fsid}
            mon_host = [v2:127.0.0.1:{monPort}]
            auth_cluster_required = cephx
            auth_service_required = cephx
            auth_client_required = cephx
            ms_bind_msgr1 = false
            ms_bind_port_min = {osdPorts}
            ms_bind_port_max = {osdPorts + 30}
            ms_bind_ipv6 = false
            public_addr = 127.0.0.1
            osd_pool_default_size = 1
            osd_pool_default_min_size = 1
            mon_allow_pool_size_one = true
            mon_warn_on_pool_no_redundancy = false
            osd_pool_default_pg_autoscale_mode = off
            osd_pool_default_pg_num = 8
            osd_pool_default_pgp_num = 8
            osd_crush_chooseleaf_type = 0
            osd_objectstore = memstore
            memstore_device_bytes = 17179869184
            run_dir = {_dir}/run
            log_file = {_dir}/log/$name.log
            admin_socket = {_dir}/run/$name.asok
            keyring = {keyring}
            osd_data = {_dir}/osd-$id
            mon_data = {_dir}/mon-$id
            [osd]
            keyring = {_dir}/osd-$id/keyring
            [client.rgw]
            rgw_data = {_dir}/rgw
            rgw_gc_obj_min_wait = 0
            rgw_gc_processor_period = 5
            rgw_gc_processor_max_time = 5
            rgw_crypt_s3_kms_backend = testing
            rgw_crypt_s3_kms_encryption_keys = {KmsKeyId}=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo=
            rgw_crypt_require_ssl = false

            """); // ceph's parser needs the file to end with a newline

        await Run("ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *");
        await Run("ceph-authtool", keyring, "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *");
        await Run("ceph-authtool", keyring, "--gen-key", "-n", "client.rgw", "--cap", "mon", "allow rw", "--cap", "osd", "allow rwx", "--cap", "mgr", "allow rw");
        var monmap = Path.Combine(_dir, "monmap");
        await Run("monmaptool", "--create", "--addv", "a", $"[v2:127.0.0.1:{monPort}]", "--fsid", fsid, monmap);
        await Run("ceph-mon", "-c", _conf, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", keyring);
        Spawn("ceph-mon", "-c", _conf, "-f", "-i", "a");

        var osdUuid = Guid.NewGuid().ToString();
        var id = (await Run("ceph", "-c", _conf, "osd", "new", osdUuid)).Trim();
        var osdDir = Directory.CreateDirectory(Path.Combine(_dir, "osd-" + id)).FullName;
        var osdKeyring = Path.Combine(osdDir, "keyring");
        await Run("ceph-authtool", "--create-keyring", osdKeyring, "--gen-key", "-n", "osd." + id);
        await Run("ceph", "-c", _conf, "auth", "add", "osd." + id, "osd", "allow *", "mon", "allow profile osd", "mgr", "allow profile osd", "-i", osdKeyring);
        await Run("ceph-osd", "-c", _conf, "-i", id, "--mkfs", "--osd-uuid", osdUuid);
        Spawn("ceph-osd", "-c", _conf, "-f", "-i", id);
        await WaitUntilAsync(async () => (await Run("ceph", "-c", _conf, "osd", "stat")).Contains("1 up", StringComparison.Ordinal), "the OSD to come up");

        // The user first: it creates the default zone, which then gets a second storage class before radosgw reads it.
        await Run("radosgw-admin", "-c", _conf, "user", "create", "--uid=ftpgw", "--display-name=ftpgw", $"--access-key={AccessKey}", $"--secret-key={SecretKey}");
        await Run("radosgw-admin", "-c", _conf, "zonegroup", "placement", "add", "--rgw-zonegroup", "default", "--placement-id", "default-placement", "--storage-class", ExtraStorageClass);
        await Run("radosgw-admin", "-c", _conf, "zone", "placement", "add", "--rgw-zone", "default", "--placement-id", "default-placement", "--storage-class", ExtraStorageClass, "--data-pool", "default.rgw.cold.data");
        Spawn("radosgw", "-c", _conf, "-f", "-n", "client.rgw", "--keyring", keyring, $"--rgw-frontends=beast endpoint=127.0.0.1:{Port} tcp_nodelay=1");
        await WaitUntilAsync(() => Task.FromResult(FreePorts.IsListening(Port)), "radosgw to listen");
    }

    private string LogTail()
    {
        var sb = new StringBuilder();
        var logDir = Path.Combine(_dir, "log");
        if (Directory.Exists(logDir))
        {
            foreach (var file in Directory.GetFiles(logDir))
            {
                sb.AppendLine("== " + Path.GetFileName(file));
                foreach (var line in File.ReadLines(file).TakeLast(15))
                {
                    sb.AppendLine(line);
                }
            }
        }

        return sb.ToString();
    }

    /// <summary>Stops radosgw only (the store "goes away"), for fault-injection tests.</summary>
    public async Task StopGatewayAsync()
    {
        var rgw = _processes.LastOrDefault(p => !p.HasExited && p.StartInfo.FileName == "radosgw");
        if (rgw is not null)
        {
            rgw.Kill();
            await rgw.WaitForExitAsync();
        }
    }

    private void Spawn(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");

        // The daemons log to their files (LogTail reads those); what they print is read only so that a full pipe
        // never stops them, and dropped: kept, it grew with every request for the life of the store.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private static async Task<string> Run(string file, params string[] args)
    {
        var result = await ExternalProcess.RunAsync(file, args, timeout: TimeSpan.FromSeconds(60));
        return result.ExitCode == 0 ? result.StandardOutput : throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {result}");
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 240; i++)
        {
            if (_processes.Any(p => p.HasExited))
            {
                throw new InvalidOperationException($"A Ceph daemon exited while waiting for {what}; logs in {_dir}/log");
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (InvalidOperationException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Timed out waiting for {what}");
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            var p = _processes[i];
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
