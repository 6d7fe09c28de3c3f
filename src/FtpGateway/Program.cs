using FtpGateway;
using FtpGateway.Ftp.Users;
using Microsoft.Extensions.Hosting;

if (args.Length > 0 && args[0] == "hash-password")
{
    return HashPassword(args[1..]);
}

return await RunAsync(args);

// Configuration errors found at start-up (unknown keys, invalid values, unreachable storage) end the process
// with one line naming the problem and exit code 1, not an unhandled-exception dump.
static async Task<int> RunAsync(string[] args)
{
    TlsLibrary.UseGatewayDefaults(); // before anything loads OpenSSL
    Microsoft.AspNetCore.Builder.WebApplication host;
    try
    {
        host = GatewayHost.Build(GatewayHost.CreateBuilder(args));
    }
    catch (InvalidOperationException ex)
    {
        return CannotStart(ex);
    }

    await using (host)
    {
        try
        {
            await host.StartAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            return CannotStart(ex);
        }

        await host.WaitForShutdownAsync();
    }

    return 0;
}

static int CannotStart(Exception ex)
{
    Console.Error.WriteLine($"FtpGateway: cannot start: {ex.Message}");
    return 1;
}

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
