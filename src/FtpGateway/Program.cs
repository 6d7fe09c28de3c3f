using FtpGateway;
using FtpGateway.Ftp.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

switch (args.FirstOrDefault())
{
    case "hash-password":
        return HashPassword(args[1..]);
    case "--help" or "-h" or "-?" or "help":
        Console.WriteLine(Usage);
        return 0;
    case "--version" or "version":
        Console.WriteLine($"FtpGateway {Version()}");
        return 0;
    case { } verb when !verb.StartsWith('-') && !verb.Contains('=', StringComparison.Ordinal):
        Console.Error.WriteLine($"FtpGateway: unknown command '{verb}' (see FtpGateway --help)");
        return 2;
    default:
        return await RunAsync(args);
}

// Configuration errors found at start-up (unknown keys, invalid values, unreachable storage) end the process
// with one line naming the problem and exit code 1, not an unhandled-exception dump.
static async Task<int> RunAsync(string[] args)
{
    Microsoft.AspNetCore.Builder.WebApplication host;
    try
    {
        // The configuration is read (no cryptography yet), then OpenSSL is set up before anything loads it.
        var builder = GatewayHost.CreateBuilder(args);
        TlsLibrary.UseGatewayDefaults(TlsLibrary.LegacyRequested(builder.Configuration));
        host = GatewayHost.Build(builder);
    }
    catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException or FormatException)
    {
        return CannotStart(ex);
    }

    await using (host)
    {
        try
        {
            await host.StartAsync();
        }
        catch (Exception ex)
        {
            return CannotStart(ex);
        }

        host.Services.GetRequiredService<StartupState>().Started = true;

        await host.WaitForShutdownAsync();
    }

    return 0;
}

// One line on standard error and exit code 1, whatever stopped the start: the message names the key.
static int CannotStart(Exception ex)
{
    var message = ex switch
    {
        InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException => ex.Message,
        IOException when ex.Message.StartsWith("Failed to bind", StringComparison.Ordinal) =>
            $"Management:Port: {ex.Message.TrimEnd('.')} (Management:Port and Management:ListenAddress choose it)",
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };
    Console.Error.WriteLine($"FtpGateway: cannot start: {message.ReplaceLineEndings("; ")}");
    return 1;
}

static string Version() =>
    typeof(GatewayHost).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

// `FtpGateway hash-password [--iterations N]`: reads the password from standard input (or prompts without
// echo on a terminal) and prints the value for Users:N:PasswordHash.
static int HashPassword(string[] args)
{
    var iterations = PasswordHasher.DefaultIterations;
    if (args.Length == 2 && args[0] == "--iterations" && int.TryParse(args[1], out var n) && n >= 10_000)
    {
        iterations = n;
    }
    else if (args.Length != 0)
    {
        Console.Error.WriteLine("usage: FtpGateway hash-password [--iterations N (>= 10000)]  (password on standard input)");
        return 2;
    }

    string? password;
    if (Console.IsInputRedirected)
    {
        password = Console.In.ReadLine();
    }
    else
    {
        Console.Error.Write("Password: ");
        var chars = new System.Text.StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace && chars.Length > 0)
            {
                chars.Length--;
            }
            else if (!char.IsControl(key.KeyChar))
            {
                chars.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        password = chars.ToString();
    }

    if (string.IsNullOrEmpty(password))
    {
        Console.Error.WriteLine("hash-password: empty password");
        return 2;
    }

    Console.WriteLine(PasswordHasher.Hash(password, iterations));
    return 0;
}

public partial class Program
{
    private const string Usage = """
        FtpGateway: an FTP server whose files live in storage (local disk, S3, Azure Blob Storage).

        usage:
          FtpGateway [--config PATH] [--Section:Key=value ...]
                                                    run the gateway (configuration: appsettings.json beside the
                                                    program, then the JSON file --config names, environment
                                                    variables such as Ftp__Port=2121, and --Key=value
                                                    arguments, later ones winning)
          FtpGateway hash-password [--iterations N] print a PasswordHash for a password read from standard input
          FtpGateway --version                      print the version
          FtpGateway --help                         print this text

        The README lists every configuration key.
        """;
}
