using Microsoft.Extensions.Options;

namespace FtpGateway.Ftp;

/// <summary>
/// An options section that checks itself: <see cref="Validate"/> returns one message per invalid key, each naming
/// the key (<c>Ftp:PassivePortRange '60000-50000' is reversed ...</c>), and parses what needs parsing into the
/// typed values the gateway then uses. Every section validates so (the storage providers' options have the same
/// <c>Validate()</c>, in their own assemblies).
/// </summary>
internal interface IValidatedOptions
{
    /// <summary>The errors, each naming its key; none when the section is valid.</summary>
    IEnumerable<string> Validate();
}

/// <summary>Runs a section's own <see cref="IValidatedOptions.Validate"/> when the host validates options at start-up.</summary>
internal sealed class OptionsValidator<T> : IValidateOptions<T>
    where T : class, IValidatedOptions
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate().ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class OptionsValidation
{
    /// <summary>A section read outside the options system: its errors stop the start with one message naming every key.</summary>
    public static T ThrowIfInvalid<T>(this T options)
        where T : IValidatedOptions =>
        options.Validate().ToList() is { Count: > 0 } errors ? throw new InvalidOperationException(string.Join("; ", errors)) : options;
}
