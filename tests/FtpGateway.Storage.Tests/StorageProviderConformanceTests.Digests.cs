using System.Security.Cryptography;

namespace FtpGateway.Storage.Tests;

/// <summary>
/// The SHA-256 kept with an upload covers every byte in order: also when the upload arrives in uneven pieces over
/// several of the provider's buffers (a disk upload hashes one buffer beside the next one's copy), when it ends
/// exactly at a buffer's end, and after an append and a resume.
/// </summary>
public abstract partial class StorageProviderConformanceTests
{
    [Theory]
    [InlineData(1_300_001, 70_001)] // uneven pieces, ending inside a buffer
    [InlineData(512 * 1024, 65_536)] // ending exactly at the end of a disk upload's second 256 KiB buffer
    public async Task Sha256_OfAnUploadInManyPieces_AndAfterAppendAndResume_IsTheContents(int length, int piece)
    {
        if (!Provider.HashAlgorithms.Contains(Hashing.Sha256))
        {
            return;
        }

        var content = RandomNumberGenerator.GetBytes(length);
        await AssertDigestAsync(content, await Provider.UploadAsync(new UploadRequest(P("/pieces.bin"), new TrickleStream(content, piece)), Ct));

        if ((Provider.Capabilities & StorageCapabilities.Append) != 0)
        {
            var more = RandomNumberGenerator.GetBytes(600_007);
            content = [.. content, .. more];
            await AssertDigestAsync(content, await Provider.UploadAsync(new UploadRequest(P("/pieces.bin"), new TrickleStream(more, 50_003)) { Mode = UploadMode.Append }, Ct));
        }

        if ((Provider.Capabilities & StorageCapabilities.ResumeUpload) != 0)
        {
            var rest = RandomNumberGenerator.GetBytes(256 * 1024); // kept: one disk buffer exactly
            content = [.. content.AsSpan(0, 256 * 1024), .. rest];
            await AssertDigestAsync(content, await Provider.UploadAsync(new UploadRequest(P("/pieces.bin"), new TrickleStream(rest, 90_001)) { Mode = UploadMode.Resume, Offset = 256 * 1024 }, Ct));
            Assert.Equal(content, await GetAsync("/pieces.bin"));
        }
    }

    /// <summary>The digest the upload returned (when it returns one) and the one HASH answers are both the content's.</summary>
    private async Task AssertDigestAsync(byte[] content, StorageEntry uploaded)
    {
        var expected = SHA256.HashData(content);
        if (uploaded.Sha256 is not null)
        {
            Assert.Equal(expected, uploaded.Sha256);
        }

        Assert.Equal(expected, await Provider.GetHashAsync(P("/pieces.bin"), Hashing.Sha256, Ct));
    }
}
