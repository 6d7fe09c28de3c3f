using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Storage.Tests.ObjectStore;

/// <summary>
/// What the gateway knows of directories, over a store in memory: a camera's uploads into one directory cost the
/// store no checks once the directory was seen, that knowledge ages on the provider's clock, and what another
/// gateway changed meanwhile is found once it has aged.
/// </summary>
public sealed class DirectoryChecksTests
{
    private static CancellationToken Ct => CancellationToken.None;

    private static UploadRequest Upload(string path) => new(StoragePath.Parse(path), new MemoryStream([1, 2, 3]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UploadsIntoASeenDirectory_AskTheStoreNothing_UntilWhatWasSeenHasAged(bool azureLayout)
    {
        var store = new MemoryObjectStore(azureLayout);
        var time = new FakeTimeProvider();
        var provider = MemoryStores.Provider(store, time);
        await provider.CreateDirectoryAsync(StoragePath.Parse("/cam"), Ct);
        await provider.UploadAsync(Upload("/cam/0001.jpg"), Ct);

        var (heads, lists) = (store.Heads, store.Lists);
        for (var i = 2; i <= 20; i++)
        {
            await provider.UploadAsync(Upload($"/cam/{i:D4}.jpg"), Ct);
        }

        Assert.Equal((heads, lists), (store.Heads, store.Lists));

        time.Advance(TimeSpan.FromSeconds(31)); // DirectoryCacheDuration is 30 s
        await provider.UploadAsync(Upload("/cam/0021.jpg"), Ct);
        Assert.True(store.Heads + store.Lists > heads + lists, "aged knowledge is checked again");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ANameAnotherGatewayMadeADirectory_IsRefused_OnceWhatWasSeenHasAged(bool azureLayout)
    {
        var store = new MemoryObjectStore(azureLayout);
        var time = new FakeTimeProvider();
        var here = MemoryStores.Provider(store, time);
        var there = MemoryStores.Provider(store, time);
        await here.CreateDirectoryAsync(StoragePath.Parse("/cam"), Ct);
        await here.UploadAsync(Upload("/cam/a.jpg"), Ct);
        await there.CreateDirectoryAsync(StoragePath.Parse("/cam/b.jpg"), Ct);

        time.Advance(TimeSpan.FromSeconds(31));
        var refused = await Assert.ThrowsAsync<StorageException>(() => here.UploadAsync(Upload("/cam/b.jpg"), Ct).AsTask());
        Assert.Equal(StorageErrorKind.IsADirectory, refused.Kind);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUploadIntoAMissingDirectory_IsRefusedBeforeAnyData_AndAfterItIsCreatedSucceeds(bool azureLayout)
    {
        var store = new MemoryObjectStore(azureLayout);
        var provider = MemoryStores.Provider(store);
        var missing = await Assert.ThrowsAsync<StorageException>(() => provider.CheckUploadTargetAsync(StoragePath.Parse("/nvr/x.mp4"), Ct).AsTask());
        Assert.Equal(StorageErrorKind.NotFound, missing.Kind);

        await provider.CreateDirectoryAsync(StoragePath.Parse("/nvr"), Ct);
        await provider.CheckUploadTargetAsync(StoragePath.Parse("/nvr/x.mp4"), Ct);
        await provider.UploadAsync(Upload("/nvr/x.mp4"), Ct);
        Assert.Equal([1, 2, 3], store.Content("pre/nvr/x.mp4"));
    }

    [Fact]
    public async Task ADirectoryRename_MovesEveryObject_AndIsRefusedAboveTheLimit_BeforeAnythingMoves()
    {
        var store = new MemoryObjectStore();
        var provider = MemoryStores.Provider(store);
        await provider.CreateDirectoryAsync(StoragePath.Parse("/a"), Ct);
        for (var i = 0; i < 5; i++)
        {
            await provider.UploadAsync(Upload($"/a/{i}.bin"), Ct);
        }

        await provider.RenameAsync(StoragePath.Parse("/a"), StoragePath.Parse("/b"), Ct);
        Assert.Equal(["pre/b/", "pre/b/0.bin", "pre/b/1.bin", "pre/b/2.bin", "pre/b/3.bin", "pre/b/4.bin"], store.Keys());

        var limited = new FtpGateway.Storage.ObjectStore.ObjectStoreProvider(store, MemoryStores.Settings() with { MaxRenameObjects = 3 });
        var refused = await Assert.ThrowsAsync<StorageException>(() => limited.RenameAsync(StoragePath.Parse("/b"), StoragePath.Parse("/c"), Ct).AsTask());
        Assert.Equal(StorageErrorKind.LimitExceeded, refused.Kind);
        Assert.All(store.Keys(), k => Assert.StartsWith("pre/b/", k, StringComparison.Ordinal));
    }
}
