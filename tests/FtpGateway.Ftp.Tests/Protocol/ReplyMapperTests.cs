using FtpGateway.Ftp.Protocol;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Tests.Protocol;

public sealed class ReplyMapperTests
{
    [Theory]
    [InlineData(StorageErrorKind.NotFound, 550)]
    [InlineData(StorageErrorKind.AccessDenied, 550)]
    [InlineData(StorageErrorKind.DirectoryNotEmpty, 550)]
    [InlineData(StorageErrorKind.InvalidName, 553)]
    [InlineData(StorageErrorKind.InsufficientStorage, 552)]
    [InlineData(StorageErrorKind.NotSupported, 504)]
    [InlineData(StorageErrorKind.InvalidRange, 554)]
    [InlineData(StorageErrorKind.Unavailable, 451)]
    public void EveryKind_MapsToItsReplyCode(StorageErrorKind kind, int code) => Assert.Equal(code, ReplyMapper.Map(kind).Code);

    [Fact]
    public void EveryKind_HasAFixedClientText()
    {
        foreach (var kind in Enum.GetValues<StorageErrorKind>())
        {
            var (code, text) = ReplyMapper.Map(kind);
            Assert.InRange(code, 400, 599);
            Assert.False(string.IsNullOrWhiteSpace(text));
        }
    }
}
