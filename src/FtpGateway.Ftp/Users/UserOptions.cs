namespace FtpGateway.Ftp.Users;

/// <summary>What a user may do.</summary>
public enum UserPermissions
{
    /// <summary>Everything.</summary>
    Full,

    /// <summary>List and download only.</summary>
    ReadOnly,

    /// <summary>A drop box: change directory, create directories and upload; no listing, download, delete or rename.</summary>
    WriteOnly,
}

/// <summary>One entry of the <c>Users</c> configuration array.</summary>
public sealed class UserOptions
{
    public string Name { get; set; } = string.Empty;

    /// <summary>Plain password, for local use and tests. Prefer <see cref="PasswordHash"/>.</summary>
    public string? Password { get; set; }

    /// <summary>Output of <c>FtpGateway hash-password</c>: <c>pbkdf2-sha256$iterations$salt$hash</c>.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>The user's root inside the storage; the user cannot see or touch anything outside it.</summary>
    public string Root { get; set; } = "/";

    public UserPermissions Permissions { get; set; } = UserPermissions.Full;
}

/// <summary>Configuration section <c>Anonymous</c>. Anonymous users are always read-only.</summary>
public sealed class AnonymousOptions
{
    public const string SectionName = "Anonymous";

    public bool Enabled { get; set; }

    public string Root { get; set; } = "/";
}
