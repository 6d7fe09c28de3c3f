using System.Globalization;
using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Clients that open several sessions at once against one gateway — rclone's FTP backend and lftp's parallel
/// mirror and segmented download — with scenarios shared by the local-disk and object-store tests.
/// </summary>
internal static class ParallelClients
{
    /// <summary>A tree of 48 small files in three levels plus one 5 MiB file; returns relative path → bytes.</summary>
    public static Dictionary<string, byte[]> MakeTree(string root)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < 48; i++)
        {
            var dir = (i % 3) switch { 0 => "", 1 => "cam01/", _ => "cam01/2026/" };
            files[$"{dir}shot-{i:D2}.jpg"] = RandomNumberGenerator.GetBytes(i * 997);
        }

        files["cam01/video.mp4"] = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 11);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, content);
        }

        return files;
    }

    public static void AssertSameTree(IReadOnlyDictionary<string, byte[]> expected, string root)
    {
        var actual = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual);
        foreach (var (path, content) in expected)
        {
            Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(root, path))), path);
        }
    }

    /// <summary>
    /// rclone copy (8 transfers), check, lsl, sync after local changes, copy back down, purge with 8 checkers.
    /// Every step must exit 0 without an ERROR line; <paramref name="storedTree"/> reads the remote side back.
    /// </summary>
    public static async Task RcloneScenarioAsync(Gateway gateway, TempDirectory work, Func<string, Task<IReadOnlyCollection<string>>> storedTree)
    {
        var rclone = ExternalProcess.Require("rclone");
        var obscured = await ExternalProcess.RunAsync(rclone, ["obscure", Gateway.Password]);
        Succeeded(obscured);
        var environment = new Dictionary<string, string?>
        {
            ["RCLONE_CONFIG"] = work.File("rclone.conf"), // not there: rclone uses only the settings below
            ["RCLONE_CONFIG_GW_TYPE"] = "ftp",
            ["RCLONE_CONFIG_GW_HOST"] = "127.0.0.1",
            ["RCLONE_CONFIG_GW_PORT"] = gateway.Port.ToString(CultureInfo.InvariantCulture),
            ["RCLONE_CONFIG_GW_USER"] = Gateway.User,
            ["RCLONE_CONFIG_GW_PASS"] = obscured.StandardOutput.Trim(),
        };
        async Task Run(params string[] arguments)
        {
            var result = await ExternalProcess.RunAsync(rclone, [.. arguments, "--contimeout", "20s", "--timeout", "60s", "--retries", "1", "--low-level-retries", "1"],
                environment: environment, timeout: TimeSpan.FromMinutes(3));
            Succeeded(result);
            Assert.DoesNotContain("ERROR", result.StandardError, StringComparison.Ordinal);
        }

        var local = Path.Combine(work.Path, "rclone-up");
        var files = MakeTree(local);
        await Run("copy", local, "gw:fleet", "--transfers", "8", "--checkers", "8");
        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), (await storedTree("fleet")).Order(StringComparer.Ordinal));
        await Run("check", local, "gw:fleet", "--download", "--checkers", "8");

        var lsl = await ExternalProcess.RunAsync(rclone, ["lsl", "gw:fleet/cam01"], environment: environment);
        Succeeded(lsl);
        Assert.Contains($"{5 * 1024 * 1024 + 11} ", lsl.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(files.Keys.Count(k => k.StartsWith("cam01/", StringComparison.Ordinal)), lsl.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // sync: one file gone, one changed, one new — the remote follows.
        File.Delete(Path.Combine(local, "shot-00.jpg"));
        files.Remove("shot-00.jpg");
        files["cam01/shot-01.jpg"] = RandomNumberGenerator.GetBytes(4321);
        File.WriteAllBytes(Path.Combine(local, "cam01/shot-01.jpg"), files["cam01/shot-01.jpg"]);
        files["cam02/new.jpg"] = RandomNumberGenerator.GetBytes(100);
        Directory.CreateDirectory(Path.Combine(local, "cam02"));
        File.WriteAllBytes(Path.Combine(local, "cam02/new.jpg"), files["cam02/new.jpg"]);
        await Run("sync", local, "gw:fleet", "--transfers", "8", "--checkers", "8");
        await Run("check", local, "gw:fleet", "--download", "--checkers", "8");

        var down = Path.Combine(work.Path, "rclone-down");
        await Run("copy", "gw:fleet", down, "--transfers", "8", "--checkers", "8");
        AssertSameTree(files, down);

        // purge lists and deletes with 8 checkers at once: entries vanish under other listings.
        await Run("purge", "gw:fleet", "--checkers", "8", "--transfers", "8");
        Assert.Empty(await storedTree("fleet"));
    }

    /// <summary>
    /// lftp: mirror -R with 4 parallel uploads (and its SITE CHMOD per file), pget with 4 segments, mirror down
    /// with 4 parallel downloads of 3 segments each.
    /// </summary>
    public static async Task LftpScenarioAsync(Gateway gateway, TempDirectory work)
    {
        var lftp = ExternalProcess.Require("lftp");
        var local = Path.Combine(work.Path, "lftp-up");
        var files = MakeTree(local);
        var down = Path.Combine(work.Path, "lftp-down");
        var script = string.Join("; ",
            "set ftp:passive-mode on",
            "set net:max-retries 1",
            "set net:timeout 20",
            "set ftp:ssl-allow no",
            "set pget:min-chunk-size 64k",
            $"debug -o {work.File("lftp.log")} 5",
            $"open -u {Gateway.User},{Gateway.Password} -p {gateway.Port} 127.0.0.1",
            $"mirror -R --parallel=4 {local} /par",
            $"pget -n 4 /par/cam01/video.mp4 -o {work.File("pget.mp4")}",
            $"mirror --parallel=4 --use-pget-n=3 /par {down}",
            "quit");
        var result = await ExternalProcess.RunAsync(lftp, ["-c", script], timeout: TimeSpan.FromMinutes(3));
        Succeeded(result);
        Assert.DoesNotContain("chmod", result.StandardError, StringComparison.OrdinalIgnoreCase);
        var dialogue = File.ReadAllLines(work.File("lftp.log"));
        Assert.Contains(dialogue, line => line.Contains("---> SITE CHMOD", StringComparison.Ordinal));
        // Every command lftp sent was understood (500-504: unknown or not implemented); 550s such as MDTM of a
        // directory are answers lftp expects.
        Assert.DoesNotContain(dialogue, line => line.Contains("<--- 50", StringComparison.Ordinal));
        Assert.Equal(files["cam01/video.mp4"], File.ReadAllBytes(work.File("pget.mp4")));
        AssertSameTree(files, down);
    }

    private static void Succeeded(ExternalProcess.Result result) => Assert.True(result.ExitCode == 0, result.ToString());
}
