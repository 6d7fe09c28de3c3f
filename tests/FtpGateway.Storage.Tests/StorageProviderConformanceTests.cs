using System.Security.Cryptography;
using System.Text;

namespace FtpGateway.Storage.Tests;

/// <summary>
/// The behaviour every storage provider must have. Each provider's test class derives from this and hands
/// over a provider scoped to an empty namespace (a temporary directory, a fresh key prefix or container).
/// </summary>
public abstract partial class StorageProviderConformanceTests
{
    protected abstract IStorageProvider Provider { get; }

    protected static CancellationToken Ct => CancellationToken.None;

    private static StoragePath P(string path) => StoragePath.Parse(path);

    protected async Task<StorageEntry> PutAsync(string path, byte[] content, UploadMode mode = UploadMode.Replace, long offset = 0) =>
        await Provider.UploadAsync(new UploadRequest(P(path), new MemoryStream(content)) { Mode = mode, Offset = offset }, Ct);

    protected async Task<byte[]> GetAsync(string path, long offset = 0)
    {
        await using var stream = await Provider.OpenReadAsync(P(path), offset, Ct);
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms, Ct);
        return ms.ToArray();
    }

    private async Task<List<StorageEntry>> ListAsync(string path)
    {
        var result = new List<StorageEntry>();
        await foreach (var e in Provider.ListAsync(P(path), Ct))
        {
            result.Add(e);
        }

        return result;
    }

    private static async Task<StorageErrorKind> FailsWith(Func<Task> action) =>
        (await Assert.ThrowsAsync<StorageException>(action)).Kind;

    [Fact]
    public async Task Root_AlwaysExistsAsADirectory()
    {
        var root = await Provider.GetEntryAsync(StoragePath.Root, Ct);
        Assert.NotNull(root);
        Assert.True(root.IsDirectory);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_537)]
    [InlineData(3 * 1024 * 1024 + 11)]
    public async Task Upload_ThenRead_ReturnsTheSameBytes(int size)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        var entry = await PutAsync("/file.bin", content);
        Assert.Equal(size, entry.Size);
        Assert.False(entry.IsDirectory);
        Assert.Equal(content, await GetAsync("/file.bin"));
        var stat = await Provider.GetEntryAsync(P("/file.bin"), Ct);
        Assert.NotNull(stat);
        Assert.Equal(size, stat.Size);
        Assert.NotNull(stat.LastModified);
        Assert.InRange(stat.LastModified!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task Upload_FromANonSeekableStreamInSmallReads_IsComplete()
    {
        var content = RandomNumberGenerator.GetBytes(1_000_003);
        var entry = await Provider.UploadAsync(new UploadRequest(P("/trickle.bin"), new TrickleStream(content, 1000)), Ct);
        Assert.Equal(content.Length, entry.Size);
        Assert.Equal(content, await GetAsync("/trickle.bin"));
    }

    [Fact]
    public async Task OpenRead_AtAnOffset_ReturnsTheTail()
    {
        var content = RandomNumberGenerator.GetBytes(10_000);
        await PutAsync("/f", content);
        Assert.Equal(content[1234..], await GetAsync("/f", 1234));
        Assert.Empty(await GetAsync("/f", 10_000));
    }

    [Fact]
    public async Task OpenRead_BeyondTheEnd_FailsWithInvalidRange()
    {
        await PutAsync("/f", new byte[10]);
        Assert.Equal(StorageErrorKind.InvalidRange, await FailsWith(() => GetAsync("/f", 11)));
    }

    [Fact]
    public async Task OpenRead_OfAMissingFile_FailsWithNotFound() =>
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => GetAsync("/missing")));

    [Fact]
    public async Task GetEntry_OfAMissingPath_IsNull() =>
        Assert.Null(await Provider.GetEntryAsync(P("/nothing/here"), Ct));

    [Fact]
    public async Task Upload_Replace_OverwritesTheOldContent()
    {
        await PutAsync("/f", Encoding.UTF8.GetBytes("old content that is longer"));
        await PutAsync("/f", Encoding.UTF8.GetBytes("new"));
        Assert.Equal("new", Encoding.UTF8.GetString(await GetAsync("/f")));
    }

    [Fact]
    public async Task Upload_WhenTheSourceFails_KeepsThePreviousFileAndLeavesNoTrace()
    {
        await PutAsync("/dir-less.txt", Encoding.UTF8.GetBytes("previous"));
        var source = new FailingStream(RandomNumberGenerator.GetBytes(800_000), failAfter: 600_000); // past a disk upload's first buffers
        await Assert.ThrowsAnyAsync<Exception>(async () => await Provider.UploadAsync(new UploadRequest(P("/dir-less.txt"), source), Ct));
        Assert.Equal("previous", Encoding.UTF8.GetString(await GetAsync("/dir-less.txt")));
        Assert.Equal(["dir-less.txt"], (await ListAsync("/")).Select(e => e.Name));
    }

    [Fact]
    public async Task Upload_WhenBeforeCommitThrows_CommitsNothing()
    {
        var request = new UploadRequest(P("/never.txt"), new MemoryStream(new byte[5000]))
        {
            BeforeCommit = _ => throw new InvalidOperationException("client went away"),
        };
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Provider.UploadAsync(request, Ct));
        Assert.Null(await Provider.GetEntryAsync(P("/never.txt"), Ct));
        Assert.Empty(await ListAsync("/"));
    }

    [Fact]
    public async Task Upload_WhenCancelled_CommitsNothing()
    {
        using var cts = new CancellationTokenSource();
        var source = new FailingStream(new byte[100_000], failAfter: 50_000, onFail: cts.Cancel);
        await Assert.ThrowsAnyAsync<Exception>(async () => await Provider.UploadAsync(new UploadRequest(P("/cancelled"), source), cts.Token));
        Assert.Null(await Provider.GetEntryAsync(P("/cancelled"), Ct));
    }

    [Fact]
    public async Task Upload_CreateNew_RefusesAnExistingFile()
    {
        await PutAsync("/f", [1]);
        Assert.Equal(StorageErrorKind.AlreadyExists, await FailsWith(() => PutAsync("/f", [2], UploadMode.CreateNew)));
        Assert.Equal([1], await GetAsync("/f"));
    }

    [Fact]
    public async Task Upload_Append_AddsToTheEndOrCreates()
    {
        if ((Provider.Capabilities & StorageCapabilities.Append) == 0)
        {
            Assert.Equal(StorageErrorKind.NotSupported, await FailsWith(() => PutAsync("/log", [1], UploadMode.Append)));
            return;
        }

        await PutAsync("/log", Encoding.UTF8.GetBytes("one,"), UploadMode.Append);
        await PutAsync("/log", Encoding.UTF8.GetBytes("two"), UploadMode.Append);
        Assert.Equal("one,two", Encoding.UTF8.GetString(await GetAsync("/log")));
    }

    [Fact]
    public async Task Upload_Resume_KeepsThePrefixAndReplacesTheRest()
    {
        if ((Provider.Capabilities & StorageCapabilities.ResumeUpload) == 0)
        {
            Assert.Equal(StorageErrorKind.NotSupported, await FailsWith(() => PutAsync("/r", [1], UploadMode.Resume, 1)));
            return;
        }

        await PutAsync("/r", Encoding.UTF8.GetBytes("0123456789"));
        await PutAsync("/r", Encoding.UTF8.GetBytes("abc"), UploadMode.Resume, 4);
        Assert.Equal("0123abc", Encoding.UTF8.GetString(await GetAsync("/r")));
        Assert.Equal(StorageErrorKind.InvalidRange, await FailsWith(() => PutAsync("/r", [1], UploadMode.Resume, 100)));
    }

    [Fact]
    public async Task Upload_IntoAMissingDirectory_FailsWithNotFound() =>
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => PutAsync("/no/such/dir/f", [1])));

    [Fact]
    public async Task Upload_OntoADirectory_FailsWithIsADirectory()
    {
        await Provider.CreateDirectoryAsync(P("/d"), Ct);
        Assert.Equal(StorageErrorKind.IsADirectory, await FailsWith(() => PutAsync("/d", [1])));
    }

    [Fact]
    public async Task CheckUploadTarget_RefusesWhatTheUploadWould_BeforeAnyData()
    {
        await Provider.CreateDirectoryAsync(P("/d"), Ct);
        await Provider.CheckUploadTargetAsync(P("/d/new.bin"), Ct);
        await Provider.CheckUploadTargetAsync(P("/top.bin"), Ct);
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => Provider.CheckUploadTargetAsync(P("/no/such/f"), Ct).AsTask()));
        Assert.Equal(StorageErrorKind.IsADirectory, await FailsWith(() => Provider.CheckUploadTargetAsync(P("/d"), Ct).AsTask()));
        Assert.Null(await Provider.GetEntryAsync(P("/d/new.bin"), Ct)); // a check writes nothing
    }

    [Fact]
    public async Task List_ShowsDirectChildrenOnly_WithTypesAndSizes()
    {
        await Provider.CreateDirectoryAsync(P("/a"), Ct);
        await Provider.CreateDirectoryAsync(P("/a/sub"), Ct);
        await PutAsync("/a/one.txt", new byte[3]);
        await PutAsync("/a/sub/deep.txt", new byte[7]);
        await PutAsync("/top.txt", new byte[1]);
        var entries = (await ListAsync("/a")).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["one.txt", "sub"], entries.Select(e => e.Name));
        Assert.False(entries[0].IsDirectory);
        Assert.Equal(3, entries[0].Size);
        Assert.True(entries[1].IsDirectory);
        Assert.Equal("/a/sub", entries[1].Path.Value);
    }

    [Fact]
    public async Task List_OfAMissingDirectory_FailsWithNotFound() =>
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => ListAsync("/missing")));

    [Fact]
    public async Task List_OfAFile_FailsWithNotADirectory()
    {
        await PutAsync("/f", [1]);
        Assert.Equal(StorageErrorKind.NotADirectory, await FailsWith(() => ListAsync("/f")));
    }

    [Fact]
    public async Task List_OfALargeDirectory_ReturnsEveryEntryOnce()
    {
        await Provider.CreateDirectoryAsync(P("/many"), Ct);
        const int count = 2_345; // more than one page of every object store's listing
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, ct) =>
            await Provider.UploadAsync(new UploadRequest(P($"/many/f{i:D5}"), new MemoryStream([(byte)i])), ct));
        var names = (await ListAsync("/many")).Select(e => e.Name).ToList();
        Assert.Equal(count, names.Count);
        Assert.Equal(count, names.Distinct().Count());
    }

    [Fact]
    public async Task CreateDirectory_AnEmptyDirectoryPersistsAndIsListed()
    {
        await Provider.CreateDirectoryAsync(P("/empty"), Ct);
        var entry = await Provider.GetEntryAsync(P("/empty"), Ct);
        Assert.NotNull(entry);
        Assert.True(entry.IsDirectory);
        Assert.Empty(await ListAsync("/empty"));
        Assert.Contains(await ListAsync("/"), e => e.Name == "empty" && e.IsDirectory);
    }

    [Fact]
    public async Task CreateDirectory_WhereSomethingExists_FailsWithAlreadyExists()
    {
        await Provider.CreateDirectoryAsync(P("/d"), Ct);
        await PutAsync("/f", [1]);
        Assert.Equal(StorageErrorKind.AlreadyExists, await FailsWith(() => Provider.CreateDirectoryAsync(P("/d"), Ct).AsTask()));
        Assert.Equal(StorageErrorKind.AlreadyExists, await FailsWith(() => Provider.CreateDirectoryAsync(P("/f"), Ct).AsTask()));
    }

    [Fact]
    public async Task CreateDirectory_UnderAMissingParent_FailsWithNotFound() =>
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => Provider.CreateDirectoryAsync(P("/x/y"), Ct).AsTask()));

    [Fact]
    public async Task DeleteDirectory_RefusesANonEmptyOne_AndRemovesAnEmptyOne()
    {
        await Provider.CreateDirectoryAsync(P("/d"), Ct);
        await PutAsync("/d/f", [1]);
        Assert.Equal(StorageErrorKind.DirectoryNotEmpty, await FailsWith(() => Provider.DeleteDirectoryAsync(P("/d"), Ct).AsTask()));
        await Provider.DeleteFileAsync(P("/d/f"), Ct);
        await Provider.DeleteDirectoryAsync(P("/d"), Ct);
        Assert.Null(await Provider.GetEntryAsync(P("/d"), Ct));
    }

    [Fact]
    public async Task DeleteDirectory_OfAMissingOne_FailsWithNotFound() =>
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => Provider.DeleteDirectoryAsync(P("/nope"), Ct).AsTask()));

    [Fact]
    public async Task DeleteFile_RemovesIt_AndFailsOnMissingFilesAndDirectories()
    {
        await PutAsync("/f", [1]);
        await Provider.DeleteFileAsync(P("/f"), Ct);
        Assert.Null(await Provider.GetEntryAsync(P("/f"), Ct));
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => Provider.DeleteFileAsync(P("/f"), Ct).AsTask()));
        await Provider.CreateDirectoryAsync(P("/d"), Ct);
        Assert.Equal(StorageErrorKind.IsADirectory, await FailsWith(() => Provider.DeleteFileAsync(P("/d"), Ct).AsTask()));
    }

    [Fact]
    public async Task Rename_AFile_MovesItsContent_AndReplacesAnExistingTarget()
    {
        await PutAsync("/upload.filepart", Encoding.UTF8.GetBytes("final bytes"));
        await PutAsync("/final.txt", Encoding.UTF8.GetBytes("stale"));
        await Provider.RenameAsync(P("/upload.filepart"), P("/final.txt"), Ct);
        Assert.Null(await Provider.GetEntryAsync(P("/upload.filepart"), Ct));
        Assert.Equal("final bytes", Encoding.UTF8.GetString(await GetAsync("/final.txt")));
    }

    [Fact]
    public async Task Rename_ADirectory_MovesTheWholeTree()
    {
        await Provider.CreateDirectoryAsync(P("/src"), Ct);
        await Provider.CreateDirectoryAsync(P("/src/inner"), Ct);
        await PutAsync("/src/a", [1, 2]);
        await PutAsync("/src/inner/b", [3]);
        await Provider.RenameAsync(P("/src"), P("/dst"), Ct);
        Assert.Null(await Provider.GetEntryAsync(P("/src"), Ct));
        Assert.Equal([1, 2], await GetAsync("/dst/a"));
        Assert.Equal([3], await GetAsync("/dst/inner/b"));
        Assert.True((await Provider.GetEntryAsync(P("/dst/inner"), Ct))!.IsDirectory);
    }

    [Fact]
    public async Task Rename_OfAMissingSource_FailsWithNotFound() =>
        Assert.Equal(StorageErrorKind.NotFound, await FailsWith(() => Provider.RenameAsync(P("/ghost"), P("/x"), Ct).AsTask()));

    [Fact]
    public async Task SetModificationTime_IsReportedBack()
    {
        if ((Provider.Capabilities & StorageCapabilities.SetModificationTime) == 0)
        {
            return;
        }

        await PutAsync("/f", [1]);
        var when = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);
        await Provider.SetModificationTimeAsync(P("/f"), when, Ct);
        Assert.Equal(when, (await Provider.GetEntryAsync(P("/f"), Ct))!.LastModified);
        Assert.Contains(await ListAsync("/"), e => e.Name == "f" && e.LastModified == when);
    }

    [Fact]
    public async Task SetModificationTime_SurvivesRenames_AndEmptyFilesTakeOneToo()
    {
        if ((Provider.Capabilities & StorageCapabilities.SetModificationTime) == 0)
        {
            return;
        }

        await Provider.CreateDirectoryAsync(P("/d"), Ct);
        await PutAsync("/d/f", [1]);
        await PutAsync("/d/empty", []);
        var when = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);
        await Provider.SetModificationTimeAsync(P("/d/f"), when, Ct);
        await Provider.SetModificationTimeAsync(P("/d/empty"), when, Ct);
        await Provider.RenameAsync(P("/d/f"), P("/d/g"), Ct);
        await Provider.RenameAsync(P("/d"), P("/e"), Ct);
        var listed = await ListAsync("/e");
        Assert.Contains(listed, e => e.Name == "g" && e.LastModified == when);
        Assert.Contains(listed, e => e.Name == "empty" && e.LastModified == when && e.Size == 0);
        Assert.Equal([1], await GetAsync("/e/g"));
    }

    [Fact]
    public async Task GetHash_MatchesADigestOfTheContent()
    {
        var content = RandomNumberGenerator.GetBytes(100_000);
        await PutAsync("/h", content);
        foreach (var algorithm in Provider.HashAlgorithms)
        {
            var expected = await Hashing.ComputeAsync(new MemoryStream(content), algorithm, Ct);
            Assert.Equal(expected, await Provider.GetHashAsync(P("/h"), algorithm, Ct));
        }

        if (Provider.HashAlgorithms.Contains(Hashing.Sha256))
        {
            Assert.Equal(SHA256.HashData(content), await Provider.GetHashAsync(P("/h"), Hashing.Sha256, Ct));
        }
    }

    [Fact]
    public async Task Names_WithSpacesUnicodeAndPunctuation_RoundTrip()
    {
        string[] names = ["with space.txt", "Grüße 日本.csv", "semi;colon,comma#hash%25.dat", "trailing."];
        foreach (var name in names)
        {
            await PutAsync("/" + name, Encoding.UTF8.GetBytes(name));
        }

        Assert.Equal(names.Order(StringComparer.Ordinal), (await ListAsync("/")).Select(e => e.Name).Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            Assert.Equal(name, Encoding.UTF8.GetString(await GetAsync("/" + name)));
        }
    }

    [Fact]
    public async Task Probe_AnswersAndChangesNothing()
    {
        await Provider.ProbeAsync(Ct);
        await Provider.ProbeAsync(Ct);
        Assert.Empty(await ListAsync("/"));
        Assert.Null(await Provider.GetEntryAsync(P("/probe"), Ct));
    }

    /// <summary>Hands out its content a few bytes at a time, as a slow socket does.</summary>
    internal sealed class TrickleStream(byte[] content, int chunk) : ReadOnlyStream
    {
        private int _position;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = Math.Min(Math.Min(buffer.Length, chunk), content.Length - _position);
            content.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return ValueTask.FromResult(n);
        }
    }

    /// <summary>Delivers bytes, then fails like a reset connection.</summary>
    protected sealed class FailingStream(byte[] content, int failAfter, Action? onFail = null) : ReadOnlyStream
    {
        private int _position;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= failAfter)
            {
                onFail?.Invoke();
                throw new EndOfStreamException("connection reset by peer (simulated)");
            }

            var n = Math.Min(Math.Min(buffer.Length, 8192), Math.Min(content.Length, failAfter) - _position);
            content.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return ValueTask.FromResult(n);
        }
    }
}
