using FtpGateway.Storage.ObjectStore;

namespace FtpGateway.Storage.Tests.ObjectStore;

/// <summary>
/// The MFMT that lftp, WinSCP and FileZilla send right after each upload, over a store in memory: the version the
/// provider has just stored is stamped without a HEAD; one that changed or went away meanwhile (another gateway,
/// another tool) fails its ETag condition and is looked at, so the stamp lands on what is there, or the MFMT fails
/// as for any missing file.
/// </summary>
public sealed class StampAfterUploadTests
{
    private static readonly DateTimeOffset When = new(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);

    private static CancellationToken Ct => CancellationToken.None;

    private static StoragePath P(string path) => StoragePath.Parse(path);

    private static UploadRequest Upload(string path, params byte[] content) =>
        new(P(path), new MemoryStream(content)) { Metadata = new Dictionary<string, string> { ["ftpgateway_user"] = "cam1" } };

    /// <summary>One store, and two gateways on it: this one, and another that changes files behind its back.</summary>
    private static (MemoryObjectStore Store, ObjectStoreProvider Here, ObjectStoreProvider There) TwoGateways(bool azureLayout = false)
    {
        var store = new MemoryObjectStore(azureLayout);
        return (store, MemoryStores.Provider(store), MemoryStores.Provider(store));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnMfmtRightAfterAnUpload_SendsNoHead_KeepsTheMetadata_AndTheNextOneLooksFirst(bool azureLayout)
    {
        var store = new MemoryObjectStore(azureLayout);
        var provider = MemoryStores.Provider(store);
        await provider.UploadAsync(Upload("/a.jpg", 1, 2, 3), Ct);

        var heads = store.Heads;
        await provider.SetModificationTimeAsync(P("/a.jpg"), When, Ct);
        Assert.Equal(heads, store.Heads);
        var stamped = (await store.HeadAsync("pre/a.jpg", Ct))!;
        Assert.Equal(When, stamped.StoredTime);
        Assert.Equal("cam1", stamped.Metadata!["ftpgateway_user"]);
        Assert.NotNull(stamped.Sha256);

        // The stamp made a new version: a second MFMT looks at it.
        heads = store.Heads;
        await provider.SetModificationTimeAsync(P("/a.jpg"), When.AddDays(1), Ct);
        Assert.Equal(heads + 1, store.Heads);
        Assert.Equal(When.AddDays(1), (await provider.GetEntryAsync(P("/a.jpg"), Ct))!.LastModified);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnMfmtAfterAnotherGatewayReplacedTheFile_StampsTheNewVersion_AndKeepsItsContent(bool azureLayout)
    {
        var (store, here, there) = TwoGateways(azureLayout);
        await here.UploadAsync(Upload("/a.jpg", 1), Ct);
        await there.UploadAsync(Upload("/a.jpg", 2, 2), Ct);

        var heads = store.Heads;
        await here.SetModificationTimeAsync(P("/a.jpg"), When, Ct);
        Assert.Equal(heads + 1, store.Heads);
        var entry = (await here.GetEntryAsync(P("/a.jpg"), Ct))!;
        Assert.Equal((When, 2L), (entry.LastModified, entry.Size));
        await using var read = await here.OpenReadAsync(P("/a.jpg"), 0, Ct);
        var content = new MemoryStream();
        await read.CopyToAsync(content);
        Assert.Equal([2, 2], content.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnMfmtOfAFileDeletedSinceItsUpload_IsNotFound(bool azureLayout)
    {
        var (store, here, there) = TwoGateways(azureLayout);
        await here.UploadAsync(Upload("/a.jpg", 1), Ct);
        await there.DeleteFileAsync(P("/a.jpg"), Ct);

        var missing = await Assert.ThrowsAsync<StorageException>(() => here.SetModificationTimeAsync(P("/a.jpg"), When, Ct).AsTask());
        Assert.Equal(StorageErrorKind.NotFound, missing.Kind);
        Assert.Null(await here.GetEntryAsync(P("/a.jpg"), Ct));
    }

    [Fact]
    public async Task AFileReplacedBetweenItsHeadAndItsStamp_IsLookedAtAgain_AndOneThatKeepsChangingIsAConflict()
    {
        var (store, here, there) = TwoGateways();
        await there.UploadAsync(Upload("/a.jpg", 1), Ct);

        // Another client replaces the file right after the first HEAD: the stamp of what that HEAD saw is refused.
        var replaced = false;
        store.AfterHead = _ =>
        {
            if (!replaced)
            {
                replaced = true;
                there.UploadAsync(Upload("/a.jpg", 2, 2), Ct).AsTask().GetAwaiter().GetResult();
            }
        };
        var heads = store.Heads;
        await here.SetModificationTimeAsync(P("/a.jpg"), When, Ct);
        Assert.Equal(heads + 2, store.Heads);
        var entry = (await here.GetEntryAsync(P("/a.jpg"), Ct))!;
        Assert.Equal((When, 2L), (entry.LastModified, entry.Size));

        // Replaced after every HEAD: after three looks the client is told to try again (451), not that the file exists.
        var replacing = false;
        store.AfterHead = _ =>
        {
            if (!replacing)
            {
                replacing = true;
                there.UploadAsync(Upload("/a.jpg", 3), Ct).AsTask().GetAwaiter().GetResult();
                replacing = false;
            }
        };
        heads = store.Heads;
        var conflict = await Assert.ThrowsAsync<StorageException>(() => here.SetModificationTimeAsync(P("/a.jpg"), When, Ct).AsTask());
        Assert.Equal(StorageErrorKind.Conflict, conflict.Kind);
        Assert.Equal(heads + 3, store.Heads);
    }

    [Fact]
    public async Task AFileGoneAtTheLastLook_IsNotFound_AndARefusalThatIsNotAboutTheVersion_IsNotRetried()
    {
        var (store, here, there) = TwoGateways();
        await there.UploadAsync(Upload("/a.jpg", 1), Ct);

        // Replaced after the first two looks, deleted after the third: the stamp of what that one saw finds nothing.
        var (looks, inside) = (0, false);
        store.AfterHead = _ =>
        {
            if (!inside)
            {
                inside = true;
                var change = ++looks < 3 ? there.UploadAsync(Upload("/a.jpg", 2), Ct).AsTask() : there.DeleteFileAsync(P("/a.jpg"), Ct).AsTask();
                change.GetAwaiter().GetResult();
                inside = false;
            }
        };
        var missing = await Assert.ThrowsAsync<StorageException>(() => here.SetModificationTimeAsync(P("/a.jpg"), When, Ct).AsTask());
        Assert.Equal((StorageErrorKind.NotFound, 3), (missing.Kind, looks));

        // A stamp the store refuses for another reason (a 503, a lease's 409) is reported at once, not looked at again.
        store.AfterHead = null;
        await there.UploadAsync(Upload("/a.jpg", 1), Ct);
        foreach (var (status, kind) in new[] { (503, StorageErrorKind.Unavailable), (409, StorageErrorKind.Unavailable) })
        {
            store.StampFailure = status;
            var heads = store.Heads;
            var failed = await Assert.ThrowsAsync<StorageException>(() => here.SetModificationTimeAsync(P("/a.jpg"), When, Ct).AsTask());
            Assert.Equal((kind, heads + 1), (failed.Kind, store.Heads));
        }
    }
}
