namespace FtpGateway.Ftp.Tests;

/// <summary>Every section's validation names the bad key.</summary>
public sealed class OptionsValidationTests
{
    [Fact]
    public void Options_Validation_NamesTheBadKey()
    {
        var result = new OptionsValidator<FtpServerOptions>().Validate(null, new FtpServerOptions { PassivePortRange = "60000-50000", PublicAddress = "not-an-ip", Port = 70000 });
        Assert.True(result.Failed);
        Assert.Contains("Ftp:PassivePortRange", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Ftp:PublicAddress", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Ftp:Port", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new OptionsValidator<FtpServerOptions>().Validate(null, new FtpServerOptions { PassivePortRange = "50000-50099" }).Succeeded);
    }

    [Fact]
    public void MaxIdleTimeout_ShorterThanIdleTimeout_IsRefused()
    {
        var result = new OptionsValidator<FtpServerOptions>().Validate(null, new FtpServerOptions { IdleTimeout = TimeSpan.FromHours(3), MaxIdleTimeout = TimeSpan.FromHours(2) });
        Assert.True(result.Failed);
        Assert.Contains("Ftp:MaxIdleTimeout must not be shorter than Ftp:IdleTimeout", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void DefenceOptions_Validation_NamesTheBadKey()
    {
        using var certificates = new TestSupport.TempDirectory();
        var (certificate, key) = TestSupport.TestCertificates.CreateTlsFiles(certificates.Path);
        var ftp = new FtpServerOptions
        {
            PassivePortRange = "50000-50099",
            LoginTimeout = TimeSpan.Zero,
            MinDataRateBytesPerSecond = -1,
            Tls = { CertificatePath = certificate, KeyPath = key, ImplicitPort = 50010 },
            ProxyProtocol = { TrustedProxies = ["10.0.0.1/8"] },
        };
        var result = new OptionsValidator<FtpServerOptions>().Validate(null, ftp);
        Assert.Contains("Ftp:LoginTimeout", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Ftp:MinDataRateBytesPerSecond", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Ftp:ProxyProtocol:TrustedProxies:0", result.FailureMessage, StringComparison.Ordinal);

        ftp.LoginTimeout = TimeSpan.FromMinutes(1);
        ftp.MinDataRateBytesPerSecond = 0;
        ftp.ProxyProtocol.TrustedProxies = [];
        Assert.Contains("Ftp:Tls:ImplicitPort 50010 must differ", new OptionsValidator<FtpServerOptions>().Validate(null, ftp).FailureMessage, StringComparison.Ordinal);

        var security = new FtpGateway.Ftp.Security.SecurityOptions { AllowedAddresses = ["x"], Bans = { MaxFailures = 0, Exempt = ["10.0.0.0/8", "::1/129"] } };
        var securityResult = new OptionsValidator<FtpGateway.Ftp.Security.SecurityOptions>().Validate(null, security);
        Assert.Contains("Security:AllowedAddresses:0", securityResult.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Security:Bans:Exempt:1", securityResult.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Security:Bans:MaxFailures", securityResult.FailureMessage, StringComparison.Ordinal);
    }
}
