using System.Security.Cryptography;
using FtpGateway.Storage.ObjectStore;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Storage.Tests.ObjectStore;

/// <summary>
/// The streaming upload of the shared object-store rules, over a store in memory: one request for a small file,
/// parts that grow with the upload, bytes in flight bounded by the budget, nothing visible before the commit, and
/// a failed or refused upload that leaves nothing behind.
/// </summary>
public sealed class ObjectUploadTests
{
    private const long MiB = MemoryStores.MiB;

    private static CancellationToken Ct => CancellationToken.None;

    private static UploadRequest Upload(string path, Stream source, UploadMode mode = UploadMode.Replace, long offset = 0) =>
        new(StoragePath.Parse(path), source) { Mode = mode, Offset = offset };

    [Fact]
    public async Task ASmallFile_IsOnePut_WithoutAMultipartWrite()
    {
        var store = new MemoryObjectStore();
        var provider = MemoryStores.Provider(store);
        await provider.UploadAsync(Upload("/small.bin", new MemoryStream(new byte[1000])), Ct);
        Assert.Equal(1, store.Puts);
        Assert.Empty(store.PartLengths);
        Assert.Equal(1000, store.Content("pre/small.bin")!.Length);
    }

    [Fact]
    public async Task PartsGrowAsTheUploadGrows_AndTheObjectIsByteExact()
    {
        var store = new MemoryObjectStore();
        var provider = MemoryStores.Provider(store);
        var content = RandomNumberGenerator.GetBytes((int)(7 * MiB) + 5);
        await provider.UploadAsync(Upload("/grown.bin", new StorageProviderConformanceTests.TrickleStream(content, 64 * 1024)), Ct);
        Assert.Equal([1 * MiB, 2 * MiB, 3 * MiB, (1 * MiB) + 5], store.PartLengths);
        Assert.Equal(content, store.Content("pre/grown.bin"));
        Assert.Equal(0, store.OpenWrites);
    }

    [Fact]
    public async Task AnUploadLargerThanThePartsHold_IsRefused_AndAborted()
    {
        var store = new MemoryObjectStore();
        var provider = MemoryStores.Provider(store, maxParts: 3); // 1 + 2 + 3 MiB
        var failure = await Assert.ThrowsAsync<StorageException>(() => provider.UploadAsync(Upload("/huge.bin", new MemoryStream(new byte[(6 * MiB) + 1])), Ct).AsTask());
        Assert.Equal(StorageErrorKind.InsufficientStorage, failure.Kind);
        Assert.Null(store.Content("pre/huge.bin"));
        Assert.Equal(1, store.Aborts);
    }

    [Fact]
    public async Task WhenTheStoreIsSlower_ReadingStops_AtTheBudgetOfBytesInFlight()
    {
        // Parts of 1 MiB that do not grow, at most two in flight: the budget is 1 MiB × (2 + 1).
        var store = new MemoryObjectStore();
        var settings = MemoryStores.Settings() with { Parts = new PartSchedule(MiB, MiB, 100, 100 * MiB) };
        var provider = new ObjectStoreProvider(store, settings);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.PartGate = gate.Task;
        var source = new CountingStream(new MemoryStream(new byte[20 * MiB]));
        var upload = provider.UploadAsync(Upload("/held.bin", source), Ct).AsTask();

        // Held parts: two are sent, a third filled, and then the reader waits for the store.
        await Poll.UntilAsync(() => store.PartLengths.Count == 2 && source.BytesRead == 3 * MiB, "two parts in flight and a third filled");
        await Task.Delay(100, Ct); // room for a reader that does not wait to go on: it must not
        Assert.Equal(3 * MiB, source.BytesRead);
        Assert.Equal(2 * MiB, store.MostBytesInFlight);

        gate.SetResult();
        await upload;
        Assert.Equal(20, store.PartLengths.Count);
        Assert.True(store.MostBytesInFlight <= 2 * MiB, $"{store.MostBytesInFlight} bytes in flight");
    }

    [Fact]
    public async Task APartThatFails_CancelsTheOthers_AbortsTheWrite_AndIsTheStoresFailure()
    {
        var store = new MemoryObjectStore { FailingPart = 3 };
        var provider = MemoryStores.Provider(store);
        var failure = await Assert.ThrowsAsync<StorageException>(() => provider.UploadAsync(Upload("/failed.bin", new MemoryStream(new byte[10 * MiB])), Ct).AsTask());
        Assert.Equal(StorageErrorKind.Unavailable, failure.Kind);
        Assert.Null(store.Content("pre/failed.bin"));
        Assert.Equal(1, store.Aborts);
        Assert.Equal(0, store.OpenWrites);
    }

    [Fact]
    public async Task BeforeCommit_RunsAfterTheLastPart_AndARefusalCommitsNothing()
    {
        var store = new MemoryObjectStore();
        var provider = MemoryStores.Provider(store);
        var partsAtCheck = -1;
        var request = Upload("/refused.bin", new MemoryStream(new byte[3 * MiB])) with
        {
            BeforeCommit = _ =>
            {
                partsAtCheck = store.PartLengths.Count;
                throw new StorageException(StorageErrorKind.AccessDenied, "the client left");
            },
        };
        await Assert.ThrowsAsync<StorageException>(() => provider.UploadAsync(request, Ct).AsTask());
        Assert.Equal(2, partsAtCheck); // 1 MiB + 2 MiB: every part was sent before the check
        Assert.Null(store.Content("pre/refused.bin"));
        Assert.Equal(1, store.Aborts);
    }

    [Fact]
    public async Task Append_KeepsTheExistingBytesServerSide_AndFailsWhenTheFileChangedMeanwhile()
    {
        var store = new MemoryObjectStore(smallestKeptPart: 1);
        var provider = MemoryStores.Provider(store);
        await provider.UploadAsync(Upload("/log.txt", new MemoryStream("first,"u8.ToArray())), Ct);
        await provider.UploadAsync(Upload("/log.txt", new MemoryStream("second"u8.ToArray()), UploadMode.Append), Ct);
        Assert.Equal("first,second"u8.ToArray(), store.Content("pre/log.txt"));
        Assert.Equal([6L], store.PartLengths); // only the new bytes travelled

        // Another writer replaces the file between this append's look and its commit.
        var request = Upload("/log.txt", new MemoryStream("third"u8.ToArray()), UploadMode.Append) with
        {
            BeforeCommit = async ct => await MemoryStores.Provider(store).UploadAsync(Upload("/log.txt", new MemoryStream("other"u8.ToArray())), ct),
        };
        var conflict = await Assert.ThrowsAsync<StorageException>(() => provider.UploadAsync(request, Ct).AsTask());
        Assert.Equal(StorageErrorKind.Conflict, conflict.Kind);
        Assert.Equal("other"u8.ToArray(), store.Content("pre/log.txt"));
    }

    [Fact]
    public async Task TheWholeObjectsMd5_IsKept_OnlyWhereTheStoreKeepsIt()
    {
        var content = RandomNumberGenerator.GetBytes((int)(3 * MiB));
        foreach (var azure in new[] { false, true })
        {
            var store = new MemoryObjectStore(azureLayout: azure);
            var provider = MemoryStores.Provider(store);
            await provider.UploadAsync(Upload("/big.bin", new MemoryStream(content)), Ct);
            var head = await store.HeadAsync("pre/big.bin", Ct);
            Assert.Equal(azure ? MD5.HashData(content) : null, head!.Md5);
        }
    }

    [Fact]
    public async Task TheUploadsTime_IsTheProvidersClock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var provider = MemoryStores.Provider(new MemoryObjectStore(), time);
        var entry = await provider.UploadAsync(Upload("/stamped.bin", new MemoryStream([1, 2, 3])), Ct);
        Assert.Equal(time.GetUtcNow(), entry.LastModified);
    }

    /// <summary>Counts the bytes read from it.</summary>
    private sealed class CountingStream(Stream inner) : ReadOnlyStream
    {
        private long _read;

        public long BytesRead => Interlocked.Read(ref _read);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            Interlocked.Add(ref _read, n);
            return n;
        }
    }
}
