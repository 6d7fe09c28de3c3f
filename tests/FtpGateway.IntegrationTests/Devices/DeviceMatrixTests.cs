using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests.Devices;

/// <summary>
/// The compatibility matrix, tested: each device family's conversation (<see cref="DeviceProfiles"/>) replayed over
/// real TCP against a gateway on local disk, S3 (radosgw) and Azure (Azurite), each family as a user with the
/// settings the README recommends for it (its root is /&lt;family&gt;). Every reply must be one the device carries on
/// after, and every file it stored must be there, whole.
/// </summary>
internal static class DeviceMatrix
{
    public static Dictionary<string, string?> Settings(Dictionary<string, string?> provider)
    {
        var i = 1;
        foreach (var profile in DeviceProfiles.All)
        {
            var name = UserOf(profile);
            provider[$"Users:{i}:Name"] = name;
            provider[$"Users:{i}:Password"] = name + "-pw";
            provider[$"Users:{i}:Root"] = "/" + name;
            foreach (var (key, value) in profile.Settings)
            {
                provider[$"Users:{i}:{key}"] = value;
            }

            i++;
        }

        provider["Events:IgnorePaths:0"] = "**/DVRWorkDirectory"; // the README's recommendation for Dahua and its OEMs
        return provider;
    }

    public static async Task ReplayAllAsync(Gateway gateway, Func<string, Task<byte[]?>> stored)
    {
        var failures = new List<string>();
        foreach (var profile in DeviceProfiles.All)
        {
            try
            {
                await ReplayAsync(gateway, profile);
                foreach (var path in profile.Stored)
                {
                    if (await stored(path) is null)
                    {
                        failures.Add($"{profile.Family}: {path} was not stored");
                    }
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Net.Sockets.SocketException)
            {
                failures.Add($"{profile.Family}: {ex.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string UserOf(DeviceProfile profile) => profile.Steps[0].Command["USER ".Length..];

    private static async Task ReplayAsync(Gateway gateway, DeviceProfile profile)
    {
        await using var c = await RawFtpClient.ConnectAsync(gateway.Port);
        foreach (var step in profile.Steps)
        {
            var reply = step.Upload is { } data
                ? await c.UploadAsync(step.Command, data, step.Mode switch { RawDataMode.Epsv => DataMode.Epsv, RawDataMode.Port => DataMode.Port, _ => DataMode.Pasv })
                : await c.SendAsync(step.Command);
            if (!step.Accepts.Contains(reply.Code))
            {
                throw new InvalidOperationException($"'{step.Command}' answered {reply.Code} {reply.Message} (the device accepts {string.Join(" or ", step.Accepts)})");
            }
        }
    }
}

public sealed class LocalDiskDeviceMatrixTests
{
    [Fact]
    public async Task EveryDeviceFamily_WorksOnLocalDisk()
    {
        await using var gateway = await Gateway.StartAsync(DeviceMatrix.Settings([]));
        await DeviceMatrix.ReplayAllAsync(gateway, path =>
            Task.FromResult(File.Exists(gateway.Root.Path + path) ? File.ReadAllBytes(gateway.Root.Path + path) : null));
    }
}

[Collection("S3")]
public sealed class S3DeviceMatrixTests(S3StoreFixture s3)
{
    [Fact]
    public async Task EveryDeviceFamily_WorksOnS3()
    {
        var prefix = "matrix-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await Gateway.StartAsync(DeviceMatrix.Settings(s3.GatewaySettings(prefix)));
        await DeviceMatrix.ReplayAllAsync(gateway, async path =>
        {
            try
            {
                using var o = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, prefix + path);
                using var bytes = new MemoryStream();
                await o.ResponseStream.CopyToAsync(bytes);
                return bytes.ToArray();
            }
            catch (Amazon.S3.AmazonS3Exception)
            {
                return null;
            }
        });
    }
}

[Collection("Azure")]
public sealed class AzureDeviceMatrixTests(AzureStoreFixture azure)
{
    [Fact]
    public async Task EveryDeviceFamily_WorksOnAzure()
    {
        var prefix = "matrix-" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await Gateway.StartAsync(DeviceMatrix.Settings(azure.GatewaySettings(prefix)));
        await DeviceMatrix.ReplayAllAsync(gateway, async path =>
        {
            var blob = azure.Container.GetBlobClient(prefix + path);
            return (await blob.ExistsAsync()).Value ? (await blob.DownloadContentAsync()).Value.Content.ToArray() : null;
        });
    }
}
