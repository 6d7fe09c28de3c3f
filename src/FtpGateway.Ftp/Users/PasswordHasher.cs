using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FtpGateway.Ftp.Users;

/// <summary>PBKDF2-SHA256 password hashes in the form <c>pbkdf2-sha256$iterations$salt-base64$hash-base64</c>.</summary>
internal static class PasswordHasher
{
    public const int DefaultIterations = 100_000;
    private const string Scheme = "pbkdf2-sha256";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 10_000);
        return Create(password, iterations);
    }

    /// <summary>
    /// A hash of a random secret with exactly <paramref name="iterations"/> (imported hashes may have fewer than new
    /// ones may): what a login that fails without a hash of its own is checked against, to cost what others cost.
    /// </summary>
    internal static string Decoy(int iterations) => Create(Guid.NewGuid().ToString("N"), iterations);

    private static string Create(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Join('$', Scheme, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    /// <summary>The iterations of a well-formed hash; null otherwise.</summary>
    public static int? Iterations(string? hash) => hash is not null && TryParse(hash, out var iterations, out _, out _) ? iterations : null;

    /// <summary>True when <paramref name="hash"/> is a well-formed hash this class can verify.</summary>
    public static bool IsWellFormed(string hash) => TryParse(hash, out _, out _, out _);

    public static bool Verify(string password, string hash)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(hash, out var iterations, out var salt, out var expected))
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        t_iterations += iterations;
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    [ThreadStatic]
    private static long t_iterations;

    /// <summary>The key-derivation iterations <see cref="Verify"/> ran on this thread: the work a login cost, counted.</summary>
    internal static long IterationsOnThisThread => t_iterations;

    private static bool TryParse(string hash, out int iterations, out byte[] salt, out byte[] expected)
    {
        iterations = 0;
        salt = expected = [];
        var parts = hash?.Split('$') ?? [];
        if (parts.Length != 4 || parts[0] != Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1)
        {
            return false;
        }

        try
        {
            salt = Convert.FromBase64String(parts[2]);
            expected = Convert.FromBase64String(parts[3]);
            return salt.Length > 0 && expected.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
