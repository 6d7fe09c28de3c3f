using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using FtpGateway.Storage.AzureBlob;
using FtpGateway.Storage.ObjectStore;
using FtpGateway.TestSupport;

namespace FtpGateway.Storage.Tests.AzureBlob;

[CollectionDefinition("Azure")]
public sealed class AzureTests : ICollectionFixture<AzureStoreFixture>;

/// <summary>The conformance suite against Azurite, each test under a fresh name prefix.</summary>
[Collection("Azure")]
public sealed class AzureBlobStorageTests(AzureStoreFixture azure) : StorageProviderConformanceTests
{
    private readonly string _prefix = "t-" + Guid.NewGuid().ToString("N")[..12];
    private ObjectStoreProvider? _provider;

    protected override IStorageProvider Provider => _provider ??= AzureBlobStorage.Create(azure.Options(_prefix));

    private BlobClient Blob(string name) => azure.Container.GetBlobClient(_prefix + "/" + name);

    [Fact]
    public void Locate_IsTheBlobsUrl_ThroughTheInterface()
    {
        var location = Provider.Locate(StoragePath.Parse("/devices/a.jpg"));
        Assert.Equal(azure.Container.GetBlobClient($"{_prefix}/devices/a.jpg").Uri.ToString(), location);
    }

    [Fact]
    public async Task BlocksGrowAsTheUploadGrows_UpToWhatTheBlockCountHolds_AndNoFurther()
    {
        // Three blocks that must hold 6 MiB: 1, 2 and 3 MiB.
        var schedule = new PartSchedule(1024 * 1024, 4000L << 20, maxParts: 3, largestObject: 6 * 1024 * 1024);
        var provider = AzureBlobStorage.Create(azure.Options(_prefix), null, null, schedule);
        var content = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + (512 * 1024));
        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/grown.bin"), new TrickleStream(content, 64 * 1024)), Ct);
        var blocks = (await azure.Container.GetBlockBlobClient(_prefix + "/grown.bin").GetBlockListAsync()).Value.CommittedBlocks.Select(b => b.SizeLong).ToList();
        Assert.Equal([1L << 20, 2L << 20, (2L << 20) + (512 * 1024)], blocks);
        using var ms = new MemoryStream();
        await Blob("grown.bin").DownloadToAsync(ms);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(ms.ToArray()));

        var tooLarge = await Assert.ThrowsAsync<StorageException>(() =>
            provider.UploadAsync(new UploadRequest(StoragePath.Parse("/too-large.bin"), new MemoryStream(new byte[(6 * 1024 * 1024) + 1])), Ct).AsTask());
        Assert.Equal(StorageErrorKind.InsufficientStorage, tooLarge.Kind);
        Assert.False(await Blob("too-large.bin").ExistsAsync());
    }

    [Fact]
    public async Task ALargeUpload_IsStagedInBlocks_ByteExact_WithContentMd5()
    {
        var content = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 7);
        await Provider.UploadAsync(new UploadRequest(StoragePath.Parse("/big.bin"), new TrickleStream(content, 64 * 1024)), Ct);
        using var ms = new MemoryStream();
        await Blob("big.bin").DownloadToAsync(ms);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(ms.ToArray()));
        var blocks = (await azure.Container.GetBlockBlobClient(_prefix + "/big.bin").GetBlockListAsync()).Value.CommittedBlocks.ToList();
        Assert.Equal(6, blocks.Count);
        Assert.Equal(MD5.HashData(content), (await Blob("big.bin").GetPropertiesAsync()).Value.ContentHash);
    }

    [Fact]
    public async Task ASmallUpload_IsOnePutBlob_WithoutStagedBlocks()
    {
        // Regression: the SDK sends one Put Blob only for content below its single-upload threshold, and the
        // threshold was set to the content's length: every small file cost StageBlock + CommitBlockList (the
        // benchmark's small files ran at 0.38 of the SDK's own Put Blob).
        var content = RandomNumberGenerator.GetBytes(4096);
        await PutAsync("/small.jpg", content);
        var blocks = (await azure.Container.GetBlockBlobClient(_prefix + "/small.jpg").GetBlockListAsync()).Value;
        Assert.Empty(blocks.CommittedBlocks);
        Assert.Equal(content, await GetAsync("/small.jpg"));
        Assert.Equal(MD5.HashData(content), (await Blob("small.jpg").GetPropertiesAsync()).Value.ContentHash);
    }

    [Fact]
    public async Task Append_ReusesTheCommittedBlocks_WithoutCopyingThem()
    {
        var first = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        var more = RandomNumberGenerator.GetBytes(1000);
        await PutAsync("/log.bin", first);
        var before = (await azure.Container.GetBlockBlobClient(_prefix + "/log.bin").GetBlockListAsync()).Value.CommittedBlocks.Select(b => b.Name).ToList();
        await PutAsync("/log.bin", more, UploadMode.Append);
        var after = (await azure.Container.GetBlockBlobClient(_prefix + "/log.bin").GetBlockListAsync()).Value.CommittedBlocks.Select(b => b.Name).ToList();
        Assert.Equal(before, after.Take(before.Count));
        Assert.Equal(before.Count + 1, after.Count);
        Assert.Equal(first.Concat(more).ToArray(), await GetAsync("/log.bin"));

        // Resume inside the second block: the first is reused, the kept part of the second is re-staged.
        var tail = RandomNumberGenerator.GetBytes(2000);
        await PutAsync("/log.bin", tail, UploadMode.Resume, 1024 * 1024 + 10);
        Assert.Equal(first[..(1024 * 1024 + 10)].Concat(tail).ToArray(), await GetAsync("/log.bin"));
    }

    [Fact]
    public async Task ConcurrentWritersToOneName_NeverMixTheirBlocks()
    {
        var a = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        var b = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        var uploads = new[]
        {
            Provider.UploadAsync(new UploadRequest(StoragePath.Parse("/same.bin"), new TrickleStream(a, 100_000)), Ct).AsTask(),
            Provider.UploadAsync(new UploadRequest(StoragePath.Parse("/same.bin"), new TrickleStream(b, 100_000)), Ct).AsTask(),
        };
        await Task.WhenAll(uploads).ContinueWith(_ => { }, TaskScheduler.Default);

        // A commit discards the blob's other uncommitted blocks, so the later writer may fail (451, retryable);
        // whatever happens, the blob is one upload, whole.
        Assert.Contains(uploads, u => u.IsCompletedSuccessfully);
        foreach (var failed in uploads.Where(u => u.IsFaulted))
        {
            Assert.Equal(StorageErrorKind.Unavailable, Assert.IsType<StorageException>(failed.Exception!.InnerException).Kind);
        }

        var stored = await GetAsync("/same.bin");
        Assert.True(stored.SequenceEqual(a) || stored.SequenceEqual(b), "the blob must be one upload or the other, whole");
    }

    [Fact]
    public async Task Directories_AreHdiIsFolderMarkers_AndPrefixesWithBlobsAreDirectoriesToo()
    {
        await Provider.CreateDirectoryAsync(StoragePath.Parse("/made"), Ct);
        var marker = (await Blob("made").GetPropertiesAsync()).Value;
        Assert.Equal(0, marker.ContentLength);
        Assert.Equal("true", marker.Metadata["hdi_isfolder"]);

        await Blob("implied/deep/file.txt").UploadAsync(BinaryData.FromString("x"));
        await Provider.CreateDirectoryAsync(StoragePath.Parse("/made/sub"), Ct);
        Assert.True((await Provider.GetEntryAsync(StoragePath.Parse("/implied/deep"), Ct))!.IsDirectory);
        var names = new List<string>();
        await foreach (var e in Provider.ListAsync(StoragePath.Root, Ct))
        {
            names.Add(e.Name + (e.IsDirectory ? "/" : string.Empty));
        }

        Assert.Equal(["implied/", "made/"], names.Order(StringComparer.Ordinal)); // "made" once, not twice
        var refused = await Assert.ThrowsAsync<StorageException>(async () => await Provider.DeleteDirectoryAsync(StoragePath.Parse("/made"), Ct));
        Assert.Equal(StorageErrorKind.DirectoryNotEmpty, refused.Kind);
    }

    [Fact]
    public async Task RenamingADirectoryBeyondTheLimit_IsRefusedAndMovesNothing()
    {
        var provider = AzureBlobStorage.Create(azure.Options(_prefix, o => o.MaxRenameObjects = 2));
        await provider.CreateDirectoryAsync(StoragePath.Parse("/many"), Ct);
        for (var i = 0; i < 3; i++)
        {
            await provider.UploadAsync(new UploadRequest(StoragePath.Parse($"/many/f{i}"), new MemoryStream([1])), Ct);
        }

        var refused = await Assert.ThrowsAsync<StorageException>(async () => await provider.RenameAsync(StoragePath.Parse("/many"), StoragePath.Parse("/moved"), Ct));
        Assert.Equal(StorageErrorKind.LimitExceeded, refused.Kind);
        Assert.Null(await provider.GetEntryAsync(StoragePath.Parse("/moved"), Ct));
    }

    [Fact]
    public async Task ARename_WritesTheCopyInTheConfiguredAccessTier()
    {
        // Regression: the copy for a rename dropped AccessTier, so the renamed blob took the account's default.
        await Blob("hot.bin").UploadAsync(new BinaryData("h"u8.ToArray()), new BlobUploadOptions { AccessTier = AccessTier.Hot });
        var provider = AzureBlobStorage.Create(azure.Options(_prefix, o => o.AccessTier = "Cool"));
        await provider.RenameAsync(StoragePath.Parse("/hot.bin"), StoragePath.Parse("/renamed.bin"), Ct);
        Assert.Equal(AccessTier.Cool, (await Blob("renamed.bin").GetPropertiesAsync()).Value.AccessTier);

        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/small.bin"), new MemoryStream([1])), Ct);
        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/large.bin"), new MemoryStream(new byte[3 * 1024 * 1024])), Ct);
        Assert.Equal(AccessTier.Cool, (await Blob("small.bin").GetPropertiesAsync()).Value.AccessTier);
        Assert.Equal(AccessTier.Cool, (await Blob("large.bin").GetPropertiesAsync()).Value.AccessTier);
    }

    [Fact]
    public async Task AnMfmtRightAfterAnUpload_KeepsWhatTheBlobCarries_AndAReplacedBlobIsStampedAsItIsNow()
    {
        // The MFMT after an upload stamps the version the gateway stored without a HEAD (Set Blob Metadata on its
        // ETag); a blob replaced meanwhile fails that condition and is looked at first.
        var path = StoragePath.Parse("/a.jpg");
        var when = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await Provider.UploadAsync(new UploadRequest(path, new MemoryStream([1, 2, 3])) { Metadata = new Dictionary<string, string> { ["ftpgateway_user"] = "cam1" } }, Ct);
        await Provider.SetModificationTimeAsync(path, when, Ct);
        var properties = (await Blob("a.jpg").GetPropertiesAsync()).Value;
        Assert.Equal("cam1", properties.Metadata["ftpgateway_user"]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([1, 2, 3])), properties.Metadata[ObjectMetadata.Sha256]);
        Assert.Equal("application/octet-stream", properties.ContentType);
        Assert.Equal(when, (await Provider.GetEntryAsync(path, Ct))!.LastModified);

        await Provider.UploadAsync(new UploadRequest(path, new MemoryStream([4])), Ct);
        await Blob("a.jpg").UploadAsync(new BinaryData("other"u8.ToArray()), new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["origin"] = "elsewhere" } });
        await Provider.SetModificationTimeAsync(path, when, Ct);
        properties = (await Blob("a.jpg").GetPropertiesAsync()).Value;
        Assert.Equal("elsewhere", properties.Metadata["origin"]);
        Assert.Equal(5, properties.ContentLength);
        Assert.Equal(when, (await Provider.GetEntryAsync(path, Ct))!.LastModified);
    }

    [Fact]
    public async Task AMissingContainer_IsUnavailable()
    {
        var provider = AzureBlobStorage.Create(azure.Options(_prefix, o => o.Container = "no-such-container"));
        Assert.Equal(StorageErrorKind.Unavailable, (await Assert.ThrowsAsync<StorageException>(async () => await provider.ProbeAsync(Ct))).Kind);
        Assert.Equal(StorageErrorKind.Unavailable, (await Assert.ThrowsAsync<StorageException>(async () =>
            await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/x"), new MemoryStream([1])), Ct))).Kind);
    }

    [Fact]
    public void InvalidOptions_AreRefusedWithTheirKeys()
    {
        var errors = new AzureBlobStorageOptions { Container = "", BlockSizeMiB = 0, AccessTier = "Lukewarm" }.Validate();
        Assert.Contains(errors, e => e.Contains("ConnectionString", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:AzureBlob:Container", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:AzureBlob:BlockSizeMiB", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:AzureBlob:AccessTier", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ANameLongerThan1024Characters_IsAName_TheStoreCannotHold_CountedInCharacters()
    {
        var tooLong = StoragePath.Parse("/" + new string('k', 1_100));
        Assert.Equal(StorageErrorKind.InvalidName, (await Assert.ThrowsAsync<StorageException>(() => Provider.CheckUploadTargetAsync(tooLong, Ct).AsTask())).Kind);
        Assert.Equal(StorageErrorKind.InvalidName, (await Assert.ThrowsAsync<StorageException>(() => Provider.CreateDirectoryAsync(tooLong, Ct).AsTask())).Kind);
        Assert.Null(await Provider.GetEntryAsync(tooLong, Ct));
        await PutAsync("/" + new string('\u00e9', 600), [1]); // 600 characters (1,200 bytes): Azure counts characters

        // Exactly 1,024 characters: a directory there can be made and entered (Azure's marker has the path's own name).
        var atTheLimit = StoragePath.Parse("/" + new string('d', 1024 - _prefix.Length - 1));
        await Provider.CreateDirectoryAsync(atTheLimit, Ct);
        Assert.True((await Provider.GetEntryAsync(atTheLimit, Ct))?.IsDirectory);
    }
}
