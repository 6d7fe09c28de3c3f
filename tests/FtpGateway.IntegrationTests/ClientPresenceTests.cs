using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// Before an upload commits, the gateway asks whether the client is still there (a killed client closes its data
/// connection just as one that finished does). A client that closes the data connection and at once sends its
/// next command is still there: its upload must be stored and answered 226, every time. Thousands of races, so
/// here beside the other load tests rather than among the unit tests.
/// </summary>
public sealed class ClientPresenceTests
{
    [Fact]
    public async Task ACommandRightAfterTheDataConnectionCloses_NeverCostsTheUpload()
    {
        await using var server = await TestServer.StartAsync();
        var failures = await UploadThenCommandRace.WithNoopAsync(server.Port, uploads: 10_000, sessions: 8);
        Assert.Empty(failures);
        Assert.Equal(10_000, Directory.GetFiles(server.Root.Path, "race-*.bin").Length);
    }

    [Fact]
    public async Task QuitRightAfterTheDataConnectionCloses_NeverCostsTheUpload()
    {
        await using var server = await TestServer.StartAsync();
        var failures = await UploadThenCommandRace.WithQuitAsync(server.Port, uploads: 1_500, parallel: 8);
        Assert.Empty(failures);
        Assert.Equal(1_500, Directory.GetFiles(server.Root.Path, "quit-*.bin").Length);
    }
}
