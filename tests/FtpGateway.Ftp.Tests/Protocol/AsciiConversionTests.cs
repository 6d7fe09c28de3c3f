using System.Text;
using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Tests.Protocol;

public sealed class AsciiConversionTests
{
    [Theory]
    [InlineData("a\nb\n", "a\r\nb\r\n")]
    [InlineData("a\r\nb", "a\r\nb")]
    [InlineData("lone\rcr", "lone\rcr")]
    [InlineData("", "")]
    public void ToNetwork_TurnsLfIntoCrLfOnce(string stored, string network)
    {
        var input = Encoding.ASCII.GetBytes(stored);
        var output = new byte[input.Length * 2];
        var lastWasCr = false;
        var n = AsciiConversion.ToNetwork(input, output, ref lastWasCr);
        Assert.Equal(network, Encoding.ASCII.GetString(output, 0, n));
    }

    [Fact]
    public void ToNetwork_RemembersACrAtTheEndOfAChunk()
    {
        var output = new byte[8];
        var lastWasCr = false;
        var n1 = AsciiConversion.ToNetwork("a\r"u8, output, ref lastWasCr);
        var n2 = AsciiConversion.ToNetwork("\nb"u8, output.AsSpan(n1), ref lastWasCr);
        Assert.Equal("a\r\nb", Encoding.ASCII.GetString(output, 0, n1 + n2));
    }

    [Theory]
    [InlineData("a\r\nb\r\n", "a\nb\n")]
    [InlineData("keep\rlone", "keep\rlone")]
    [InlineData("ends with cr\r", "ends with cr\r")]
    [InlineData("unix\nonly", "unix\nonly")]
    public async Task UploadStream_TurnsCrLfIntoLf(string network, string stored)
    {
        // One byte at a time, to cross every chunk boundary.
        var source = new OneByteStream(Encoding.ASCII.GetBytes(network));
        using var result = new MemoryStream();
        await new AsciiUploadStream(source).CopyToAsync(result);
        Assert.Equal(stored, Encoding.ASCII.GetString(result.ToArray()));
    }

    private sealed class OneByteStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}
