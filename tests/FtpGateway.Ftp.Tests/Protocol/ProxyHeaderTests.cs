using System.Net;
using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Tests.Protocol;

public sealed class ProxyHeaderTests
{
    [Fact]
    public void V1_TCP4_TCP6_AndUnknown()
    {
        var v4 = ProxyHeader.ParseV1("TCP4 198.51.100.7 10.0.0.1 40000 21");
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.7"), 40000), v4.Source);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 21), v4.Destination);
        var v6 = ProxyHeader.ParseV1("TCP6 2001:db8::7 2001:db8::1 40000 21");
        Assert.Equal(IPAddress.Parse("2001:db8::7"), v6.Source!.Address);
        Assert.Null(ProxyHeader.ParseV1("UNKNOWN").Source);
        Assert.Null(ProxyHeader.ParseV1("UNKNOWN ff ff 1 2").Source);
    }

    [Theory]
    [InlineData("TCP4 198.51.100.7 10.0.0.1 40000")]
    [InlineData("TCP4 198.51.100.7 10.0.0.1 040000 21")]
    [InlineData("UDP4 198.51.100.7 10.0.0.1 40000 21")]
    [InlineData("TCP4 2001:db8::7 10.0.0.1 40000 21")]
    [InlineData("TCP4  198.51.100.7 10.0.0.1 40000 21")]
    [InlineData("TCP4 1 2 40000 21")]                  // was taken as client 0.0.0.1
    [InlineData("TCP4 198.51.100 10.0.0.1 40000 21")]
    [InlineData("TCP4 0x7f.0.0.1 10.0.0.1 40000 21")]
    [InlineData("TCP4 198.51.100.07 10.0.0.1 40000 21")]
    [InlineData("TCP4 198.51.100.256 10.0.0.1 40000 21")]
    [InlineData("TCP6 2001:db8::7%eth0 2001:db8::1 40000 21")]
    [InlineData("TCP6 [2001:db8::7] 2001:db8::1 40000 21")]
    public void V1_Malformed_Throws(string line) => Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV1(line));

    [Fact]
    public void V2_Ipv6_Local_AndBadCommands()
    {
        var block = new byte[36];
        IPAddress.Parse("2001:db8::7").GetAddressBytes().CopyTo(block, 0);
        IPAddress.Parse("2001:db8::1").GetAddressBytes().CopyTo(block, 16);
        block[32] = 0x9C;
        block[33] = 0x40; // 40000
        block[35] = 21;
        var header = ProxyHeader.ParseV2(0x21, 0x21, block);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 40000), header.Source);
        Assert.Equal(21, header.Destination!.Port);
        Assert.Null(ProxyHeader.ParseV2(0x20, 0x00, []).Source);
        Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV2(0x22, 0x11, new byte[12]));
        Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV2(0x11, 0x11, new byte[12]));
        Assert.Throws<ProxyHeaderException>(() => ProxyHeader.ParseV2(0x21, 0x21, new byte[12]));
    }
}
