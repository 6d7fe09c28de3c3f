using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>charts/ftp-gateway rendered by the real helm binary and checked against the Kubernetes schemas.</summary>
internal static class HelmChart
{
    public const string Release = "ftpgw";
    public const string Namespace = "ci";
    public const string FullName = "ftpgw-ftp-gateway";

    public static string Directory => TestTools.RepositoryPath(Path.Combine("charts", "ftp-gateway"));

    /// <summary>A scenario values file under ci/, by its short name ("s3" → ci/s3-values.yaml).</summary>
    public static string Scenario(string name) => Path.Combine(Directory, "ci", $"{name}-values.yaml");

    public static async Task<ExternalProcess.Result> HelmAsync(params string[] args) =>
        await ExternalProcess.RunAsync(await TestTools.HelmAsync(), args, timeout: TimeSpan.FromMinutes(2));

    /// <summary>`helm template` with a scenario (or the defaults) and --set overrides; fails unless it renders.</summary>
    public static async Task<string> TemplateAsync(string? scenario, params string[] sets)
    {
        var result = await HelmAsync(TemplateArguments(scenario, sets));
        Assert.True(result.ExitCode == 0, $"helm template failed: {result}");
        return result.StandardOutput;
    }

    public static string[] TemplateArguments(string? scenario, string[] sets) =>
        ["template", Release, Directory, "--namespace", Namespace, .. scenario is null ? Array.Empty<string>() : ["-f", Scenario(scenario)], .. sets.SelectMany(s => new[] { "--set", s })];

    /// <summary>Renders and validates (tests/tools/validate-manifests.mjs); fails on any schema or API-server rule violation.</summary>
    public static async Task<RenderedChart> RenderAsync(string? scenario, params string[] sets)
    {
        var manifests = await TemplateAsync(scenario, sets);
        var validation = await ValidateAsync(manifests);
        Assert.True(validation.ExitCode == 0, $"the rendered manifests are not valid Kubernetes objects:\n{validation.StandardError}");
        return new RenderedChart(JsonDocument.Parse(validation.StandardOutput));
    }

    public static async Task<ExternalProcess.Result> ValidateAsync(string manifests)
    {
        var tools = await TestTools.NodeToolsAsync();
        return await ExternalProcess.RunAsync(ExternalProcess.Require("node"), [Path.Combine(tools, "validate-manifests.mjs")], standardInput: manifests, workingDirectory: tools);
    }
}

/// <summary>The objects of one rendering, with what a kubelet would make of the gateway's pod.</summary>
internal sealed partial class RenderedChart(JsonDocument json)
{
    public IReadOnlyList<JsonElement> Objects { get; } = [.. json.RootElement.EnumerateArray()];

    public IEnumerable<string> Kinds => Objects.Select(o => o.GetProperty("kind").GetString()!);

    public JsonElement Get(string kind, string name = HelmChart.FullName) => Objects.Single(o => Is(o, kind, name));

    public bool Has(string kind) => Kinds.Contains(kind);

    public bool Has(string kind, string name) => Objects.Any(o => Is(o, kind, name));

    private static bool Is(JsonElement o, string kind, string name) =>
        o.GetProperty("kind").GetString() == kind && o.GetProperty("metadata").GetProperty("name").GetString() == name;

    /// <summary>The workload: a Deployment, or in the HA mode a StatefulSet.</summary>
    public JsonElement Deployment => Has("StatefulSet") ? Get("StatefulSet") : Get("Deployment");

    public JsonElement PodSpec => Deployment.GetProperty("spec").GetProperty("template").GetProperty("spec");

    public JsonElement Container => PodSpec.GetProperty("containers").EnumerateArray().Single();

    public JsonElement FtpService => Get("Service");

    public JsonElement ManagementService => Get("Service", HelmChart.FullName + "-management");

    public int ContainerPort(string name) =>
        Container.GetProperty("ports").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name).GetProperty("containerPort").GetInt32();

    /// <summary>The literal value of an environment variable of the container (null when absent or not literal).</summary>
    public string? Env(string name) =>
        Container.GetProperty("env").EnumerateArray()
            .Where(e => e.GetProperty("name").GetString() == name && e.TryGetProperty("value", out _))
            .Select(e => e.GetProperty("value").GetString())
            .SingleOrDefault();

    /// <summary>The decoded data of a Secret the chart renders.</summary>
    public Dictionary<string, string> SecretData(string name = HelmChart.FullName) =>
        Get("Secret", name).GetProperty("data").EnumerateObject()
            .ToDictionary(p => p.Name, p => Encoding.UTF8.GetString(Convert.FromBase64String(p.Value.GetString()!)));

    /// <summary>
    /// The container's environment as the kubelet builds it: envFrom first, then env (which wins), Secrets from
    /// the rendering or from <paramref name="existingSecrets"/> (what an operator created beforehand), the
    /// downward API, and $(VAR) references to variables defined earlier.
    /// </summary>
    public Dictionary<string, string> PodEnvironment(IReadOnlyDictionary<string, Dictionary<string, string>> existingSecrets, string podName = "ftpgw-ftp-gateway-0")
    {
        Dictionary<string, string> Secret(string name) =>
            existingSecrets.TryGetValue(name, out var existing) ? existing
            : Has("Secret", name) ? SecretData(name)
            : throw new InvalidOperationException($"the pod needs Secret {name}, which neither the chart nor the test provides");

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Container.TryGetProperty("envFrom", out var envFrom))
        {
            foreach (var source in envFrom.EnumerateArray())
            {
                foreach (var (key, value) in Secret(source.GetProperty("secretRef").GetProperty("name").GetString()!))
                {
                    environment[key] = value;
                }
            }
        }

        foreach (var variable in Container.GetProperty("env").EnumerateArray())
        {
            var name = variable.GetProperty("name").GetString()!;
            if (variable.TryGetProperty("value", out var value))
            {
                environment[name] = Reference().Replace(value.GetString()!, m => environment.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
            }
            else if (variable.GetProperty("valueFrom").TryGetProperty("secretKeyRef", out var secretKey))
            {
                environment[name] = Secret(secretKey.GetProperty("name").GetString()!)[secretKey.GetProperty("key").GetString()!];
            }
            else
            {
                environment[name] = variable.GetProperty("valueFrom").GetProperty("fieldRef").GetProperty("fieldPath").GetString() switch
                {
                    "metadata.name" => podName,
                    "metadata.namespace" => HelmChart.Namespace,
                    var other => throw new InvalidOperationException($"unexpected fieldRef {other}"),
                };
            }
        }

        return environment;
    }

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex Reference();
}
