using System.Net.Security;
using System.Security.Authentication;
using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Tests.Transfers;

/// <summary>The versions a data connection's client offers, read from its real ClientHello.</summary>
public sealed class ClientHelloTests
{
    [Theory]
    [InlineData(SslProtocols.Tls12, SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13, SslProtocols.Tls13)]
    [InlineData(SslProtocols.Tls12 | SslProtocols.Tls13, SslProtocols.Tls12 | SslProtocols.Tls13)]
    public async Task TheOfferedVersions_AreReadFromSupportedVersions(SslProtocols client, SslProtocols offered)
    {
        var hello = await ClientHello.ReadAsync(new MemoryStream(await HelloOf(client)), CancellationToken.None);
        Assert.Equal(offered, hello.Offered & (SslProtocols.Tls12 | SslProtocols.Tls13));
    }

    [Fact]
    public async Task TheRecord_IsReplayedUnchanged_BeforeTheRestOfTheStream()
    {
        var bytes = await HelloOf(SslProtocols.Tls13);
        var hello = await ClientHello.ReadAsync(new MemoryStream([.. bytes, 1, 2, 3]), CancellationToken.None);
        using var replayed = new MemoryStream();
        await hello.Replayed(new MemoryStream([1, 2, 3])).CopyToAsync(replayed);
        Assert.Equal([.. bytes, 1, 2, 3], replayed.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 22, 3, 1, 0, 1, 1 })]                    // a ClientHello of one byte
    [InlineData(new byte[] { 22, 3, 1, 0, 5, 1, 0, 0, 40, 3 })]       // cut inside its version
    [InlineData(new byte[] { 22, 3, 1, 0, 4, 1, 0, 0, 0 })]
    public async Task ACutShortHello_OffersNothing_AndThrowsNothing(byte[] record)
    {
        var hello = await ClientHello.ReadAsync(new MemoryStream(record), CancellationToken.None);
        Assert.Equal(SslProtocols.None, hello.Offered);
    }

    [Fact]
    public async Task NotAHandshake_OffersNothing()
    {
        var hello = await ClientHello.ReadAsync(new MemoryStream([23, 3, 3, 0, 2, 0, 0]), CancellationToken.None);
        Assert.Equal(SslProtocols.None, hello.Offered);
    }

    /// <summary>The first record a real TLS client sends with these versions enabled.</summary>
    private static async Task<byte[]> HelloOf(SslProtocols protocols)
    {
        var wire = new CapturingStream();
        await using var client = new SslStream(wire, leaveInnerStreamOpen: true); // no server ever answers: nothing to validate
        await Assert.ThrowsAnyAsync<Exception>(() => client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = protocols }));
        return wire.Written;
    }

    /// <summary>Keeps what the client writes; answers its reads with the end of the stream.</summary>
    private sealed class CapturingStream : Stream
    {
        private readonly MemoryStream _written = new();

        public byte[] Written => _written.ToArray();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => 0;

        public override void Write(byte[] buffer, int offset, int count) => _written.Write(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
