using FtpGateway.Ftp.Users;

namespace FtpGateway.Ftp.Tests.Users;

/// <summary>Users and passwords: what a failure costs, hashes, entries checked at start-up.</summary>
public sealed class UserDirectoryTests
{
    [Fact]
    public void EveryFailedLogin_CostsTheSame_WhetherTheNameExistsOrNot()
    {
        // Regression: an unknown name was refused at once while a hashed user cost a key derivation, so the
        // time of a failure told which names exist.
        var users = new UserDirectory(
            [
                new UserOptions { Name = "hashed", PasswordHash = PasswordHasher.Hash("right", 10_000) },
                new UserOptions { Name = "plain", Password = "right" },
            ],
            new AnonymousOptions());
        // Counted, not timed: each failure runs one derivation of the same iterations, whether the name exists or not.
        foreach (var name in new[] { "hashed", "nobody", "plain" })
        {
            var before = PasswordHasher.IterationsOnThisThread;
            Assert.Null(users.Authenticate(name, "wrong"));
            Assert.Equal(10_000, PasswordHasher.IterationsOnThisThread - before);
        }
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
}
