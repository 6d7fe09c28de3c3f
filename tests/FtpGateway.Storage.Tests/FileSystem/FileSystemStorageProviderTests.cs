using System.Text;
using FtpGateway.Storage.FileSystem;
using FtpGateway.TestSupport;

namespace FtpGateway.Storage.Tests.FileSystem;

/// <summary>The conformance suite on the local disk, plus what only a disk has: symbolic links and temp files.</summary>
public sealed class FileSystemStorageProviderTests : StorageProviderConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ftpgw-fs-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "ftpgw-out-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FileSystemStorageProvider _provider;

    public FileSystemStorageProviderTests()
    {
        _provider = new FileSystemStorageProvider(new FileSystemStorageOptions { Root = _root });
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "outside the root");
    }

    protected override IStorageProvider Provider => _provider;

    [Fact]
    public async Task SymbolicLinks_LeadingOutsideTheRoot_AreNeitherListedNorOpened()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "escape"), _outside);
        File.CreateSymbolicLink(Path.Combine(_root, "secret-link"), Path.Combine(_outside, "secret.txt"));

        var names = new List<string>();
        await foreach (var e in Provider.ListAsync(StoragePath.Root, Ct))
        {
            names.Add(e.Name);
        }

        Assert.Empty(names);

        // A link that leads out is as good as not there.
        var denied = await Assert.ThrowsAsync<StorageException>(async () => await Provider.OpenReadAsync(StoragePath.Parse("/escape/secret.txt"), 0, Ct));
        Assert.Equal(StorageErrorKind.NotFound, denied.Kind);
        denied = await Assert.ThrowsAsync<StorageException>(async () => await Provider.OpenReadAsync(StoragePath.Parse("/secret-link"), 0, Ct));
        Assert.Equal(StorageErrorKind.NotFound, denied.Kind);
        Assert.Null(await Provider.GetEntryAsync(StoragePath.Parse("/escape"), Ct));
        await Assert.ThrowsAsync<StorageException>(async () =>
            await Provider.UploadAsync(new UploadRequest(StoragePath.Parse("/escape/planted.txt"), new MemoryStream([1])), Ct));
        Assert.False(File.Exists(Path.Combine(_outside, "planted.txt")));
    }

    [Fact]
    public async Task SymbolicLinks_InsideTheRoot_Work()
    {
        Directory.CreateDirectory(Path.Combine(_root, "real"));
        File.WriteAllText(Path.Combine(_root, "real", "a.txt"), "inside");
        Directory.CreateSymbolicLink(Path.Combine(_root, "alias"), Path.Combine(_root, "real"));
        await using var s = await Provider.OpenReadAsync(StoragePath.Parse("/alias/a.txt"), 0, Ct);
        Assert.Equal("inside", await new StreamReader(s).ReadToEndAsync(Ct));
    }

    [Fact]
    public async Task Upload_InProgress_IsInvisibleUntilCommitted()
    {
        File.WriteAllText(Path.Combine(_root, "report.csv"), "old");
        var gate = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var request = new UploadRequest(StoragePath.Parse("/report.csv"), new MemoryStream(Encoding.UTF8.GetBytes("new content")))
        {
            BeforeCommit = async _ =>
            {
                gate.SetResult();
                await release.Task;
            },
        };
        var upload = Provider.UploadAsync(request, Ct).AsTask();
        await gate.Task;

        // Mid-upload: readers see the old bytes, listings show one file, the temp file is not addressable.
        Assert.Equal("old", File.ReadAllText(Path.Combine(_root, "report.csv")));
        var names = new List<string>();
        await foreach (var e in Provider.ListAsync(StoragePath.Root, Ct))
        {
            names.Add(e.Name);
        }

        Assert.Equal(["report.csv"], names);
        var temporaries = Path.Combine(_root, ".ftpgw-uploads");
        Assert.Equal([Path.Combine(_root, "report.csv")], Directory.GetFiles(_root, "*", SearchOption.AllDirectories)); // the new version has no name yet
        var refused = await Assert.ThrowsAsync<StorageException>(async () => await Provider.GetEntryAsync(StoragePath.Parse("/.ftpgw-uploads"), Ct));
        Assert.Equal(StorageErrorKind.InvalidName, refused.Kind);

        release.SetResult();
        await upload;
        Assert.Equal("new content", File.ReadAllText(Path.Combine(_root, "report.csv")));
        Assert.Empty(Directory.GetFiles(temporaries));
    }

    [Fact]
    public async Task AnEntryThatVanishesDuringAListing_IsSkipped_AndTheListingCompletes()
    {
        for (var i = 0; i < 50; i++)
        {
            File.WriteAllText(Path.Combine(_root, $"f{i:D2}.txt"), "x");
        }

        var listed = new List<string>();
        await foreach (var entry in Provider.ListAsync(StoragePath.Root, Ct))
        {
            if (listed.Count == 0)
            {
                // The directory's names were read in one batch; their files now go before each is looked at.
                foreach (var file in Directory.GetFiles(_root, "f*.txt").Where(f => Path.GetFileName(f) != entry.Name))
                {
                    File.Delete(file);
                }
            }

            listed.Add(entry.Name);
        }

        Assert.Single(listed);
    }

    [Fact]
    public async Task ADirectorySwappedForALinkDuringAnUpload_NeverLetsTheUploadOut()
    {
        Directory.CreateDirectory(Path.Combine(_root, "d"));
        var gate = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var upload = Provider.UploadAsync(
            new UploadRequest(StoragePath.Parse("/d/x.txt"), new MemoryStream("payload"u8.ToArray()))
            {
                BeforeCommit = async _ =>
                {
                    gate.SetResult();
                    await release.Task;
                },
            },
            Ct).AsTask();
        await gate.Task;
        Directory.Move(Path.Combine(_root, "d"), Path.Combine(_root, "d-moved"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "d"), _outside);
        release.SetResult();
        await upload;

        Assert.False(File.Exists(Path.Combine(_outside, "x.txt")));
        Assert.Equal("payload", File.ReadAllText(Path.Combine(_root, "d-moved", "x.txt")));
    }

    [Fact]
    public void StaleUploadTemporaries_AreRemovedAtStartUp_AndRecentOnesKept()
    {
        var temporaries = Path.Combine(_root, ".ftpgw-uploads");
        File.WriteAllText(Path.Combine(temporaries, "stale.part"), "a crashed upload");
        File.SetLastWriteTimeUtc(Path.Combine(temporaries, "stale.part"), DateTime.UtcNow.AddHours(-2));
        File.WriteAllText(Path.Combine(temporaries, "running.part"), "another replica's upload");
        using var restarted = new FileSystemStorageProvider(new FileSystemStorageOptions { Root = _root });
        Assert.Equal(["running.part"], Directory.GetFiles(temporaries).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AViewForAUsersRoot_KeepsEveryOperationInside()
    {
        Directory.CreateDirectory(Path.Combine(_root, "users/a"));
        Directory.CreateDirectory(Path.Combine(_root, "users/b"));
        File.WriteAllText(Path.Combine(_root, "users/b/private.txt"), "b's");
        File.CreateSymbolicLink(Path.Combine(_root, "users/a/to-b"), "../b/private.txt");
        var a = _provider.ForRoot(StoragePath.Parse("/users/a"));
        Assert.Null(await a.GetEntryAsync(StoragePath.Parse("/users/a/to-b"), Ct));
        Assert.NotNull(await _provider.GetEntryAsync(StoragePath.Parse("/users/a/to-b"), Ct)); // inside the storage root
        var refused = await Assert.ThrowsAsync<StorageException>(async () => await a.OpenReadAsync(StoragePath.Parse("/users/b/private.txt"), 0, Ct));
        Assert.Equal(StorageErrorKind.NotFound, refused.Kind);
    }

    [Fact]
    public async Task ConcurrentAppendsToAFileThatDoesNotExistYet_AllLand()
    {
        // Six APPEs to a file that does not exist all finish writing before any commits: one creates the file,
        // the others lose the race and append after it what they wrote, read back from their temporaries.
        for (var round = 0; round < 5; round++)
        {
            var path = StoragePath.Parse($"/new-{round}.log");
            var lines = Enumerable.Range(0, 6).Select(i => $"round {round} writer {i}\n").ToArray();
            var arrived = 0;
            var allWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await Task.WhenAll(lines.Select(line => Task.Run(async () =>
                await Provider.UploadAsync(
                    new UploadRequest(path, new MemoryStream(Encoding.ASCII.GetBytes(line)))
                    {
                        Mode = UploadMode.Append,
                        BeforeCommit = async ct =>
                        {
                            if (Interlocked.Increment(ref arrived) == lines.Length)
                            {
                                allWritten.SetResult();
                            }

                            await allWritten.Task.WaitAsync(ct);
                        },
                    },
                    Ct))));
            var stored = File.ReadAllLines(Path.Combine(_root, path.Name)).Select(l => l + "\n").Order(StringComparer.Ordinal);
            Assert.Equal(lines.Order(StringComparer.Ordinal), stored);
        }
    }

    [Fact]
    public async Task AnAppendThatRunsOutOfSpace_IsInsufficientStorage_AndTheFileIsCutBack()
    {
        using var small = TmpfsMount.Create(Path.Combine(_outside, "small"), 1024 * 1024);
        using var provider = new FileSystemStorageProvider(new FileSystemStorageOptions { Root = small.Path });
        var log = StoragePath.Parse("/log.bin");
        await provider.UploadAsync(new UploadRequest(log, new MemoryStream(new byte[1000])), Ct);

        var full = await Assert.ThrowsAsync<StorageException>(async () =>
            await provider.UploadAsync(new UploadRequest(log, new MemoryStream(new byte[2 * 1024 * 1024])) { Mode = UploadMode.Append }, Ct));
        Assert.Equal(StorageErrorKind.InsufficientStorage, full.Kind);
        Assert.Equal(1000, new FileInfo(Path.Combine(small.Path, "log.bin")).Length);
    }

    [Fact]
    public async Task UploadsIntoAnotherMountUnderTheRoot_Land_AndRenamesAcrossItAreRefused()
    {
        using var mounted = TmpfsMount.Create(Path.Combine(_root, "volume"), 16 * 1024 * 1024);
        var inside = StoragePath.Parse("/volume/photo.jpg");
        await Provider.UploadAsync(new UploadRequest(inside, new MemoryStream(Encoding.ASCII.GetBytes("on the other mount"))), Ct);
        await Provider.UploadAsync(new UploadRequest(inside, new MemoryStream(Encoding.ASCII.GetBytes(" and more"))) { Mode = UploadMode.Append }, Ct);
        Assert.Equal("on the other mount and more", File.ReadAllText(Path.Combine(mounted.Path, "photo.jpg")));
        Assert.Equal(["photo.jpg"], Directory.GetFiles(mounted.Path).Select(Path.GetFileName)); // no temporary left beside it

        var across = await Assert.ThrowsAsync<StorageException>(async () => await Provider.RenameAsync(inside, StoragePath.Parse("/photo.jpg"), Ct));
        Assert.Equal(StorageErrorKind.NotSupported, across.Kind);
    }

    [Fact]
    public async Task FailuresOnAWayThroughALinkThatLeadsOut_AllReadAsAbsent()
    {
        // Without this, "not a directory" for secret.txt/x and "no such file" for missing/x tell what exists outside.
        Directory.CreateSymbolicLink(Path.Combine(_root, "peek"), _outside);
        foreach (var probe in new[] { "/peek/secret.txt/x", "/peek/missing/x", "/peek/secret.txt/x/y" })
        {
            var path = StoragePath.Parse(probe);
            Assert.Null(await Provider.GetEntryAsync(path, Ct));
            var mkd = await Assert.ThrowsAsync<StorageException>(async () => await Provider.CreateDirectoryAsync(StoragePath.Parse(probe + "/z"), Ct));
            Assert.Equal(StorageErrorKind.NotFound, mkd.Kind);
            var read = await Assert.ThrowsAsync<StorageException>(async () => await Provider.OpenReadAsync(path, 0, Ct));
            Assert.Equal(StorageErrorKind.NotFound, read.Kind);
        }
    }

    [Fact]
    public async Task SpecialFiles_AreNeitherListedNorOpened_AndNothingBlocks()
    {
        Assert.Equal(0, (await ExternalProcess.RunAsync("mkfifo", [Path.Combine(_root, "pipe")])).ExitCode);
        var pipe = StoragePath.Parse("/pipe");
        var names = new List<string>();
        await foreach (var e in Provider.ListAsync(StoragePath.Root, Ct))
        {
            names.Add(e.Name);
        }

        Assert.Empty(names);
        Assert.Null(await Provider.GetEntryAsync(pipe, Ct));

        // Opening a FIFO for I/O blocks until a peer opens it: each call must fail at once instead.
        await Assert.ThrowsAsync<StorageException>(() => Task.Run(async () => await Provider.OpenReadAsync(pipe, 0, Ct)).WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<StorageException>(() => Task.Run(async () =>
            await Provider.UploadAsync(new UploadRequest(pipe, new MemoryStream([1])) { Mode = UploadMode.Append }, Ct)).WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<StorageException>(() => Task.Run(async () =>
            await Provider.SetModificationTimeAsync(pipe, DateTimeOffset.UnixEpoch, Ct)).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task NamesFtpCannotAddress_AreLeftOutOfListings_WhichComplete()
    {
        // A name with a backslash (a separator to FTP clients) made the disk listing throw part-way.
        File.WriteAllText(Path.Combine(_root, "a\\b.txt"), "x");
        File.WriteAllText(Path.Combine(_root, "plain.txt"), "x");
        var names = new List<string>();
        await foreach (var e in Provider.ListAsync(StoragePath.Root, Ct))
        {
            names.Add(e.Name);
        }

        Assert.Equal(["plain.txt"], names);
    }

    [Fact]
    public async Task ModificationTimesBefore1970_AreSet()
    {
        var path = StoragePath.Parse("/old.txt");
        await Provider.UploadAsync(new UploadRequest(path, new MemoryStream([1])), Ct);
        var time = new DateTimeOffset(1969, 7, 20, 20, 17, 40, TimeSpan.Zero).AddMilliseconds(250);
        await Provider.SetModificationTimeAsync(path, time, Ct);
        Assert.Equal(time, (await Provider.GetEntryAsync(path, Ct))!.LastModified);
    }

    [Fact]
    public void StaleUploadTemporaries_AreAlsoRemovedHourlyWhileRunning()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = new FileSystemStorageProvider(new FileSystemStorageOptions { Root = _root }, time: clock);
        var temporaries = Path.Combine(_root, ".ftpgw-uploads");
        File.WriteAllText(Path.Combine(temporaries, "crashed-replica.part"), "left by another process");
        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Single(Directory.GetFiles(temporaries));
        clock.Advance(TimeSpan.FromMinutes(62));
        Assert.Empty(Directory.GetFiles(temporaries));
    }

    public void Dispose()
    {
        _provider.Dispose();
        Directory.Delete(_root, true);
        Directory.Delete(_outside, true);
    }
}
