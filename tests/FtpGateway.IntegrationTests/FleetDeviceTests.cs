using FtpGateway.Ftp.Users;
using FtpGateway.State.Redis;
using FtpGateway.Storage;
using FtpGateway.Storage.FileSystem;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// A device's Test button and its guardrails across two gateways sharing Debian's redis-server and one store: the
/// balancer may send the DELE to another gateway than the STOR, and a looping device's uploads count together.
/// </summary>
public sealed class FleetDeviceTests
{
    [Fact]
    public async Task TheTestButton_AndTheGuardrails_HoldAcrossGateways()
    {
        await using var redis = await RedisServer.StartAsync();
        var prefix = "d" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var fleetA = RedisFleetState.Connect(new RedisStateOptions { Configuration = redis.Configuration, KeyPrefix = prefix }, "gw-0", TimeProvider.System, NullLoggerFactory.Instance);
        await using var fleetB = RedisFleetState.Connect(new RedisStateOptions { Configuration = redis.Configuration, KeyPrefix = prefix }, "gw-1", TimeProvider.System, NullLoggerFactory.Instance);
        await Poll.UntilAsync(() => fleetA.IsAvailable && fleetB.IsAvailable, "both gateways connected to Redis");
        using var root = new TempDirectory();
        IStorageProvider Shared() => new FileSystemStorageProvider(new FileSystemStorageOptions { Root = root.Path });
        var users = new UserDirectory(
            [
                new UserOptions { Name = "cam", Password = "cam-pw", Permissions = UserPermissions.WriteOnly },
                new UserOptions { Name = "looper", Password = "looper-pw", MaxFilesPerDay = 3 },
            ],
            new AnonymousOptions());
        await using var a = await TestServer.StartAsync(users: users, fleet: fleetA, storage: Shared());
        await using var b = await TestServer.StartAsync(users: users, fleet: fleetB, storage: Shared());

        // Stored through one gateway, deleted through the other: the Test button passes.
        await using (var onA = await RawFtpClient.LoginAsync(a.Port, "cam", "cam-pw"))
        {
            Assert.Equal(226, (await onA.UploadAsync("STOR test.txt", [1])).Code);
        }

        await using (var onB = await RawFtpClient.LoginAsync(b.Port, "cam", "cam-pw"))
        {
            await onB.ExpectAsync("DELE test.txt", 250);
        }

        Assert.False(File.Exists(Path.Combine(root.Path, "test.txt")));

        // Three files a day, wherever they arrive: the fourth is refused on the other gateway.
        await using var looperA = await RawFtpClient.LoginAsync(a.Port, "looper", "looper-pw");
        await using var looperB = await RawFtpClient.LoginAsync(b.Port, "looper", "looper-pw");
        Assert.Equal(226, (await looperA.UploadAsync("STOR 1.jpg", [1])).Code);
        Assert.Equal(226, (await looperB.UploadAsync("STOR 2.jpg", [1])).Code);
        Assert.Equal(226, (await looperA.UploadAsync("STOR 3.jpg", [1])).Code);
        await Poll.UntilAsync(
            async () => (await fleetB.UserActivityAsync("looper", DateOnly.FromDateTime(DateTime.UtcNow), CancellationToken.None))?.UploadsToday == 3,
            "the day's uploads counted in Redis");
        Assert.Equal(552, (await looperB.UploadAsync("STOR 4.jpg", [1])).Code);
    }
}
