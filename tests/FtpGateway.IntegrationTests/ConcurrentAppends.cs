using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>Several sessions appending lines to one file at once, each line in its own APPE.</summary>
internal static class ConcurrentAppends
{
    /// <summary>Runs the appends; returns the lines answered 226 and how many were refused (never both).</summary>
    public static async Task<(List<string> Committed, int Refused)> RunAsync(int port, string path, int sessions, int appends)
    {
        var committed = new List<string>();
        var refused = 0;
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(async s =>
        {
            await using var c = await RawFtpClient.LoginAsync(port, Gateway.User, Gateway.Password);
            for (var i = 0; i < appends; i++)
            {
                var line = $"session {s} line {i}";
                var reply = await c.UploadAsync("APPE " + path, Encoding.ASCII.GetBytes(line + "\n"));
                lock (committed)
                {
                    if (reply.Code == 226)
                    {
                        committed.Add(line);
                    }
                    else
                    {
                        Assert.Equal(451, reply.Code); // a conflict: transient, nothing written
                        refused++;
                    }
                }
            }
        }));
        return (committed, refused);
    }

    /// <summary>Every line answered 226 is in the file, once, and nothing else is.</summary>
    public static void AssertNothingLost(IReadOnlyList<string> committed, string content) =>
        Assert.Equal(committed.Order(StringComparer.Ordinal), content.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
}
