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

/// <summary>One user: an entry of the <c>Users</c> configuration array, of the users file, or an HTTP hook's answer.</summary>
public sealed class UserOptions
{
    public string Name { get; set; } = string.Empty;

    /// <summary>Plain password, for local use and tests. Prefer <see cref="PasswordHash"/>.</summary>
    public string? Password { get; set; }

    /// <summary>Output of <c>FtpGateway hash-password</c>: <c>pbkdf2-sha256$iterations$salt$hash</c>.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>The user's root inside the storage; the user cannot see or touch anything outside it. <c>{user}</c> is the user's name.</summary>
    public string Root { get; set; } = "/";

    public UserPermissions Permissions { get; set; } = UserPermissions.Full;

    /// <summary>The storage target (<c>Storage:Targets:&lt;name&gt;</c>); empty: the top-level <c>Storage</c>.</summary>
    public string? Storage { get; set; }

    /// <summary>Networks (CIDR) this user may log in from; empty: anywhere.</summary>
    public List<string> AllowedAddresses { get; set; } = [];

    /// <summary>Concurrent sessions of this user on one gateway; empty: no limit.</summary>
    public int? MaxSessions { get; set; }

    /// <summary>The largest file this user may store (the final size, for APPE and REST too); empty: no limit.</summary>
    public long? MaxUploadBytes { get; set; }

    /// <summary>Upload bandwidth of this user, all its sessions on one gateway together; empty: no limit.</summary>
    public long? UploadBytesPerSecond { get; set; }

    /// <summary>Download bandwidth of this user, all its sessions on one gateway together; empty: no limit.</summary>
    public long? DownloadBytesPerSecond { get; set; }

    /// <summary>This user must log in over TLS (AUTH TLS or implicit) and transfer with PROT P.</summary>
    public bool RequireTls { get; set; }

    /// <summary>A disabled user cannot log in; its open sessions are closed after their running transfer.</summary>
    public bool Disabled { get; set; }

    /// <summary>The code page the device sends file names in (e.g. <c>gb18030</c>, <c>latin1</c>); empty: UTF-8. Stored as UTF-8.</summary>
    public string? FileNameEncoding { get; set; }

    /// <summary>File name extensions this user may store (<c>jpg</c>, <c>mp4</c>; case-insensitive); empty: any. A name outside them gets 553 before 150.</summary>
    public List<string> AllowedFileTypes { get; set; } = [];

    /// <summary>File name extensions this user may not store (<c>exe</c>, <c>js</c>); 553 before 150.</summary>
    public List<string> DeniedFileTypes { get; set; } = [];

    /// <summary>For the common types (JPEG, PNG, GIF, TIFF, MP4/MOV, AVI, PDF, ZIP, GZIP, XML, text) the first bytes must match the extension, or the upload is refused after its data (550, nothing stored).</summary>
    public bool CheckContentType { get; set; }

    /// <summary>The smallest upload this user may store (an empty or truncated file from a failing device gets 550); empty: any.</summary>
    public long? MinUploadBytes { get; set; }

    /// <summary>Scan this user's uploads for malware before they commit (with Scanning:Clamd:Address set); false skips it.</summary>
    public bool Scan { get; set; } = true;

    /// <summary>STOR/APPE/STOU into a missing directory creates it, and MKD a/b/c its missing parents; null: Ftp:CreateDirectories.</summary>
    public bool? CreateDirectories { get; set; }

    /// <summary>What a STOR to a name that exists does: replace it (default), store under the next free name, or refuse.</summary>
    public ExistingFilePolicy OnExistingFile { get; set; } = ExistingFilePolicy.Overwrite;

    /// <summary>
    /// For a WriteOnly user: how long it may delete and rename files it stored itself, and remove empty directories it
    /// made (a device's "Test" button). Null: 00:10:00 for WriteOnly; 00:00:00: never.
    /// </summary>
    public TimeSpan? OwnUploadsEditableFor { get; set; }

    /// <summary>Uploads begun per minute beyond which STOR gets 450 (a looping device); null: no limit.</summary>
    public int? MaxFilesPerMinute { get; set; }

    /// <summary>Uploads stored per UTC day beyond which STOR gets 552; null: no limit.</summary>
    public int? MaxFilesPerDay { get; set; }

    /// <summary>Bytes stored per UTC day beyond which an upload gets 552 and stores nothing; null: no limit.</summary>
    public long? MaxBytesPerDay { get; set; }
}

/// <summary>What a STOR to a name that exists does (<c>onExistingFile</c>).</summary>
public enum ExistingFilePolicy
{
    /// <summary>The new file replaces the old one once it is complete.</summary>
    Overwrite,

    /// <summary>The new file is stored as <c>name.1.ext</c>, <c>name.2.ext</c>, …; the 150 and the 226 name it.</summary>
    Rename,

    /// <summary>553 before 150; nothing is stored.</summary>
    Reject,
}

/// <summary>
/// Configuration section <c>Anonymous</c>: read-only by default; <see cref="UserPermissions.WriteOnly"/> makes a drop
/// box for cameras that can only log in as anonymous, which needs <see cref="AllowedAddresses"/>.
/// </summary>
public sealed class AnonymousOptions
{
    public const string SectionName = "Anonymous";

    public bool Enabled { get; set; }

    public string Root { get; set; } = "/";

    /// <summary><c>ReadOnly</c> (default) or <c>WriteOnly</c> (a drop box).</summary>
    public UserPermissions Permissions { get; set; } = UserPermissions.ReadOnly;

    /// <summary>Where anonymous sessions may come from (addresses and CIDR ranges); required with WriteOnly.</summary>
    public List<string> AllowedAddresses { get; set; } = [];

    /// <summary>The storage target anonymous users use; empty: the default storage.</summary>
    public string? Storage { get; set; }

    /// <summary>As the users' <c>createDirectories</c>; null: Ftp:CreateDirectories.</summary>
    public bool? CreateDirectories { get; set; }

    /// <summary>As the users' <c>onExistingFile</c>.</summary>
    public ExistingFilePolicy OnExistingFile { get; set; } = ExistingFilePolicy.Overwrite;

    /// <summary>As the users' <c>ownUploadsEditableFor</c>.</summary>
    public TimeSpan? OwnUploadsEditableFor { get; set; }

    /// <summary>As the users' <c>maxFilesPerMinute</c>.</summary>
    public int? MaxFilesPerMinute { get; set; }

    /// <summary>As the users' <c>maxFilesPerDay</c>.</summary>
    public int? MaxFilesPerDay { get; set; }

    /// <summary>As the users' <c>maxBytesPerDay</c>.</summary>
    public long? MaxBytesPerDay { get; set; }
}
