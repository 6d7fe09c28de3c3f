using System.Diagnostics;
using System.Net;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>`dotnet FtpGateway.dll ...` with its output collected; killed on dispose.</summary>
internal sealed class RunningGateway : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RunningGateway(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string GatewayDll { get; } = Path.Combine(AppContext.BaseDirectory, "FtpGateway.dll");

    /// <summary>Configured on the command line; the management endpoint on a free loopback port.</summary>
    public static Task<RunningGateway> StartAsync(params string[] args) =>
        Task.FromResult(Start(["--Management:Port=0", "--Management:ListenAddress=127.0.0.1", .. args], new Dictionary<string, string>()));

    /// <summary>Configured by environment variables only, as a container is.</summary>
    public static RunningGateway StartWithEnvironment(IReadOnlyDictionary<string, string> environment) => Start([], environment);

    private static RunningGateway Start(string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(GatewayDll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment.Remove("OPENSSL_CONF"); // the gateway's own OpenSSL configuration, as a user's machine has it
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return new RunningGateway(Process.Start(start)!);
    }

    public async Task<string> WaitForOutputAsync(string text)
    {
        for (var i = 0; i < 600; i++)
        {
            var line = Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"The gateway never printed '{text}'. Output:\n{Output}");
    }

    public int ProcessId => _process.Id;

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async Task WaitForPortAsync(int port, IPAddress? address = null)
    {
        try
        {
            await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(30), () => _process.HasExited ? $"The gateway exited with {_process.ExitCode}" : null, address);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{ex.Message}. Output:\n{Output}", ex);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}. Output:\n{Output}", ex);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
