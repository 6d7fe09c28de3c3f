namespace FtpGateway.Storage.Tests;

public class StoragePathTests
{
    private static StoragePath Resolve(string cwd, string input)
    {
        Assert.True(StoragePath.TryResolve(StoragePath.Parse(cwd), input, out var result), $"'{input}' should resolve");
        return result;
    }

    [Theory]
    [InlineData("/", "a", "/a")]
    [InlineData("/a", "b/c", "/a/b/c")]
    [InlineData("/a/b", "..", "/a")]
    [InlineData("/a/b", "../..", "/")]
    [InlineData("/a", "/x/y", "/x/y")]
    [InlineData("/a", "//x///y//", "/x/y")]
    [InlineData("/a", "./b/./c/.", "/a/b/c")]
    [InlineData("/a", "b\\c", "/a/b/c")]
    [InlineData("/a", "", "/a")]
    [InlineData("/", "name with spaces", "/name with spaces")]
    [InlineData("/", "Grüße/日本", "/Grüße/日本")]
    public void TryResolve_NormalisesSeparatorsDotsAndSlashes(string cwd, string input, string expected) =>
        Assert.Equal(expected, Resolve(cwd, input).Value);

    [Theory]
    [InlineData("/", "..")]
    [InlineData("/", "../../../etc/passwd")]
    [InlineData("/a", "../../..")]
    [InlineData("/a/b", "/../../../..")]
    [InlineData("/", "..\\..\\windows")]
    [InlineData("/", "a/../../..")]
    public void TryResolve_NeverClimbsAboveRoot(string cwd, string input)
    {
        var path = Resolve(cwd, input);
        Assert.DoesNotContain("..", path.Segments);
        var jail = StoragePath.Parse("/home/user");
        Assert.True(jail.Contains(jail.Append(path)), $"{jail.Append(path)} escaped {jail}");
    }

    [Fact]
    public void TryResolve_PercentEncodedDotsAreAnOrdinaryName()
    {
        // FTP paths are not URLs: "%2e%2e" is a file literally called that, which stays inside the jail.
        Assert.Equal("/a/%2e%2e", Resolve("/a", "%2e%2e").Value);
    }

    [Theory]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData("\r")]
    [InlineData("x\u007f")]
    public void TryResolve_RejectsControlCharacters(string input) =>
        Assert.False(StoragePath.TryResolve(StoragePath.Root, input, out _));

    [Fact]
    public void Parent_Name_AndChild_AreConsistent()
    {
        var p = StoragePath.Parse("/a/b/c");
        Assert.Equal("c", p.Name);
        Assert.Equal("/a/b", p.Parent.Value);
        Assert.Equal(p, p.Parent.Child("c"));
        Assert.Equal(StoragePath.Root, StoragePath.Root.Parent);
        Assert.Equal(string.Empty, StoragePath.Root.Name);
        Assert.Throws<ArgumentException>(() => p.Child(".."));
        Assert.Throws<ArgumentException>(() => p.Child("x/y"));
    }

    [Fact]
    public void Append_PlacesAPathUnderAnother_AndContainsKnowsSegmentBoundaries()
    {
        var root = StoragePath.Parse("/users/alice");
        var full = root.Append(StoragePath.Parse("/docs/a.txt"));
        Assert.Equal("/users/alice/docs/a.txt", full.Value);
        Assert.Equal(root, root.Append(StoragePath.Root));
        Assert.Equal(full, StoragePath.Root.Append(full));
        Assert.True(root.Contains(full));
        Assert.True(root.Contains(root));
        Assert.False(root.Contains(StoragePath.Parse("/users/alice2")));
    }
}
