using FtpGateway.Ftp.Users;

namespace FtpGateway.Ftp.Tests;

public sealed class UserTests
{
    [Fact]
    public void EveryFailedLogin_CostsTheSame_WhetherTheNameExistsOrNot()
    {
        // Regression: an unknown name was refused at once while a hashed user cost a key derivation, so the
        // time of a failure told which names exist. Each path is timed by its fastest of several runs.
        var users = new UserDirectory(
            [
                new UserOptions { Name = "hashed", PasswordHash = PasswordHasher.Hash("right", 60_000) },
                new UserOptions { Name = "plain", Password = "right" },
            ],
            new AnonymousOptions());
        // The names are timed in turns, so a busy moment on a shared CI machine hits all of them alike. A failure
        // that skips the derivation costs microseconds against tens of milliseconds, far outside the wide band.
        string[] names = ["hashed", "nobody", "plain"];
        var fastest = names.ToDictionary(n => n, _ => double.MaxValue);
        for (var round = 0; round < 9; round++)
        {
            foreach (var name in names)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                Assert.Null(users.Authenticate(name, "wrong"));
                fastest[name] = Math.Min(fastest[name], clock.Elapsed.TotalMilliseconds);
            }
        }

        var hashed = fastest["hashed"];
        Assert.InRange(fastest["nobody"], hashed * 0.3, hashed * 3);
        Assert.InRange(fastest["plain"], hashed * 0.3, hashed * 3);
    }

    [Fact]
    public void HashesWithFewIterations_StillStartTheGateway()
    {
        // Regression: the decoy for failed logins took the most common iteration count through Hash(), which
        // refuses fewer than 10,000, so imported 5,000-iteration hashes kept the gateway from starting.
        const string imported = "pbkdf2-sha256$5000$c2FsdHNhbHRzYWx0c2FsdA==$5Y0ZbVyxxR3yzAv0Wz1NNXxKzE1pa6sK8nBv2Tq0eCg=";
        var users = new UserDirectory([new UserOptions { Name = "old", PasswordHash = imported }], new AnonymousOptions());
        Assert.Null(users.Authenticate("old", "wrong"));
        Assert.Null(users.Authenticate("nobody", "wrong"));
    }

    [Fact]
    public void PasswordHash_VerifiesOnlyTheRightPassword()
    {
        var hash = PasswordHasher.Hash("correct horse", 10_000);
        Assert.StartsWith("pbkdf2-sha256$10000$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("correct horse", hash));
        Assert.False(PasswordHasher.Verify("correct horsE", hash));
        Assert.False(PasswordHasher.Verify("x", "not-a-hash"));
        Assert.NotEqual(hash, PasswordHasher.Hash("correct horse", 10_000)); // salted
    }

    [Fact]
    public void Directory_AuthenticatesPlainAndHashedUsers_AndAnonymousOnlyWhenEnabled()
    {
        var users = new UserDirectory(
            [
                new UserOptions { Name = "plain", Password = "p1", Root = "/plain" },
                new UserOptions { Name = "hashed", PasswordHash = PasswordHasher.Hash("p2", 10_000), Permissions = UserPermissions.WriteOnly },
            ],
            new AnonymousOptions());
        Assert.Equal("/plain", users.Authenticate("plain", "p1")!.Root.Value);
        Assert.Null(users.Authenticate("plain", "p2"));
        Assert.Equal(UserPermissions.WriteOnly, users.Authenticate("hashed", "p2")!.Permissions);
        Assert.Null(users.Authenticate("nobody", "p1"));
        Assert.Null(users.Authenticate("anonymous", "me@example.com"));

        var withAnonymous = new UserDirectory([], new AnonymousOptions { Enabled = true, Root = "/pub" });
        var anon = withAnonymous.Authenticate("ftp", "anything");
        Assert.NotNull(anon);
        Assert.Equal(UserPermissions.ReadOnly, anon.Permissions);
        Assert.Equal("/pub", anon.Root.Value);
    }

    [Theory]
    [InlineData("", "p", null)]
    [InlineData("u", null, null)]
    [InlineData("u", null, "garbage")]
    public void Directory_RejectsInvalidEntriesAtStartUp(string name, string? password, string? hash) =>
        Assert.Throws<InvalidOperationException>(() => new UserDirectory([new UserOptions { Name = name, Password = password, PasswordHash = hash }], new AnonymousOptions()));

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
