using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FtpGateway.Ftp.Users;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>The gateway executable as a user runs it: first run, the hash-password verb, start-up validation, logs.</summary>
public sealed partial class ExecutableTests
{
    private static string GatewayDll => RunningGateway.GatewayDll;

    [Fact]
    public async Task FirstRun_WithoutUsers_PrintsAOneTimePassword_ThatLogsIn()
    {
        using var root = new TempDirectory();
        var port = FreePorts.One();
        await using var gateway = await RunningGateway.StartAsync($"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={root.Path}");
        var line = await gateway.WaitForOutputAsync("Log in as 'demo'");
        var password = DemoPassword().Match(line).Groups[1].Value;
        Assert.Equal(16, password.Length);
        await gateway.WaitForPortAsync(port); // the password is printed while the host is built, before it listens
        await using var c = await RawFtpClient.LoginAsync(port, "demo", password);
        await c.ExpectAsync("MKD works", 257);
        Assert.True(Directory.Exists(Path.Combine(root.Path, "works")));
    }

    [Fact]
    public async Task HashPassword_PrintsAHashThatVerifies_AndThatTheGatewayAccepts()
    {
        var result = await ExternalProcess.RunAsync("dotnet", [GatewayDll, "hash-password", "--iterations", "20000"], standardInput: "pa$$ word\n");
        Assert.True(result.ExitCode == 0, result.ToString());
        var hash = result.StandardOutput.Trim();
        Assert.StartsWith("pbkdf2-sha256$20000$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("pa$$ word", hash));

        using var root = new TempDirectory();
        var port = FreePorts.One();
        await using var gateway = await RunningGateway.StartAsync(
            $"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={root.Path}",
            "--Users:0:Name=hashed", $"--Users:0:PasswordHash={hash}");
        await gateway.WaitForPortAsync(port);
        await using var c = await RawFtpClient.LoginAsync(port, "hashed", "pa$$ word");
    }

    [Theory]
    [InlineData("--Ftp:PassivePortRange=9-5", "Ftp:PassivePortRange")]
    [InlineData("--Ftp:PublicAddress=example.com", "Ftp:PublicAddress")]
    [InlineData("--Storage:Provider=Floppy", "Storage:Provider")]
    [InlineData("--Users:0:Name=nopassword", "Users:0")]
    [InlineData("--Ftp:PasivePortRange=50000-50010", "Ftp:PasivePortRange")] // typos are refused, not ignored
    [InlineData("--Ftp:Tls:CertPath=/etc/tls.crt", "Ftp:Tls:CertPath")]
    [InlineData("--Storage:Provder=S3", "Storage:Provder")]
    [InlineData("--Storage:S3:Bukket=inbox", "Storage:S3:Bukket")]
    [InlineData("--Users:0:Pasword=x", "Users:0:Pasword")]
    [InlineData("--Management:Prot=9090", "Management:Prot")]
    [InlineData("--Storage:Provider=S3 --Storage:S3:Bucket=b --Storage:S3:ChecksumMode=Sometimes", "Storage:S3:ChecksumMode")]
    public async Task InvalidConfiguration_StopsAtStartUp_NamingTheKey(string settings, string key)
    {
        using var root = new TempDirectory();
        var result = await ExternalProcess.RunAsync("dotnet", [GatewayDll, "--Ftp:Port=0", "--Management:Port=0", $"--Storage:FileSystem:Root={root.Path}", .. settings.Split(' ')], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("FtpGateway: cannot start: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(key, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("users-file-missing", "Users:File", "does not exist")]
    [InlineData("users-file-directory", "Users:File", "is a directory")]
    [InlineData("users-file-bad-json", "Users:File", "line 2, column")]
    [InlineData("users-file-unknown-field", "Users:File", "entry #1 ('cam01', line 1): unknown field 'maxSesions'")]
    [InlineData("audit-file-directory-missing", "Audit:File", "its directory does not exist")]
    [InlineData("ftp-port-in-use", "Ftp:Port", "already in use")]
    [InlineData("implicit-port-in-use", "Ftp:Tls:ImplicitPort", "already in use")]
    [InlineData("management-port-in-use", "Management:Port", "address already in use")]
    [InlineData("management-on-the-ftp-port", "Management:Port", "is also an FTP port")]
    [InlineData("passive-range-holds-the-ftp-port", "Ftp:PassivePortRange", "holds Ftp:Port")]
    [InlineData("passive-range-holds-the-implicit-port", "Ftp:Tls:ImplicitPort", "lie outside Ftp:PassivePortRange")]
    [InlineData("passive-range-reversed", "Ftp:PassivePortRange", "is reversed")]
    [InlineData("audit-format-typo", "Audit:Format 'xfer'", "is not one of Json, Xferlog")]
    [InlineData("telemetry-typo", "Telemetry:PerUserMetric", "Unknown configuration key")]
    [InlineData("log-format-typo", "Logging:Format 'jsn'", "is not one of json, plain, simple")]
    [InlineData("timeout-typo", "Ftp:IdleTimeout '10 minutes'", "is not a duration")]
    [InlineData("config-file-missing", "--config", "the file does not exist")]
    [InlineData("config-file-bad-json", "--config", "is not valid JSON")]
    [InlineData("scanning-address-bad", "Scanning:Clamd:Address 'clamd:3310'", "must be tcp://host:port or unix:")]
    [InlineData("user-file-type-bad", "Users:0:AllowedFileTypes '*.jpg'", "is not a file name extension")]
    [InlineData("api-key-plain", "Management:ApiKeys:0", "a token in plain text is refused")]
    [InlineData("api-key-file-missing", "Management:ApiKeys:0", "cannot be read")]
    [InlineData("redis-configuration-bad", "State:Redis:Configuration", "is not a valid Redis configuration string")]
    [InlineData("redis-key-typo", "State:Redis:Configuraton", "Unknown configuration key")]
    [InlineData("redis-prefix-empty", "State:Redis:KeyPrefix", "must not be empty")]
    public async Task EveryRefusedStart_IsOneLineOnStandardError_NamingTheKey_AndExitCode1(string situation, string key, string cause)
    {
        using var work = new TempDirectory();
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var inUse = ((IPEndPoint)busy.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (cert, tlsKey) = TestCertificates.CreateTlsFiles(work.Path);
        File.WriteAllText(work.File("bad.json"), "{ \"users\": [\n  { \"name\": \"cam01\" \"password\": \"x\" } ] }");
        File.WriteAllText(work.File("typo.json"), "{ \"users\": [ { \"name\": \"cam01\", \"password\": \"x\", \"maxSesions\": 2 } ] }");
        string[] settings = situation switch
        {
            "users-file-missing" => [$"--Users:File={work.File("none.json")}"],
            "users-file-directory" => [$"--Users:File={work.Path}"],
            "users-file-bad-json" => [$"--Users:File={work.File("bad.json")}"],
            "users-file-unknown-field" => [$"--Users:File={work.File("typo.json")}"],
            "audit-file-directory-missing" => [$"--Audit:File={work.File("no/such/dir/audit.log")}"],
            "ftp-port-in-use" => [$"--Ftp:Port={inUse}"],
            "implicit-port-in-use" => [$"--Ftp:Tls:CertificatePath={cert}", $"--Ftp:Tls:KeyPath={tlsKey}", $"--Ftp:Tls:ImplicitPort={inUse}"],
            "management-port-in-use" => [$"--Management:Port={inUse}"],
            "management-on-the-ftp-port" => ["--Ftp:Port=2999", "--Management:Port=2999"],
            "passive-range-holds-the-ftp-port" => ["--Ftp:Port=50005", "--Ftp:PassivePortRange=50000-50010"],
            "passive-range-holds-the-implicit-port" => [$"--Ftp:Tls:CertificatePath={cert}", $"--Ftp:Tls:KeyPath={tlsKey}", "--Ftp:Tls:ImplicitPort=50003", "--Ftp:PassivePortRange=50000-50010"],
            "passive-range-reversed" => ["--Ftp:PassivePortRange=50099-50000"],
            "audit-format-typo" => ["--Audit:Format=xfer"],
            "telemetry-typo" => ["--Telemetry:PerUserMetric=true"],
            "log-format-typo" => ["--Logging:Format=jsn"],
            "config-file-missing" => ["--config", work.File("nowhere.json")],
            "config-file-bad-json" => ["--config", work.File("bad.json")],
            "scanning-address-bad" => ["--Scanning:Clamd:Address=clamd:3310"],
            "user-file-type-bad" => ["--Users:0:AllowedFileTypes:0=*.jpg"],
            "api-key-plain" => ["--Management:ApiKeys:0=my-secret-token"],
            "api-key-file-missing" => [$"--Management:ApiKeys:0=file:{work.File("no-such-key")}"],
            "redis-configuration-bad" => ["--State:Redis:Configuration=127.0.0.1:6379,ssl=maybe"],
            "redis-key-typo" => ["--State:Redis:Configuraton=127.0.0.1:6379"],
            "redis-prefix-empty" => ["--State:Redis:Configuration=127.0.0.1:6379", "--State:Redis:KeyPrefix= "],
            _ => ["--Ftp:IdleTimeout=10 minutes"],
        };
        string[] defaults = ["--Ftp:Port=0", "--Ftp:ListenAddress=127.0.0.1", "--Management:Port=0", "--Management:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={work.File("root")}", "--Users:0:Name=u", "--Users:0:Password=p"];
        var result = await ExternalProcess.RunAsync("dotnet", [GatewayDll, .. defaults, .. settings], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 1, result.ToString());
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("FtpGateway: cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(key, line, StringComparison.Ordinal);
        Assert.Contains(cause, line, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help", "FtpGateway: an FTP server")]
    [InlineData("-h", "FtpGateway: an FTP server")]
    [InlineData("--version", "FtpGateway ")]
    [InlineData("version", "FtpGateway ")]
    public async Task HelpAndVersion_PrintAndExit_WithoutStartingAServer(string argument, string expected)
    {
        var result = await ExternalProcess.RunAsync("dotnet", [GatewayDll, argument], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith(expected, result.StandardOutput.TrimStart(), StringComparison.Ordinal);
        Assert.DoesNotContain("demo", result.StandardOutput, StringComparison.Ordinal); // no server, no one-time password
        var unknown = await ExternalProcess.RunAsync("dotnet", [GatewayDll, "serve-forever"], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown command 'serve-forever'", unknown.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigPath_ReadsAJsonFileAnywhere_AndTheCommandLineStillWins()
    {
        using var work = new TempDirectory();
        var port = FreePorts.One();
        var file = work.File("etc/ftpgateway.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, $$"""
            {
              "Ftp": { "Port": {{port}}, "ListenAddress": "127.0.0.1", "Banner": "from the file" },
              "Storage": { "FileSystem": { "Root": "{{work.File("data")}}" } },
              "Users": { "0": { "Name": "filed", "Password": "filed-pw" } }
            }
            """);
        await using (var gateway = await RunningGateway.StartAsync("--config", file))
        {
            await gateway.WaitForPortAsync(port);
            await using var c = await RawFtpClient.LoginAsync(port, "filed", "filed-pw");
            Assert.Contains("from the file", c.Greeting.Text, StringComparison.Ordinal);
        }

        await using (var overridden = await RunningGateway.StartAsync($"--config={file}", "--Ftp:Banner=from the command line"))
        {
            await overridden.WaitForPortAsync(port);
            await using var c = await RawFtpClient.ConnectAsync(port);
            Assert.Contains("from the command line", c.Greeting.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task KnownKeys_InAnyCase_AndUnrelatedSections_AreAccepted()
    {
        using var root = new TempDirectory();
        var port = FreePorts.One();
        await using var gateway = await RunningGateway.StartAsync(
            $"--ftp:port={port}", "--FTP:LISTENADDRESS=127.0.0.1", $"--Storage:FileSystem:Root={root.Path}", "--Ftp:Tls:Required=false",
            "--users:0:name=cased", "--Users:0:password=cased-pw", "--Storage:S3:Bucket=unused", "--Logging:Format=plain", "--Telemetry:Console=false");
        await gateway.WaitForPortAsync(port);
        await using var c = await RawFtpClient.LoginAsync(port, "cased", "cased-pw");

        // Each setting took effect: the storage root, the listen address (not every interface), the user.
        Assert.Equal(226, (await c.UploadAsync("STOR landed.txt", "x"u8.ToArray())).Code);
        Assert.Equal("x", File.ReadAllText(root.File("landed.txt")));
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => RawFtpClient.ConnectAsync(port, System.Net.IPAddress.Parse("127.0.0.2")));
        Assert.Equal("257 \"/\" is the current directory.", (await c.SendAsync("PWD")).Text);
    }

    [Fact]
    public async Task TheConfiguredLogLevel_Holds_SoCommandsAreNotLoggedByDefault()
    {
        using var root = new TempDirectory();
        var port = FreePorts.One();
        await using var gateway = await RunningGateway.StartAsync(
            $"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={root.Path}", "--Users:0:Name=quiet", "--Users:0:Password=quiet-pw-1");
        await gateway.WaitForPortAsync(port);
        await using (var c = await RawFtpClient.LoginAsync(port, "quiet", "quiet-pw-1"))
        {
            await c.ExpectAsync("NOOP", 200);
            await c.ExpectAsync("QUIT", 221);
        }

        await gateway.WaitForOutputAsync("Session ended"); // Information: logged, and after every line of the session
        Assert.DoesNotContain("dbug:", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("NOOP", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DebugLogs_ShowEveryCommand_ButNeverThePassword()
    {
        using var root = new TempDirectory();
        var port = FreePorts.One();
        const string password = "Sup3r-Secret-Pa55";
        await using (var gateway = await RunningGateway.StartAsync(
            $"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={root.Path}",
            "--Users:0:Name=logged", $"--Users:0:Password={password}", "--Logging:LogLevel:Default=Trace", "--Ftp:LoginFailureDelay=00:00:00"))
        {
            await gateway.WaitForPortAsync(port);
            await using (var c = await RawFtpClient.ConnectAsync(port))
            {
                await c.ExpectAsync("USER logged", 331);
                await c.ExpectAsync("PASS " + password + "-wrong", 530);
                await c.ExpectAsync("USER logged", 331);
                await c.ExpectAsync("PASS " + password, 230);
                await c.ExpectAsync("MKD visible-in-log", 257);
                await c.ExpectAsync("QUIT", 221);
            }

            await gateway.WaitForOutputAsync("visible-in-log");
            await gateway.WaitForOutputAsync("Session ended");
            var output = gateway.Output;
            Assert.Contains("PASS ****", output, StringComparison.Ordinal);
            Assert.DoesNotContain(password, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task JsonLogs_AreOneObjectPerLine_WithTheSessionScope()
    {
        using var root = new TempDirectory();
        var port = FreePorts.One();
        await using var gateway = await RunningGateway.StartAsync(
            $"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={root.Path}",
            "--Users:0:Name=json", "--Users:0:Password=json-pw", "--Logging:Format=json");
        await gateway.WaitForPortAsync(port);
        await using (var c = await RawFtpClient.LoginAsync(port, "json", "json-pw"))
        {
            await c.ExpectAsync("QUIT", 221);
        }

        var line = await gateway.WaitForOutputAsync("logged in");
        using var json = System.Text.Json.JsonDocument.Parse(line);
        Assert.Equal("Information", json.RootElement.GetProperty("LogLevel").GetString());
        Assert.Contains("SessionId", json.RootElement.GetProperty("Scopes").GetRawText(), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", json.RootElement.GetProperty("Scopes").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_DuringAnUpload_LetsItFinish_AndTheProcessExitsCleanly_WithoutAWarningInTheLog()
    {
        using var root = new TempDirectory();
        var port = FreePorts.One();
        var management = FreePorts.One();
        var content = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await using var gateway = await RunningGateway.StartAsync(
            $"--Ftp:Port={port}", "--Ftp:ListenAddress=127.0.0.1", $"--Storage:FileSystem:Root={root.Path}", $"--Management:Port={management}",
            "--Users:0:Name=term", "--Users:0:Password=term-pw", "--Ftp:DrainTimeout=00:00:20");
        await gateway.WaitForPortAsync(port);
        await gateway.WaitForPortAsync(management);

        // Probes and scrapes, as Kubernetes and Prometheus send them all day: not one log line each.
        using (var http = new HttpClient())
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal("ok\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{management}/healthz")));
                await http.GetStringAsync(new Uri($"http://127.0.0.1:{management}/metrics"));
            }
        }

        await using var c = await RawFtpClient.LoginAsync(port, "term", "term-pw");

        // Routine client conditions: Information lines, no warnings, no stack traces.
        await c.ExpectAsync("MKD seen", 257);
        await c.ExpectAsync("MKD seen", 550);
        Assert.Equal(226, (await c.UploadAsync("STOR seen/f.txt", [1])).Code);
        await c.ExpectAsync("RMD seen", 550);
        using var data = await c.OpenPassiveAsync();
        await c.ExpectAsync("STOR sigterm.bin", 150);
        await data.SendAsync(content.AsMemory(0, 1024 * 1024));

        var kill = await ExternalProcess.RunAsync("kill", ["-TERM", gateway.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(0, kill.ExitCode);
        await gateway.WaitForOutputAsync("Draining");

        await data.SendAsync(content.AsMemory(1024 * 1024));
        data.Shutdown(SocketShutdown.Send);
        data.Close();
        Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        Assert.Equal(421, (await c.ReadReplyAsync()).Code);
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(root.Path, "sigterm.bin")));

        // Regression: every SIGTERM logged "fail: ... Accept loop failed" with a stack trace, every probe three
        // Information lines, and an MKD of an existing directory a warning with a stack trace.
        var output = gateway.Output;
        Assert.Contains("MKD refused: AlreadyExists", output, StringComparison.Ordinal);
        Assert.Contains("RMD refused: DirectoryNotEmpty", output, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("warn:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Request starting", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [GeneratedRegex("password '([^']+)'")]
    private static partial Regex DemoPassword();
}
