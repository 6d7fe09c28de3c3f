using System.Text;

namespace FtpGateway.Ftp.Users;

/// <summary>
/// The legacy code pages devices send file names in (<c>gb18030</c>, <c>shift_jis</c>, <c>latin1</c>,
/// <c>windows-1252</c>, ...): .NET's built-in encodings plus the code-page provider.
/// </summary>
internal static class NameEncodings
{
    static NameEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>
    /// The encoding named <paramref name="name"/>, with replacement fallbacks; null when unknown or when it does not
    /// keep ASCII as ASCII (UTF-16, UTF-32, EBCDIC): FTP commands themselves are ASCII.
    /// </summary>
    public static Encoding? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        try
        {
            var encoding = Encoding.GetEncoding(name.Trim(), EncoderFallback.ReplacementFallback, DecoderFallback.ReplacementFallback);
            const string Probe = "STOR a/Z.~\r\n";
            return encoding.GetBytes(Probe).AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(Probe)) ? encoding : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
