using System.Net;
using FtpGateway.Ftp.Security;

namespace FtpGateway.Ftp.Tests.Security;

public sealed class AddressListTests
{
    [Fact]
    public void Networks_MatchIPv4IPv6AndMappedAddresses()
    {
        var errors = new List<string>();
        var list = AddressList.Parse(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7", "::ffff:198.51.100.0/120"], "Security:AllowedAddresses", errors);
        Assert.Empty(errors);
        Assert.True(list.Contains(IPAddress.Parse("10.200.3.4")));
        Assert.True(list.Contains(IPAddress.Parse("::ffff:10.1.2.3"))); // a dual-mode socket's view of an IPv4 client
        Assert.True(list.Contains(IPAddress.Parse("2001:db8:1::5")));
        Assert.True(list.Contains(IPAddress.Parse("192.0.2.7")));
        Assert.False(list.Contains(IPAddress.Parse("192.0.2.8")));
        Assert.True(list.Contains(IPAddress.Parse("198.51.100.99")));
        Assert.False(list.Contains(IPAddress.Parse("2001:db9::1")));
        Assert.False(list.Contains(IPAddress.Parse("11.0.0.1")));
    }

    [Theory]
    [InlineData("10.0.0.1/8")] // host bits set
    [InlineData("10.0.0.0/33")]
    [InlineData("not-an-address")]
    [InlineData("10.0.0.0/")]
    [InlineData("")]
    public void BadEntries_AreStartUpErrorsNamingTheKey(string entry)
    {
        var errors = new List<string>();
        AddressList.Parse(["10.0.0.0/8", entry], "Security:DeniedAddresses", errors);
        Assert.Single(errors);
        Assert.StartsWith("Security:DeniedAddresses:1 ", errors[0], StringComparison.Ordinal);
    }
}
