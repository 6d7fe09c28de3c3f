using System.Text;
using FtpGateway.Ftp.Users;

namespace FtpGateway.Ftp.Tests.Users;

/// <summary>What an operator reads when the users file is wrong: the entry (number, name, 1-based line), the field, what it takes.</summary>
public sealed class UsersFileTests
{
    private static string Refusal(string json) =>
        Assert.Throws<InvalidOperationException>(() => UsersFile.Parse(Encoding.UTF8.GetBytes(json), "/etc/ftp/users.json")).Message;

    [Fact]
    public void AnUnknownField_IsNamed_WithTheEntryItsNameAndLine()
    {
        var message = Refusal("{ \"users\": [\n  { \"name\": \"cam01\", \"password\": \"p\" },\n  { \"name\": \"cam02\",\n    \"maxSesions\": 2 }\n] }");
        Assert.Equal("Users:File '/etc/ftp/users.json', entry #2 ('cam02', line 3): unknown field 'maxSesions' (the fields are name, password, passwordHash, root, permissions, storage, allowedAddresses, maxSessions, maxUploadBytes, uploadBytesPerSecond, downloadBytesPerSecond, requireTls, disabled, fileNameEncoding, allowedFileTypes, deniedFileTypes, checkContentType, minUploadBytes, scan, createDirectories, onExistingFile, ownUploadsEditableFor, maxFilesPerMinute, maxFilesPerDay, maxBytesPerDay)", message);
        Assert.DoesNotContain(".NET", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"maxSessions\": \"two\"", "'maxSessions' must be a whole number, not \"two\"")]
    [InlineData("\"requireTls\": \"yes\"", "'requireTls' must be true or false, not \"yes\"")]
    [InlineData("\"permissions\": \"Admin\"", "'permissions' must be one of Full, ReadOnly, WriteOnly, not \"Admin\"")]
    [InlineData("\"allowedAddresses\": \"10.0.0.0/8\"", "'allowedAddresses' must be a list of strings, not \"10.0.0.0/8\"")]
    public void AWrongType_SaysWhatTheFieldTakes(string field, string expected)
    {
        var message = Refusal($"{{ \"users\": [ {{ \"name\": \"cam01\", {field} }} ] }}");
        Assert.Equal($"Users:File '/etc/ftp/users.json', entry #1 ('cam01', line 1): {expected}", message);
        Assert.DoesNotContain("System.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASyntaxError_HasItsOneBasedLineAndColumn()
    {
        var message = Refusal("{ \"users\": [\n  { \"name\": \"cam01\" },\n  { \"name\" \"cam02\" }\n] }");
        Assert.StartsWith("Users:File '/etc/ftp/users.json', line 3, column 12: not valid JSON", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"users\": [ null ] }", "entry #1 (line 1): null instead of a user")]
    [InlineData("{ \"people\": [] }", "no \"users\" array")]
    [InlineData("[]", "no \"users\" array")]
    public void WhatIsNotAUser_IsSaidPlainly(string json, string expected) => Assert.EndsWith(expected + (expected.StartsWith("no", StringComparison.Ordinal) ? " (the file is { \"users\": [ ... ] })" : string.Empty), Refusal(json), StringComparison.Ordinal);

    [Fact]
    public void AGoodFile_GivesEveryEntry_WithWhereItStands()
    {
        var entries = UsersFile.Parse("{ \"users\": [ { \"name\": \"a\", \"password\": \"p\", \"permissions\": \"writeonly\", \"maxSessions\": 2 } ] }"u8.ToArray(), "f");
        var (options, where) = Assert.Single(entries);
        Assert.Equal(UserPermissions.WriteOnly, options.Permissions);
        Assert.Equal(2, options.MaxSessions);
        Assert.Equal("Users:File 'f', entry #1 ('a', line 1)", where);
    }
}
