using System.Text;
using FtpGateway.Storage;
using FtpGateway.Storage.FileSystem;

namespace FtpGateway.Storage.Tests;

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
        var denied = await Assert.ThrowsAsync<StorageException>(async () => await Provider.OpenReadAsync(StoragePath.Parse("/escape/secret.txt"), 0, Ct));
        Assert.Equal(StorageErrorKind.AccessDenied, denied.Kind);
        denied = await Assert.ThrowsAsync<StorageException>(async () => await Provider.OpenReadAsync(StoragePath.Parse("/secret-link"), 0, Ct));
        Assert.Equal(StorageErrorKind.AccessDenied, denied.Kind);
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
        var temp = Directory.GetFiles(_root, ".ftpgw-*").Single();
        var refused = await Assert.ThrowsAsync<StorageException>(async () => await Provider.GetEntryAsync(StoragePath.Root.Child(Path.GetFileName(temp)), Ct));
        Assert.Equal(StorageErrorKind.InvalidName, refused.Kind);

        release.SetResult();
        await upload;
        Assert.Equal("new content", File.ReadAllText(Path.Combine(_root, "report.csv")));
        Assert.Empty(Directory.GetFiles(_root, ".ftpgw-*"));
    }

    public void Dispose()
    {
        Directory.Delete(_root, true);
        Directory.Delete(_outside, true);
    }
}
