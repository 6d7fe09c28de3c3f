using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using FtpGateway.Storage.ObjectStore;
using FtpGateway.Storage.S3;
using FtpGateway.TestSupport;

namespace FtpGateway.Storage.Tests.S3;

[CollectionDefinition("S3")]
public sealed class S3Tests : ICollectionFixture<S3StoreFixture>;

/// <summary>The conformance suite against radosgw, each test under a fresh key prefix.</summary>
[Collection("S3")]
public sealed class S3StorageTests(S3StoreFixture s3) : StorageProviderConformanceTests, IDisposable
{
    private readonly string _prefix = "t-" + Guid.NewGuid().ToString("N")[..12];
    private ObjectStoreProvider? _provider;

    protected override IStorageProvider Provider => _provider ??= S3Storage.Create(s3.Options(_prefix));

    private ObjectStoreProvider With(Action<S3StorageOptions> configure) => S3Storage.Create(s3.Options(_prefix, configure));

    private async Task<List<MultipartUpload>> OpenUploadsAsync() =>
        (await s3.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = S3StoreFixture.Bucket, Prefix = _prefix + "/" })).MultipartUploads ?? [];

    private async Task<bool> ObjectExistsAsync(string key)
    {
        try
        {
            await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, _prefix + "/" + key);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    [Fact]
    public void Locate_NamesTheObject_ThroughTheInterface()
    {
        // Regression: the S3 and Azure Locate were not the interface's, so events carried location null.
        Assert.Equal($"s3://{S3StoreFixture.Bucket}/{_prefix}/devices/a b.jpg", Provider.Locate(StoragePath.Parse("/devices/a b.jpg")));
    }

    [Fact]
    public async Task AKeyLongerThan1024Bytes_IsAName_TheStoreCannotHold_CountedInUtf8Bytes()
    {
        // 600 characters, 1,200 bytes: S3 counts bytes.
        var tooLong = StoragePath.Parse("/" + new string('\u00e9', 600));
        Assert.Equal(StorageErrorKind.InvalidName, (await Assert.ThrowsAsync<StorageException>(() => Provider.CheckUploadTargetAsync(tooLong, Ct).AsTask())).Kind);
        Assert.Equal(StorageErrorKind.InvalidName, (await Assert.ThrowsAsync<StorageException>(() => Provider.CreateDirectoryAsync(tooLong, Ct).AsTask())).Kind);
        Assert.Equal(StorageErrorKind.InvalidName, (await Assert.ThrowsAsync<StorageException>(() => PutAsync(tooLong.Value, [1]))).Kind);
        Assert.Null(await Provider.GetEntryAsync(tooLong, Ct));
        Assert.Equal(StorageErrorKind.NotFound, (await Assert.ThrowsAsync<StorageException>(() => Provider.OpenReadAsync(tooLong, 0, Ct).AsTask())).Kind);
        await PutAsync("/" + new string('\u00e9', 400), [1]); // 800 bytes (and the prefix): fits

        // Exactly 1,024 bytes: stored, and found again.
        var atTheLimit = StoragePath.Parse("/" + new string('k', 1024 - _prefix.Length - 1));
        await PutAsync(atTheLimit.Value, [1, 2, 3]);
        Assert.Equal(3, (await Provider.GetEntryAsync(atTheLimit, Ct))?.Size);
        var directoryAtTheLimit = StoragePath.Parse("/" + new string('m', 1024 - _prefix.Length - 1));
        Assert.Equal(StorageErrorKind.InvalidName, (await Assert.ThrowsAsync<StorageException>(() => Provider.CreateDirectoryAsync(directoryAtTheLimit, Ct).AsTask())).Kind); // its marker "m.../" is one byte more
    }

    [Fact]
    public async Task ALargeUpload_GoesMultipart_AndIsByteExact_InTheBucket()
    {
        var content = RandomNumberGenerator.GetBytes(17 * 1024 * 1024 + 5);
        var entry = await Provider.UploadAsync(new UploadRequest(StoragePath.Parse("/big.bin"), new TrickleStream(content, 64 * 1024)), Ct);
        Assert.Equal(content.Length, entry.Size);

        // Checked with the SDK directly, not through the provider.
        using var get = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, _prefix + "/big.bin");
        using var ms = new MemoryStream();
        await get.ResponseStream.CopyToAsync(ms);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(ms.ToArray()));
        var head = await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, _prefix + "/big.bin");
        Assert.EndsWith("-4\"", head.ETag, StringComparison.Ordinal); // 5+5+5+2 MiB parts
        Assert.Empty(await OpenUploadsAsync());
        Assert.Equal(SHA256.HashData(content), await Provider.GetHashAsync(StoragePath.Parse("/big.bin"), Hashing.Sha256, Ct));
    }

    [Fact]
    public async Task PartsGrowAsTheUploadGrows_UpToWhatThePartCountHolds_AndNoFurther()
    {
        // A schedule of three parts that must hold 30 MiB: 5, 10 and 15 MiB (S3's rules: 5 MiB and more but the last).
        var schedule = new PartSchedule(5 * 1024 * 1024, 5L << 30, maxParts: 3, largestObject: 30 * 1024 * 1024);
        var recorded = new RecordingHttpClientFactory();
        using var provider = S3Storage.Create(s3.Options(_prefix), config => config.HttpClientFactory = recorded, parts: schedule);
        var content = RandomNumberGenerator.GetBytes(29 * 1024 * 1024);
        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/grown.bin"), new TrickleStream(content, 256 * 1024)), Ct);
        var parts = recorded.Requests.Where(r => r.Kind == "UploadPart").Select(r => long.Parse(r.Header("x-amz-decoded-content-length") ?? r.Header("Content-Length")!, System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal([5L << 20, 10L << 20, 14L << 20], parts);
        using (var get = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, _prefix + "/grown.bin"))
        using (var ms = new MemoryStream())
        {
            await get.ResponseStream.CopyToAsync(ms);
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(ms.ToArray()));
        }

        // One byte more than the schedule holds: refused as "the store is full" (552), nothing stored, no upload left open.
        var tooLarge = await Assert.ThrowsAsync<StorageException>(() =>
            provider.UploadAsync(new UploadRequest(StoragePath.Parse("/too-large.bin"), new MemoryStream(new byte[(30 * 1024 * 1024) + 1])), Ct).AsTask());
        Assert.Equal(StorageErrorKind.InsufficientStorage, tooLarge.Kind);
        Assert.False(await ObjectExistsAsync("too-large.bin"));
        Assert.Empty(await OpenUploadsAsync());
    }

    [Fact]
    public async Task OverPlainHttp_EveryPartIsCheckedByItsSignedPayload_NotASecondHash()
    {
        // With ChecksumMode=WhenRequired parts carried Content-MD5: a second hash over every byte, although over
        // plain HTTP the SDK signs each payload (its SHA-256 is in the signature the store verifies).
        var (provider, requests) = Recorded();
        using (provider)
        {
            await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/parts.bin"), new MemoryStream(RandomNumberGenerator.GetBytes(12 * 1024 * 1024))), Ct);
            var parts = requests.Requests.Where(r => r.Kind == "UploadPart").ToList();
            Assert.Equal(3, parts.Count);
            Assert.All(parts, p =>
            {
                Assert.Null(p.Header("Content-MD5"));
                var payload = p.Header("x-amz-content-sha256");
                Assert.True(payload is { Length: 64 } || payload?.StartsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", StringComparison.Ordinal) == true, payload);
            });
        }
    }

    [Fact]
    public async Task AFailedMultipartUpload_LeavesNoObjectAndNoOpenUpload()
    {
        await PutAsync("/victim.bin", [1, 2, 3]);
        var source = new FailingStream(RandomNumberGenerator.GetBytes(14 * 1024 * 1024), failAfter: 12 * 1024 * 1024);
        await Assert.ThrowsAnyAsync<Exception>(async () => await Provider.UploadAsync(new UploadRequest(StoragePath.Parse("/victim.bin"), source), Ct));
        Assert.Equal([1, 2, 3], await GetAsync("/victim.bin"));
        Assert.Empty(await OpenUploadsAsync());
    }

    [Fact]
    public async Task AMultipartUploadRefusedBeforeCommit_LeavesNoObjectAndNoOpenUpload()
    {
        var request = new UploadRequest(StoragePath.Parse("/late.bin"), new MemoryStream(new byte[11 * 1024 * 1024]))
        {
            BeforeCommit = _ => throw new IOException("client gone"),
        };
        await Assert.ThrowsAsync<IOException>(async () => await Provider.UploadAsync(request, Ct));
        Assert.False(await ObjectExistsAsync("late.bin"));
        Assert.Empty(await OpenUploadsAsync());
    }

    [Fact]
    public async Task AppendAndResume_OnLargeObjects_CopyServerSide()
    {
        var existing = RandomNumberGenerator.GetBytes(6 * 1024 * 1024 + 3);
        var more = RandomNumberGenerator.GetBytes(1000);
        await PutAsync("/log.bin", existing);
        await PutAsync("/log.bin", more, UploadMode.Append);
        Assert.Equal(existing.Concat(more).ToArray(), await GetAsync("/log.bin"));

        var tail = RandomNumberGenerator.GetBytes(7 * 1024 * 1024);
        await PutAsync("/log.bin", tail, UploadMode.Resume, 5 * 1024 * 1024 + 17);
        Assert.Equal(existing[..(5 * 1024 * 1024 + 17)].Concat(tail).ToArray(), await GetAsync("/log.bin"));
        Assert.Empty(await OpenUploadsAsync());
    }

    [Fact]
    public async Task Directories_AreMarkerObjects_AndPrefixesWithObjectsAreDirectoriesToo()
    {
        await Provider.CreateDirectoryAsync(StoragePath.Parse("/made"), Ct);
        var marker = await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, _prefix + "/made/");
        Assert.Equal(S3ObjectStore.DirectoryContentType, marker.Headers.ContentType);

        // Written by another tool: no markers at all.
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = _prefix + "/implied/deep/file.txt", ContentBody = "x" });
        Assert.True((await Provider.GetEntryAsync(StoragePath.Parse("/implied"), Ct))!.IsDirectory);
        Assert.True((await Provider.GetEntryAsync(StoragePath.Parse("/implied/deep"), Ct))!.IsDirectory);
        var names = new List<string>();
        await foreach (var e in Provider.ListAsync(StoragePath.Root, Ct))
        {
            names.Add(e.Name + (e.IsDirectory ? "/" : string.Empty));
        }

        Assert.Equal(["implied/", "made/"], names.Order(StringComparer.Ordinal));
        var refused = await Assert.ThrowsAsync<StorageException>(async () => await Provider.DeleteDirectoryAsync(StoragePath.Parse("/implied"), Ct));
        Assert.Equal(StorageErrorKind.DirectoryNotEmpty, refused.Kind);
    }

    [Fact]
    public async Task RenamingADirectoryBeyondTheLimit_IsRefusedAndMovesNothing()
    {
        var provider = With(o => o.MaxRenameObjects = 3);
        await provider.CreateDirectoryAsync(StoragePath.Parse("/many"), Ct);
        for (var i = 0; i < 4; i++)
        {
            await provider.UploadAsync(new UploadRequest(StoragePath.Parse($"/many/f{i}"), new MemoryStream([1])), Ct);
        }

        var refused = await Assert.ThrowsAsync<StorageException>(async () => await provider.RenameAsync(StoragePath.Parse("/many"), StoragePath.Parse("/moved"), Ct));
        Assert.Equal(StorageErrorKind.LimitExceeded, refused.Kind);
        Assert.Null(await provider.GetEntryAsync(StoragePath.Parse("/moved"), Ct));
        Assert.NotNull(await provider.GetEntryAsync(StoragePath.Parse("/many/f3"), Ct));
    }

    [Fact]
    public async Task Md5_ComesFromTheETag_ForSinglePartObjects()
    {
        var content = RandomNumberGenerator.GetBytes(1000);
        await PutAsync("/small", content);
        Assert.Equal(MD5.HashData(content), await Provider.GetHashAsync(StoragePath.Parse("/small"), Hashing.Md5, Ct));
    }

    [Fact]
    public async Task AMissingBucket_IsUnavailable_NotAnything()
    {
        using var provider = S3Storage.Create(s3.Options(_prefix, o => o.Bucket = "no-such-bucket-" + _prefix));
        var failure = await Assert.ThrowsAsync<StorageException>(async () => await provider.ProbeAsync(Ct));
        Assert.Equal(StorageErrorKind.Unavailable, failure.Kind);
        failure = await Assert.ThrowsAsync<StorageException>(async () =>
            await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/x"), new MemoryStream([1])), Ct));
        Assert.Equal(StorageErrorKind.Unavailable, failure.Kind);
    }

    [Fact]
    public async Task CopiesForRenameAndMfmt_AreWrittenInTheConfiguredStorageClass()
    {
        // Regression: the copy path set only the encryption method, so a rename or an MFMT rewrote the object in
        // the bucket's default class. radosgw copies the source's class when none is sent, so the source is
        // written by another tool in STANDARD and the gateway is configured with another class.
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = _prefix + "/a.bin", ContentBody = "a" });
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = _prefix + "/t.bin", ContentBody = "t" });
        using var provider = With(o => o.StorageClass = RadosGateway.ExtraStorageClass);
        await provider.RenameAsync(StoragePath.Parse("/a.bin"), StoragePath.Parse("/b.bin"), Ct);
        await provider.SetModificationTimeAsync(StoragePath.Parse("/t.bin"), DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), Ct);
        foreach (var key in new[] { "b.bin", "t.bin" })
        {
            var head = await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, _prefix + "/" + key);
            Assert.Equal(RadosGateway.ExtraStorageClass, head.StorageClass?.Value);
        }
    }

    [Fact]
    public async Task EveryWrite_SendsTheConfiguredEncryptionAndKmsKey()
    {
        // Regression: the copy for a rename or an MFMT dropped the KMS key. radosgw ignores encryption on copies,
        // so the requests the SDK sends are checked; uploads and markers are checked alike.
        var recorded = new RecordingHttpClientFactory();
        using var provider = S3Storage.Create(
            s3.Options(_prefix, o => (o.ServerSideEncryption, o.KmsKeyId) = ("aws:kms", RadosGateway.KmsKeyId)),
            config => config.HttpClientFactory = recorded);
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = _prefix + "/plain.bin", ContentBody = "p" });
        await provider.RenameAsync(StoragePath.Parse("/plain.bin"), StoragePath.Parse("/renamed.bin"), Ct);
        await provider.SetModificationTimeAsync(StoragePath.Parse("/renamed.bin"), DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), Ct);
        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/small.bin"), new MemoryStream([1, 2, 3])), Ct);
        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/large.bin"), new MemoryStream(new byte[6 * 1024 * 1024])), Ct);
        await provider.CreateDirectoryAsync(StoragePath.Parse("/dir"), Ct);

        var writes = recorded.Requests.Where(r => r.CreatesObject).ToList();
        Assert.Equal(2, writes.Count(r => r.Kind == "CopyObject")); // the rename, and the large upload's copy onto itself with its SHA-256
        Assert.Equal(2, writes.Count(r => r.Kind == "PutObject"));
        Assert.Equal(2, writes.Count(r => r.Kind == "CreateMultipartUpload")); // the large upload, and MFMT's copy
        Assert.All(writes, r =>
        {
            Assert.Equal("aws:kms", r.Header("x-amz-server-side-encryption"));
            Assert.Equal(RadosGateway.KmsKeyId, r.Header("x-amz-server-side-encryption-aws-kms-key-id"));
        });
        Assert.Equal("p", await ReadAllTextAsync(provider, "/renamed.bin"));
    }

    [Fact]
    public async Task APartThatFails_IsReportedAsTheStoresFailure_NotAsACancellation()
    {
        // One part in flight at a time: the reader is waiting for a slot when the part fails.
        var recorded = new RecordingHttpClientFactory(fail: r => r.Kind == "UploadPart" && r.Query.Contains("partNumber=1&", StringComparison.Ordinal));
        using var provider = S3Storage.Create(s3.Options(_prefix, o => o.MaxConcurrentParts = 1), config => (config.HttpClientFactory, config.MaxErrorRetry) = (recorded, 0));
        var source = new MemoryStream(new byte[16 * 1024 * 1024]);
        var failure = await Assert.ThrowsAsync<StorageException>(async () => await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/parts.bin"), source), Ct));
        Assert.Equal(StorageErrorKind.Unavailable, failure.Kind);
        Assert.False(await ObjectExistsAsync("parts.bin"));
        Assert.Empty(await OpenUploadsAsync());
    }

    [Fact]
    public async Task AnAppendThatAwsAnswersWithAConditionalConflict_IsAConflict()
    {
        // AWS answers a conditional write that races another write with 409 ConditionalRequestConflict (radosgw
        // does not): the append must be reported as changed meanwhile, like a failed If-Match.
        await Provider.UploadAsync(new UploadRequest(StoragePath.Parse("/log.txt"), new MemoryStream("first\n"u8.ToArray())), Ct);
        var recorded = new RecordingHttpClientFactory(answer: r => r.Kind == "PutObject"
            ? new HttpResponseMessage(System.Net.HttpStatusCode.Conflict)
            {
                Content = new StringContent(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred.</Message><RequestId>r1</RequestId></Error>",
                    System.Text.Encoding.UTF8,
                    "application/xml"),
            }
            : null);
        using var provider = S3Storage.Create(s3.Options(_prefix), config => (config.HttpClientFactory, config.MaxErrorRetry) = (recorded, 0));
        var conflict = await Assert.ThrowsAsync<StorageException>(async () =>
            await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/log.txt"), new MemoryStream("more\n"u8.ToArray())) { Mode = UploadMode.Append }, Ct));
        Assert.Equal(StorageErrorKind.Conflict, conflict.Kind);
        Assert.Equal("first\n", await ReadAllTextAsync(_provider!, "/log.txt"));
    }

    private (ObjectStoreProvider Provider, RecordingHttpClientFactory Requests) Recorded(TimeProvider? time = null, Action<S3StorageOptions>? configure = null)
    {
        var recorded = new RecordingHttpClientFactory();
        return (S3Storage.Create(s3.Options(_prefix, configure), config => config.HttpClientFactory = recorded, time: time), recorded);
    }

    private async Task PutDirectlyAsync(string key, string content = "x") =>
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = $"{_prefix}/{key}", ContentBody = content });

    [Fact]
    public async Task AnMfmtAfterAnUpload_LooksFirst_SoAnObjectReplacedMeanwhileIsStampedWithItsOwnMetadata()
    {
        // On Azure the MFMT that lftp, WinSCP and FileZilla send right after an upload stamps the version the gateway
        // stored without a HEAD, guarded by its ETag. Here that guard would be the copy-source condition of
        // UploadPartCopy, and radosgw ignores it: a copy of the version stored, made after another tool replaced
        // the object, succeeded and gave the new content the old upload's metadata. So the MFMT looks first.
        var (provider, requests) = Recorded();
        using (provider)
        {
            var path = StoragePath.Parse("/a.jpg");
            var key = _prefix + "/a.jpg";
            var when = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
            await provider.UploadAsync(new UploadRequest(path, new MemoryStream([1, 2, 3])) { Metadata = new Dictionary<string, string> { ["ftpgateway_user"] = "cam1" } }, Ct);
            await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = key, ContentBody = "other", Metadata = { ["origin"] = "elsewhere" } });
            var before = requests.Requests.Count;
            await provider.SetModificationTimeAsync(path, when, Ct);
            Assert.Equal(["HeadObject", "CreateMultipartUpload", "UploadPartCopy", "CompleteMultipartUpload"], requests.Requests.Skip(before).Select(r => r.Kind));
            var head = await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, key);
            Assert.Equal("elsewhere", head.Metadata["origin"]);
            Assert.Null(head.Metadata["ftpgateway-user"]);
            Assert.Equal(5, head.ContentLength);
            Assert.Equal(when, (await provider.GetEntryAsync(path, Ct))!.LastModified);
            Assert.Empty(await OpenUploadsAsync());
        }
    }

    [Theory]
    [InlineData("other", false)]
    [InlineData("abc and more", false)] // the old bytes and more: a copy of the old length would match
    [InlineData("other", true)] // a file stamped before (its ETag ends in -1)
    public async Task AnObjectReplacedBetweenTheMfmtsLookAndItsCopy_IsLookedAtAgain_NotGivenTheOldMetadata(string replacement, bool stampedBefore)
    {
        // radosgw copies the part even though the object no longer has the ETag the copy is conditional on; the
        // part's ETag (the MD5 of all that was copied) shows it, and the stamp starts again from a new look.
        var path = StoragePath.Parse("/a.jpg");
        var key = _prefix + "/a.jpg";
        var replacing = false;
        var recorded = new RecordingHttpClientFactory(answer: r =>
        {
            if (r.Kind == "CreateMultipartUpload" && replacing)
            {
                replacing = false; // between the MFMT's HEAD and its copy, another tool writes the object
                s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = S3StoreFixture.Bucket, Key = key, ContentBody = replacement, Metadata = { ["origin"] = "elsewhere" } })
                    .GetAwaiter().GetResult();
            }

            return null;
        });
        using var provider = S3Storage.Create(s3.Options(_prefix), config => config.HttpClientFactory = recorded);
        await provider.UploadAsync(new UploadRequest(path, new MemoryStream("abc"u8.ToArray())) { Metadata = new Dictionary<string, string> { ["ftpgateway_user"] = "cam1" } }, Ct);
        var when = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
        if (stampedBefore)
        {
            await provider.SetModificationTimeAsync(path, when.AddDays(-1), Ct);
        }

        replacing = true;
        var heads = recorded.Requests.Count(r => r.Kind == "HeadObject");
        await provider.SetModificationTimeAsync(path, when, Ct);

        Assert.False(replacing);
        Assert.Equal(heads + 3, recorded.Requests.Count(r => r.Kind == "HeadObject")); // the look, the check's look, the look again
        var head = await s3.Client.GetObjectMetadataAsync(S3StoreFixture.Bucket, key);
        Assert.Equal("elsewhere", head.Metadata["origin"]);
        Assert.Null(head.Metadata["ftpgateway-user"]);
        Assert.Null(head.Metadata["ftpgateway-sha256"]); // not the SHA-256 of the bytes the gateway stored
        Assert.Equal(replacement.Length, head.ContentLength);
        Assert.Equal(when, (await provider.GetEntryAsync(path, Ct))!.LastModified);
        Assert.Empty(await OpenUploadsAsync());
    }

    [Fact]
    public async Task AListing_LooksOnlyAtObjectsThatMayCarryAnMfmtTime_AndAtEachVersionOnce()
    {
        // A HEAD per listed file made a 10,000-entry LIST take 10,000 requests. Only objects MFMT stamped (written
        // as multipart copies, so their ETag shows it) need one, and each version only once.
        for (var i = 0; i < 30; i++)
        {
            await PutDirectlyAsync($"cam/f{i:D2}.jpg");
        }

        var (provider, requests) = Recorded();
        using (provider)
        {
            var when = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
            await provider.SetModificationTimeAsync(StoragePath.Parse("/cam/f07.jpg"), when, Ct);
            var before = requests.Requests.Count;
            for (var round = 0; round < 3; round++)
            {
                var listed = await ListAsync(provider, "/cam");
                Assert.Equal(30, listed.Count);
                Assert.Equal(when, listed.Single(e => e.Name == "f07.jpg").LastModified);
            }

            var listing = requests.Requests.Skip(before).ToList();
            Assert.Equal(3, listing.Count(r => r.Kind == "ListObjectsV2"));
            Assert.Single(listing, r => r.Kind == "HeadObject");
        }
    }

    [Fact]
    public async Task UploadsIntoADirectoryTheGatewayCreated_AreOneRequestEach()
    {
        var (provider, requests) = Recorded();
        using (provider)
        {
            await provider.CreateDirectoryAsync(StoragePath.Parse("/cam"), Ct);
            var before = requests.Requests.Count;
            for (var i = 0; i < 20; i++)
            {
                await provider.UploadAsync(new UploadRequest(StoragePath.Parse($"/cam/f{i:D2}.jpg"), new MemoryStream([1, 2, 3])), Ct);
            }

            Assert.All(requests.Requests.Skip(before), r => Assert.Equal("PutObject", r.Kind));
            Assert.Equal(20, requests.Requests.Count - before);
        }
    }

    [Fact]
    public async Task UploadsIntoAnExistingDirectory_LookOnce_ThenTheNamesThatFollowAreKnown()
    {
        // A directory another tool filled: the first upload looks at the directory from its name on (and at
        // whether the directory exists); the camera's next names come after it and need no further look.
        for (var i = 0; i < 5; i++)
        {
            await PutDirectlyAsync($"in/f{i:D3}.jpg");
        }

        var (provider, requests) = Recorded();
        using (provider)
        {
            for (var i = 5; i < 25; i++)
            {
                await provider.UploadAsync(new UploadRequest(StoragePath.Parse($"/in/f{i:D3}.jpg"), new MemoryStream([1])), Ct);
            }

            Assert.Equal(20, requests.Requests.Count(r => r.Kind == "PutObject"));
            Assert.InRange(requests.Requests.Count(r => r.Kind == "ListObjectsV2"), 1, 2);
        }
    }

    [Fact]
    public async Task WhatTheGatewayKnowsOfDirectories_FollowsItsOwnChangesAtOnce_AndOutsideChangesOnceExpired()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var (provider, _) = Recorded(clock);
        using (provider)
        {
            await provider.CreateDirectoryAsync(StoragePath.Parse("/cam"), Ct);
            await provider.CreateDirectoryAsync(StoragePath.Parse("/cam/sub"), Ct);
            var onto = await Assert.ThrowsAsync<StorageException>(async () =>
                await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/cam/sub"), new MemoryStream([1])), Ct));
            Assert.Equal(StorageErrorKind.IsADirectory, onto.Kind);
            await provider.DeleteDirectoryAsync(StoragePath.Parse("/cam/sub"), Ct);
            await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/cam/sub"), new MemoryStream([1])), Ct);

            // Another tool makes /cam/other a directory: seen once what the gateway knew of /cam expired.
            await PutDirectlyAsync("cam/other/inner.jpg");
            clock.Advance(new S3StorageOptions().DirectoryCacheDuration + TimeSpan.FromSeconds(1));
            var outside = await Assert.ThrowsAsync<StorageException>(async () =>
                await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/cam/other"), new MemoryStream([1])), Ct));
            Assert.Equal(StorageErrorKind.IsADirectory, outside.Kind);

            // And one removed elsewhere no longer takes uploads.
            await s3.Client.DeleteObjectAsync(S3StoreFixture.Bucket, $"{_prefix}/cam/other/inner.jpg");
            await s3.Client.DeleteObjectAsync(S3StoreFixture.Bucket, $"{_prefix}/cam/sub");
            await s3.Client.DeleteObjectAsync(S3StoreFixture.Bucket, $"{_prefix}/cam/");
            clock.Advance(new S3StorageOptions().DirectoryCacheDuration + TimeSpan.FromSeconds(1));
            var gone = await Assert.ThrowsAsync<StorageException>(async () =>
                await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/cam/late.jpg"), new MemoryStream([1])), Ct));
            Assert.Equal(StorageErrorKind.NotFound, gone.Kind);
        }
    }

    [Fact]
    public async Task WithoutTheDirectoryCache_EveryUploadChecks()
    {
        var (provider, requests) = Recorded(configure: o => o.DirectoryCacheDuration = TimeSpan.Zero);
        using (provider)
        {
            await provider.CreateDirectoryAsync(StoragePath.Parse("/cam"), Ct);
            var before = requests.Requests.Count;
            for (var i = 0; i < 5; i++)
            {
                await provider.UploadAsync(new UploadRequest(StoragePath.Parse($"/cam/f{i}.jpg"), new MemoryStream([1])), Ct);
            }

            Assert.True(requests.Requests.Skip(before).Count(r => r.Kind == "ListObjectsV2") >= 5);
        }
    }

    private static async Task<List<StorageEntry>> ListAsync(ObjectStoreProvider provider, string path)
    {
        var entries = new List<StorageEntry>();
        await foreach (var e in provider.ListAsync(StoragePath.Parse(path), Ct))
        {
            entries.Add(e);
        }

        return entries;
    }

    private static async Task<string> ReadAllTextAsync(ObjectStoreProvider provider, string path)
    {
        await using var stream = await provider.OpenReadAsync(StoragePath.Parse(path), 0, Ct);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    [Fact]
    public void InvalidOptions_AreRefusedWithTheirKeys()
    {
        var errors = new S3StorageOptions { Bucket = "", PartSizeMiB = 4, ChecksumMode = (S3ChecksumMode)42, AccessKey = "only-half" }.Validate();
        Assert.Contains(errors, e => e.Contains("Storage:S3:Bucket", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:S3:PartSizeMiB", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:S3:ChecksumMode", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Storage:S3:AccessKey", StringComparison.Ordinal));
    }

    public void Dispose() => _provider?.Dispose();
}
