using System.Text;
using FtpGateway.Storage.FileSystem;

namespace FtpGateway.Storage.Tests.FileSystem;

/// <summary>
/// Where an upload is until it commits, both ways: an unnamed file in the target's directory (<c>O_TMPFILE</c>,
/// which the tests' file system has), and a named temporary in the hidden directory, as on a file system without it.
/// </summary>
public sealed class UploadTemporariesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ftpgw-tmp-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<FileSystemStorageProvider> _providers = [];

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task AnUnnamedUpload_HasNoNameAnywhere_UntilItCommits()
    {
        var provider = Start(unnamed: true);
        Assert.True(provider.UnnamedUploads);

        await UploadHeldBeforeCommitAsync(provider, "/d/x.txt", "payload", UploadMode.Replace, whileHeld: () =>
            Assert.Equal([Path.Combine(_root, "d")], Directory.GetFileSystemEntries(_root, "*", SearchOption.AllDirectories).Where(e => !e.EndsWith(UploadTemporaries.DirectoryName, StringComparison.Ordinal))));

        Assert.Equal("payload", File.ReadAllText(Path.Combine(_root, "d", "x.txt")));
    }

    [Fact]
    public async Task AnUnnamedUpload_AppearsWholeByARename_AsFolderWatchersExpect()
    {
        var provider = Start(unnamed: true);
        using var watcher = new FileSystemWatcher(Path.Combine(_root, "d")) { IncludeSubdirectories = false };
        var renamed = new TaskCompletionSource<RenamedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Renamed += (_, e) => renamed.TrySetResult(e);
        watcher.EnableRaisingEvents = true;

        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/d/x.txt"), new MemoryStream("payload"u8.ToArray())), Ct);

        // inotify's IN_MOVED_FROM and IN_MOVED_TO in one directory: a watcher acting on moved-in files sees it whole.
        var e = await renamed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("x.txt", e.Name);
        Assert.StartsWith(StorageNames.ReservedPrefix, e.OldName);
        Assert.Equal("payload", File.ReadAllText(e.FullPath));
    }

    [Fact]
    public async Task ANamedUpload_IsAHiddenTemporary_UntilItCommits()
    {
        var provider = Start(unnamed: false);
        Assert.False(provider.UnnamedUploads);
        var temporaries = Path.Combine(_root, UploadTemporaries.DirectoryName);

        await UploadHeldBeforeCommitAsync(provider, "/d/x.txt", "payload", UploadMode.Replace, whileHeld: () =>
        {
            Assert.Single(Directory.GetFiles(temporaries));
            Assert.Empty(Directory.GetFiles(Path.Combine(_root, "d")));
        });

        Assert.Empty(Directory.GetFiles(temporaries));
        Assert.Equal("payload", File.ReadAllText(Path.Combine(_root, "d", "x.txt")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReplacingAFile_LeavesOnlyTheNewVersion(bool unnamed)
    {
        var provider = Start(unnamed);
        await provider.UploadAsync(new UploadRequest(StoragePath.Parse("/d/x.txt"), new MemoryStream("old"u8.ToArray())), Ct);

        await UploadHeldBeforeCommitAsync(provider, "/d/x.txt", "new", UploadMode.Replace, whileHeld: () =>
            Assert.Equal("old", File.ReadAllText(Path.Combine(_root, "d", "x.txt"))));

        Assert.Equal([Path.Combine(_root, "d", "x.txt")], Directory.GetFiles(Path.Combine(_root, "d")));
        Assert.Equal("new", File.ReadAllText(Path.Combine(_root, "d", "x.txt")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, UploadTemporaries.DirectoryName)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnAppendThatCreates_FindingTheFileCreatedMeanwhile_GoesAfterIt(bool unnamed)
    {
        var provider = Start(unnamed);

        await UploadHeldBeforeCommitAsync(provider, "/d/log", "second", UploadMode.Append, whileHeld: () =>
            File.WriteAllText(Path.Combine(_root, "d", "log"), "first,"));

        Assert.Equal("first,second", File.ReadAllText(Path.Combine(_root, "d", "log")));
        Assert.Equal([Path.Combine(_root, "d", "log")], Directory.GetFiles(Path.Combine(_root, "d")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ACreateNewFindingTheNameTaken_CommitsNothing(bool unnamed)
    {
        var provider = Start(unnamed);

        var refused = await Assert.ThrowsAsync<StorageException>(() => UploadHeldBeforeCommitAsync(provider, "/d/x.txt", "mine", UploadMode.CreateNew, whileHeld: () =>
            File.WriteAllText(Path.Combine(_root, "d", "x.txt"), "theirs")));

        Assert.Equal(StorageErrorKind.AlreadyExists, refused.Kind);
        Assert.Equal("theirs", File.ReadAllText(Path.Combine(_root, "d", "x.txt")));
        Assert.Single(Directory.GetFiles(Path.Combine(_root, "d")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, UploadTemporaries.DirectoryName)));
    }

    public void Dispose()
    {
        _providers.ForEach(p => p.Dispose());
        Directory.Delete(_root, true);
    }

    private FileSystemStorageProvider Start(bool unnamed)
    {
        var provider = new FileSystemStorageProvider(new FileSystemStorageOptions { Root = _root, UnnamedTemporaries = unnamed });
        _providers.Add(provider);
        Directory.CreateDirectory(Path.Combine(_root, "d"));
        return provider;
    }

    /// <summary>Uploads <paramref name="content"/>, running <paramref name="whileHeld"/> once every byte is written and before the commit.</summary>
    private static async Task UploadHeldBeforeCommitAsync(FileSystemStorageProvider provider, string path, string content, UploadMode mode, Action whileHeld)
    {
        var request = new UploadRequest(StoragePath.Parse(path), new MemoryStream(Encoding.UTF8.GetBytes(content)))
        {
            Mode = mode,
            BeforeCommit = _ =>
            {
                whileHeld();
                return ValueTask.CompletedTask;
            },
        };
        await provider.UploadAsync(request, Ct);
    }
}

/// <summary>The conformance suite on the local disk with named temporaries, as on a file system without <c>O_TMPFILE</c>.</summary>
public sealed class FileSystemNamedTemporariesConformanceTests : StorageProviderConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ftpgw-named-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FileSystemStorageProvider _provider;

    public FileSystemNamedTemporariesConformanceTests() =>
        _provider = new FileSystemStorageProvider(new FileSystemStorageOptions { Root = _root, UnnamedTemporaries = false });

    protected override IStorageProvider Provider => _provider;

    public void Dispose()
    {
        _provider.Dispose();
        Directory.Delete(_root, true);
    }
}
