using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;

namespace FtpGateway.Ftp.Commands;

/// <summary>Where the client is (RFC 959 §4.1.1, §4.1.3): CWD, CDUP, PWD, SMNT.</summary>
internal static class NavigationCommands
{
    public static async ValueTask<FtpReply> Cwd(SessionContext s, string argument, CancellationToken ct)
    {
        var path = s.Resolve(argument);
        if (path.Refusal is { } refusal)
        {
            return refusal;
        }

        var entry = await s.StatAsync(path.Value, ct);
        if (entry is not { IsDirectory: true })
        {
            return FtpReply.Of(ReplyCodes.FileUnavailable, entry is null ? "No such directory." : "Not a directory.");
        }

        s.Navigation.WorkingDirectory = path.Value;
        return FtpReply.Of(ReplyCodes.FileActionOkay, $"Directory changed to {path.Value.Quoted()}.");
    }

    /// <summary>RFC 959 §5.4 lists 200 for CDUP.</summary>
    public static FtpReply Cdup(SessionContext s, string argument)
    {
        s.Navigation.WorkingDirectory = s.Navigation.WorkingDirectory.Parent;
        return FtpReply.Of(ReplyCodes.Okay, $"Directory changed to {s.Navigation.WorkingDirectory.Quoted()}.");
    }

    public static FtpReply Pwd(SessionContext s, string argument) =>
        FtpReply.Of(ReplyCodes.PathCreated, $"{s.Navigation.WorkingDirectory.Quoted()} is the current directory.");

    public static FtpReply Smnt(SessionContext s, string argument) =>
        FtpReply.Of(ReplyCodes.NotImplemented, "SMNT not implemented: there is one file system.");
}
