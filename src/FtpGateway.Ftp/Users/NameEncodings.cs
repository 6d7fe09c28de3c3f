using System.Text;

namespace FtpGateway.Ftp.Users;

/// <summary>
/// The legacy code pages devices send file names in (<c>gb18030</c>, <c>shift_jis</c>, <c>latin1</c>,
/// <c>windows-1252</c>, ...): .NET's built-in encodings plus the code-page provider.
/// </summary>
public static class NameEncodings
{
    static NameEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The encoding named <paramref name="name"/>, with replacement fallbacks; null when unknown.</summary>
    public static Encoding? Find(string name)
    {
        try
        {
            return Encoding.GetEncoding(name.Trim(), EncoderFallback.ReplacementFallback, DecoderFallback.ReplacementFallback);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
