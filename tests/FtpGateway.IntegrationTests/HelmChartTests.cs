using System.Text.Json;
using System.Text.Json.Nodes;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// charts/ftp-gateway, rendered by the real helm (4.1.4) with its defaults and each ci/ scenario, and checked
/// the way a cluster would check it (tests/tools/validate-manifests.mjs). No cluster runs here; what a kubelet
/// does with the pod is in <see cref="ChartDeploymentTests"/>.
/// </summary>
public sealed class HelmChartTests
{
    public static TheoryData<string> Scenarios => ["default", "filesystem", "s3", "azure"];

    public static TheoryData<string> AllScenarios => ["default", "filesystem", "s3", "azure", "ha", "ha-shared"];

    private static string? ScenarioOrDefault(string scenario) => scenario == "default" ? null : scenario;

    [Theory]
    [MemberData(nameof(AllScenarios))]
    public async Task LintStrict_Passes(string scenario)
    {
        string[] values = ScenarioOrDefault(scenario) is { } s ? ["-f", HelmChart.Scenario(s)] : [];
        var lint = await HelmChart.HelmAsync(["lint", "--strict", HelmChart.Directory, .. values]);
        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.Contains("0 chart(s) failed", lint.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("default", "Deployment PersistentVolumeClaim Service Service ServiceAccount")]
    [InlineData("filesystem", "Deployment PersistentVolumeClaim Secret Service Service ServiceAccount")]
    [InlineData("s3", "ConfigMap Deployment PodDisruptionBudget PrometheusRule Secret Secret Service Service ServiceAccount ServiceMonitor")]
    [InlineData("azure", "Deployment PodDisruptionBudget Service Service ServiceAccount")]
    [InlineData("ha", "PodDisruptionBudget Secret Service Service Service Service Service Service ServiceAccount StatefulSet")]
    [InlineData("ha-shared", "HorizontalPodAutoscaler PodDisruptionBudget Secret Service Service Service ServiceAccount StatefulSet")]
    public async Task EveryScenario_RendersValidKubernetesObjects(string scenario, string kinds)
    {
        var chart = await HelmChart.RenderAsync(ScenarioOrDefault(scenario));
        Assert.Equal(kinds, string.Join(' ', chart.Kinds.Order(StringComparer.Ordinal)));
        Assert.All(chart.Objects, o => Assert.Equal(HelmChart.Namespace, o.GetProperty("metadata").GetProperty("namespace").GetString()));
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task TheServiceThePodAndTheGateway_AgreeOnEveryPort(string scenario)
    {
        var chart = await HelmChart.RenderAsync(ScenarioOrDefault(scenario));
        var range = chart.Env("Ftp__PassivePortRange")!.Split('-').Select(int.Parse).ToArray();
        var passive = Enumerable.Range(range[0], range[1] - range[0] + 1).ToList();
        var spec = chart.FtpService.GetProperty("spec");
        var ports = spec.GetProperty("ports").EnumerateArray().ToList();

        // Control: the Service's port leads to the container port the gateway listens on.
        var ftp = ports.Single(p => p.GetProperty("name").GetString() == "ftp");
        Assert.Equal("ftp", ftp.GetProperty("targetPort").GetString());
        Assert.Equal(int.Parse(chart.Env("Ftp__Port")!), chart.ContainerPort("ftp"));

        // Passive: the same numbers on the Service, the container and in the gateway's configuration.
        var servicePassive = ports.Where(p => p.GetProperty("name").GetString()!.StartsWith("pasv-", StringComparison.Ordinal)).ToList();
        Assert.Equal(passive, servicePassive.Select(p => p.GetProperty("port").GetInt32()));
        Assert.All(servicePassive, p => Assert.Equal(p.GetProperty("port").GetInt32(), p.GetProperty("targetPort").GetInt32()));
        Assert.Equal(passive, passive.Select(p => chart.ContainerPort($"pasv-{p}")));
        // Implicit FTPS, when on: the Service's port leads to the container port of Ftp:Tls:ImplicitPort.
        var implicitTls = ports.SingleOrDefault(p => p.GetProperty("name").GetString() == "ftps");
        if (chart.Env("Ftp__Tls__ImplicitPort") is { } implicitPort)
        {
            Assert.Equal("ftps", implicitTls.GetProperty("targetPort").GetString());
            Assert.Equal(int.Parse(implicitPort), chart.ContainerPort("ftps"));
        }
        else
        {
            Assert.Equal(JsonValueKind.Undefined, implicitTls.ValueKind);
        }

        // Nothing else, in particular not the management port.
        Assert.Equal(passive.Count + 1 + (implicitTls.ValueKind == JsonValueKind.Undefined ? 0 : 1), ports.Count);

        // Several pods: a client's data connections must reach the pod of its control connection, from its own address.
        Assert.Equal("ClientIP", spec.GetProperty("sessionAffinity").GetString());
        var type = spec.GetProperty("type").GetString();
        if (type != "ClusterIP")
        {
            Assert.Equal("Local", spec.GetProperty("externalTrafficPolicy").GetString());
        }

        if (type == "NodePort")
        {
            Assert.All(servicePassive, p => Assert.Equal(p.GetProperty("port").GetInt32(), p.GetProperty("nodePort").GetInt32()));
        }

        // Management: its own port, in the gateway's configuration, never inside the FTP ports.
        var management = chart.ContainerPort("management");
        Assert.Equal(int.Parse(chart.Env("Management__Port")!), management);
        Assert.NotEqual(chart.ContainerPort("ftp"), management);
        Assert.DoesNotContain(management, passive);
    }

    [Fact]
    public async Task HaMode_GivesEachPodItsOwnSliceAndService_AndNeedsNoAffinity()
    {
        var chart = await HelmChart.RenderAsync("ha");
        Assert.Equal("StatefulSet", chart.Deployment.GetProperty("kind").GetString());
        Assert.Equal("$(POD_NAME)", chart.Env("Ftp__Replica"));
        Assert.Equal("3", chart.Env("Ftp__Replicas"));
        Assert.Equal(["203.0.113.11", "203.0.113.12", "203.0.113.13"], Enumerable.Range(0, 3).Select(i => chart.Env($"Ftp__PublicAddresses__{i}")));
        var control = chart.FtpService.GetProperty("spec");
        Assert.Equal("None", control.GetProperty("sessionAffinity").GetString());
        Assert.Equal(["ftp"], control.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("name").GetString()));

        // The pods' Services split the passive range between them, each selecting its own pod, with the same numbers end to end.
        var range = chart.Env("Ftp__PassivePortRange")!.Split('-').Select(int.Parse).ToArray();
        var slices = Enumerable.Range(0, 3).Select(i =>
        {
            var spec = chart.Get("Service", $"{HelmChart.FullName}-{i}").GetProperty("spec");
            Assert.Equal($"{HelmChart.FullName}-{i}", spec.GetProperty("selector").GetProperty("statefulset.kubernetes.io/pod-name").GetString());
            Assert.Equal("203.0.113.1" + (i + 1), spec.GetProperty("loadBalancerIP").GetString());
            return spec.GetProperty("ports").EnumerateArray().Select(p =>
            {
                Assert.Equal(p.GetProperty("port").GetInt32(), p.GetProperty("targetPort").GetInt32());
                return p.GetProperty("port").GetInt32();
            }).ToList();
        }).ToList();
        Assert.Equal(Enumerable.Range(range[0], range[1] - range[0] + 1), slices.SelectMany(s => s));
        Assert.All(slices, s => Assert.Equal(10, s.Count));

        // An uneven range: the last pod takes the remainder, in the chart and in the gateway alike.
        var uneven = await HelmChart.RenderAsync("ha", "ftp.passive.end=50031");
        for (var i = 0; i < 3; i++)
        {
            var ports = uneven.Get("Service", $"{HelmChart.FullName}-{i}").GetProperty("spec").GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("port").GetInt32()).ToList();
            var own = new FtpGateway.Ftp.FtpServerOptions { PassivePortRange = "50000-50031", Replica = $"{HelmChart.FullName}-{i}", Replicas = 3 }.Network.OwnPassiveRange;
            Assert.Equal(new FtpGateway.Ftp.PortRange(ports[0], ports[^1]), own);
        }

        // What the gateway computes for each pod is the slice its Service exposes.
        for (var i = 0; i < 3; i++)
        {
            var options = new FtpGateway.Ftp.FtpServerOptions { PassivePortRange = chart.Env("Ftp__PassivePortRange"), Replica = $"{HelmChart.FullName}-{i}", Replicas = 3 };
            Assert.Equal(new FtpGateway.Ftp.PortRange(slices[i][0], slices[i][^1]), options.Network.OwnPassiveRange);
        }
    }

    [Fact]
    public async Task SharedAddressMode_OneServiceForEveryPort_PortsOwnedByOrdinal_PeersFoundByTheHeadlessService()
    {
        var chart = await HelmChart.RenderAsync("ha-shared");
        Assert.Equal("StatefulSet", chart.Deployment.GetProperty("kind").GetString());
        Assert.False(chart.Deployment.GetProperty("spec").TryGetProperty("replicas", out _)); // the autoscaler's
        Assert.Equal("$(POD_NAME)", chart.Env("Ftp__Replica"));
        Assert.Null(chart.Env("Ftp__Replicas")); // ownership by ordinal, not by slicing: scaling moves nobody's ports
        Assert.Null(chart.Env("Ftp__AllowEpsv")); // EPSV works: any pod takes the data connection
        Assert.Equal("10", chart.Env("Ftp__PassivePortsPerReplica"));
        Assert.Equal("true", chart.Env("Ftp__Relay__Enabled"));
        Assert.Equal("203.0.113.10", chart.Env("Ftp__PublicAddress"));
        Assert.Equal($"{HelmChart.FullName}-{{ordinal}}.{HelmChart.FullName}-pods.ci.svc", chart.Env("Ftp__Relay__PeerHost"));
        Assert.True(chart.SecretData()["Ftp__Relay__Secret"].Length >= 16); // generated: every pod proves the same secret

        // One Service: control and the whole passive range, no affinity, no per-pod Services.
        var spec = chart.FtpService.GetProperty("spec");
        Assert.Equal("None", spec.GetProperty("sessionAffinity").GetString());
        var ports = spec.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("port").GetInt32()).ToList();
        Assert.Equal([21, .. Enumerable.Range(50000, 80)], ports); // service.port, then the passive ports end to end
        Assert.False(chart.Has("Service", $"{HelmChart.FullName}-0"));

        // The headless Service carries the relay port and keeps a draining pod's name (it still owns transfers).
        var peers = chart.Get("Service", $"{HelmChart.FullName}-pods").GetProperty("spec");
        Assert.True(peers.GetProperty("publishNotReadyAddresses").GetBoolean());
        Assert.Contains(peers.GetProperty("ports").EnumerateArray(), p => p.GetProperty("name").GetString() == "relay" && p.GetProperty("port").GetInt32() == chart.ContainerPort("relay"));
        Assert.Equal(chart.ContainerPort("relay"), int.Parse(chart.Env("Ftp__Relay__Port")!));

        // Redis from the operator's Secret; the autoscaler goes up to ha.maxReplicas.
        var redis = chart.Container.GetProperty("env").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "State__Redis__Configuration");
        Assert.Equal("ftp-gateway-redis", redis.GetProperty("valueFrom").GetProperty("secretKeyRef").GetProperty("name").GetString());
        Assert.Equal(8, chart.Get("HorizontalPodAutoscaler").GetProperty("spec").GetProperty("maxReplicas").GetInt32());

        // What each of the 8 possible pods owns, as the gateway computes it from the pod's environment: 10 ports from 50000 + 10n.
        for (var n = 0; n < 8; n++)
        {
            var options = new FtpGateway.Ftp.FtpServerOptions { PassivePortRange = chart.Env("Ftp__PassivePortRange"), Replica = $"{HelmChart.FullName}-{n}", PassivePortsPerReplica = 10 };
            Assert.Equal(new FtpGateway.Ftp.PortRange(50000 + (10 * n), 50009 + (10 * n)), options.Network.OwnPassiveRange);
        }
    }

    [Fact]
    public async Task TheChartAReviewerSignsOff_Probes_Resources_Tmp_Pdb_NetworkPolicy_Recreate_AndPerPodAnnotations()
    {
        var chart = await HelmChart.RenderAsync("s3");
        var container = chart.Container;

        // A startup probe on /healthz, so that liveness never races a slow storage probe at start-up.
        var startup = container.GetProperty("startupProbe");
        Assert.Equal("/healthz", startup.GetProperty("httpGet").GetProperty("path").GetString());
        Assert.True(startup.GetProperty("periodSeconds").GetInt32() * startup.GetProperty("failureThreshold").GetInt32() >= 60);

        // Requests and a memory limit from the measured peak; /tmp with a size limit.
        Assert.Equal("1Gi", container.GetProperty("resources").GetProperty("limits").GetProperty("memory").GetString()); // 192 MiB + 20 ports x 40 MiB
        Assert.Equal("384Mi", container.GetProperty("resources").GetProperty("requests").GetProperty("memory").GetString());
        var tmp = chart.PodSpec.GetProperty("volumes").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "tmp");
        Assert.Equal("256Mi", tmp.GetProperty("emptyDir").GetProperty("sizeLimit").GetString());

        // Three replicas: a PodDisruptionBudget by default.
        Assert.True(chart.Has("PodDisruptionBudget"));
        Assert.False((await HelmChart.RenderAsync(null)).Has("PodDisruptionBudget")); // one pod: none

        // The NetworkPolicy: FTP and passive ports from the balancer's sources, management from monitoring, egress by CIDR.
        var policy = (await HelmChart.RenderAsync("s3", "networkPolicy.enabled=true", "service.loadBalancerSourceRanges={198.51.100.0/24}", "networkPolicy.egress[0].cidr=10.20.0.0/16", "networkPolicy.egress[0].ports={443}"))
            .Get("NetworkPolicy").GetProperty("spec");
        var ingress = policy.GetProperty("ingress").EnumerateArray().ToList();
        Assert.Equal("198.51.100.0/24", ingress[0].GetProperty("from")[0].GetProperty("ipBlock").GetProperty("cidr").GetString());
        Assert.Contains(ingress[0].GetProperty("ports").EnumerateArray(), p => p.GetProperty("port").GetInt32() == 50000 && p.GetProperty("endPort").GetInt32() == 50009);
        Assert.Equal("monitoring", ingress[^1].GetProperty("from")[0].GetProperty("namespaceSelector").GetProperty("matchLabels").GetProperty("kubernetes.io/metadata.name").GetString());
        Assert.Equal(["Ingress", "Egress"], policy.GetProperty("policyTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains(policy.GetProperty("egress").EnumerateArray(), e => e.TryGetProperty("to", out var to) && to[0].TryGetProperty("ipBlock", out var block) && block.GetProperty("cidr").GetString() == "10.20.0.0/16");
        Assert.Contains(policy.GetProperty("egress").EnumerateArray(), e => !e.TryGetProperty("to", out _) && e.GetProperty("ports")[0].GetProperty("port").GetInt32() == 53); // DNS, wherever it runs

        // The event spool on a claim: the Deployment updates with Recreate (two pods never share the claim).
        var spool = await HelmChart.RenderAsync(null, "events.spool.enabled=true", "events.spool.existingClaim=ftp-spool");
        Assert.Equal("Recreate", spool.Deployment.GetProperty("spec").GetProperty("strategy").GetProperty("type").GetString());

        // One replica behind an AWS NLB announces its name; per-pod Services take {ordinal} in annotations.
        Assert.Equal("nlb.example.com", (await HelmChart.RenderAsync(null, "ftp.passive.publicHost=nlb.example.com")).Env("Ftp__PublicHost"));
        var perPod = await HelmChart.RenderAsync("ha", "ha.podService.annotations.external-dns\\.alpha\\.kubernetes\\.io/hostname=ftp-{ordinal}.example.com");
        Assert.Equal("ftp-2.example.com", perPod.Get("Service", $"{HelmChart.FullName}-2").GetProperty("metadata").GetProperty("annotations").GetProperty("external-dns.alpha.kubernetes.io/hostname").GetString());
    }

    [Fact]
    public async Task TheNotes_TellTheTruthAboutWhereUsersComeFrom()
    {
        async Task<string> NotesAsync(params string[] sets)
        {
            var result = await HelmChart.HelmAsync(["install", HelmChart.Release, HelmChart.Directory, "--dry-run=client", "--namespace", HelmChart.Namespace, .. sets.SelectMany(s => new[] { "--set", s })]);
            Assert.True(result.ExitCode == 0, result.ToString());
            return result.StandardOutput[result.StandardOutput.IndexOf("NOTES:", StringComparison.Ordinal)..];
        }

        Assert.Contains("one-time password", await NotesAsync(), StringComparison.Ordinal);
        var file = await NotesAsync("usersFile.enabled=true");
        Assert.DoesNotContain("one-time password", file, StringComparison.Ordinal);
        Assert.Contains("the users file from Secret", file, StringComparison.Ordinal);
        var hook = await NotesAsync("config.Auth:Http:Url=https://auth.example.com/ftp");
        Assert.DoesNotContain("one-time password", hook, StringComparison.Ordinal);
        Assert.Contains("authentication hook https://auth.example.com/ftp", hook, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProbesAndTheServiceMonitor_UseTheManagementService_NeverTheFtpOne()
    {
        var chart = await HelmChart.RenderAsync("s3");
        Assert.Equal("/healthz", chart.Container.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal("/readyz", chart.Container.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal("management", chart.Container.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("port").GetString());
        Assert.Equal("management", chart.Container.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("port").GetString());

        var monitor = chart.Get("ServiceMonitor").GetProperty("spec");
        var selector = monitor.GetProperty("selector").GetProperty("matchLabels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        bool Selects(JsonElement service) => selector.All(l =>
            service.GetProperty("metadata").GetProperty("labels").TryGetProperty(l.Key, out var v) && v.GetString() == l.Value);
        Assert.True(Selects(chart.ManagementService));
        Assert.False(Selects(chart.FtpService));
        Assert.Equal("ClusterIP", chart.ManagementService.GetProperty("spec").GetProperty("type").GetString());
        var endpoint = monitor.GetProperty("endpoints")[0];
        Assert.Equal("/metrics", endpoint.GetProperty("path").GetString());
        Assert.Contains(endpoint.GetProperty("port").GetString(), chart.ManagementService.GetProperty("spec").GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(HelmChart.Namespace, monitor.GetProperty("namespaceSelector").GetProperty("matchNames")[0].GetString());
        Assert.Equal("kube-prometheus-stack", chart.Get("ServiceMonitor").GetProperty("metadata").GetProperty("labels").GetProperty("release").GetString());
    }

    [Fact]
    public async Task TheDashboardConfigMap_CarriesTheDashboardFile_Unchanged()
    {
        var chart = await HelmChart.RenderAsync("s3");
        var configMap = chart.Get("ConfigMap", HelmChart.FullName + "-dashboard");
        Assert.Equal("1", configMap.GetProperty("metadata").GetProperty("labels").GetProperty("grafana_dashboard").GetString());
        Assert.Equal("FTP", configMap.GetProperty("metadata").GetProperty("annotations").GetProperty("grafana_folder").GetString());
        var shipped = JsonNode.Parse(configMap.GetProperty("data").GetProperty("ftp-gateway.json").GetString()!);
        var file = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(HelmChart.Directory, "dashboards", "ftp-gateway.json")));
        Assert.True(JsonNode.DeepEquals(file, shipped));
    }

    [Fact]
    public async Task Values_BecomeTheGatewaysConfiguration()
    {
        var s3 = await HelmChart.RenderAsync("s3");
        Assert.Equal("203.0.113.10", s3.Env("Ftp__PublicAddress"));
        Assert.Equal("00:02:00", s3.Env("Ftp__DrainTimeout"));
        Assert.Equal("S3", s3.Env("Storage__Provider"));
        Assert.Equal("ftp-inbox", s3.Env("Storage__S3__Bucket"));
        Assert.Equal("devices", s3.Env("Storage__S3__Prefix"));
        Assert.Equal("http://minio.storage.svc:9000", s3.Env("Storage__S3__ServiceUrl"));
        Assert.Equal("true", s3.Env("Storage__S3__ForcePathStyle"));
        Assert.Equal("WhenRequired", s3.Env("Storage__S3__ChecksumMode"));
        Assert.Null(s3.Env("Storage__S3__Region")); // empty values are left to the gateway's defaults
        Assert.Equal("http://otel-collector.observability.svc:4317", s3.Env("OTEL_EXPORTER_OTLP_ENDPOINT"));
        Assert.Equal("ftp-gateway-ci", s3.Env("OTEL_SERVICE_NAME"));
        Assert.Equal("k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)", s3.Env("OTEL_RESOURCE_ATTRIBUTES"));
        Assert.Equal(3, s3.Deployment.GetProperty("spec").GetProperty("replicas").GetInt32());
        Assert.Equal(0, s3.Deployment.GetProperty("spec").GetProperty("strategy").GetProperty("rollingUpdate").GetProperty("maxUnavailable").GetInt32());
        // The kubelet waits for the pause (Ftp:DrainDelay, no preStop hook: the image has no shell) and the drain.
        Assert.Equal(120 + 5 + 15, s3.PodSpec.GetProperty("terminationGracePeriodSeconds").GetInt32());
        Assert.Equal("00:00:05", s3.Env("Ftp__DrainDelay"));
        Assert.False(s3.Container.TryGetProperty("lifecycle", out _));
        Assert.False(s3.Has("PersistentVolumeClaim"));

        // The users file: a chart-made Secret, mounted as a directory (a subPath mount would never see updates).
        Assert.Equal("/etc/ftpgateway/users/users.json", s3.Env("Users__File"));
        var file = System.Text.Json.JsonDocument.Parse(s3.SecretData(HelmChart.FullName + "-users")["users.json"]).RootElement;
        Assert.Equal("cam02", file.GetProperty("users")[0].GetProperty("name").GetString());
        Assert.Equal("/cameras/{user}", file.GetProperty("users")[0].GetProperty("root").GetString());
        var mount = s3.Container.GetProperty("volumeMounts").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "users-file");
        Assert.Equal("/etc/ftpgateway/users", mount.GetProperty("mountPath").GetString());
        Assert.False(mount.TryGetProperty("subPath", out _));

        // A change of the users file needs no restart: the pod template does not change with it.
        var changedUsers = await HelmChart.RenderAsync("s3", "usersFile.users[0].maxUploadBytes=1");
        Assert.Equal(s3.Deployment.GetProperty("spec").GetProperty("template").GetRawText(), changedUsers.Deployment.GetProperty("spec").GetProperty("template").GetRawText());

        var fs = await HelmChart.RenderAsync("filesystem");
        Assert.Equal("Recreate", fs.Deployment.GetProperty("spec").GetProperty("strategy").GetProperty("type").GetString());
        Assert.Equal("/data", fs.Env("Storage__FileSystem__Root"));
        Assert.Equal("500", fs.Env("Ftp__MaxSessions"));
        Assert.Equal("00:05:00", fs.Env("Ftp__IdleTimeout"));
        Assert.Equal("/etc/ftpgateway/tls/tls.crt", fs.Env("Ftp__Tls__CertificatePath"));
        Assert.Equal("00:00:30", fs.Env("Ftp__DrainTimeout"));
        Assert.Equal("9990", fs.Env("Ftp__Tls__ImplicitPort"));
        Assert.Equal(990, fs.FtpService.GetProperty("spec").GetProperty("ports").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "ftps").GetProperty("port").GetInt32());
        Assert.Equal("10.20.0.5/32", fs.Env("Ftp__ProxyProtocol__TrustedProxies__0"));
        Assert.Equal("192.0.2.0/24", fs.Env("Security__DeniedAddresses__0"));
        Assert.Equal("20", fs.Env("Security__Bans__MaxFailures"));
        Assert.Equal("198.51.100.7/32", fs.Env("Security__Bans__Exempt__0"));
        Assert.Equal("https://ingest.example.com/ftp-events", fs.Env("Events__Webhooks__0__Url"));
        Assert.Equal("ftpgateway.file.deleted", fs.Env("Events__Webhooks__0__Types__1"));
        Assert.Equal("/var/spool/ftpgateway", fs.Env("Events__SpoolDirectory"));
        Assert.Contains(fs.Container.GetProperty("volumeMounts").EnumerateArray(), m => m.GetProperty("mountPath").GetString() == "/var/spool/ftpgateway");
        Assert.DoesNotContain("ftp-gateway-webhook", fs.SecretData().Keys); // the signing secret stays in its own Secret
        Assert.Null(s3.Env("Ftp__Tls__ImplicitPort"));
        Assert.Equal("true", s3.Env("Security__Bans__Enabled"));
        Assert.Equal("50Gi", fs.Get("PersistentVolumeClaim").GetProperty("spec").GetProperty("resources").GetProperty("requests").GetProperty("storage").GetString());
        Assert.Equal("keep", fs.Get("PersistentVolumeClaim").GetProperty("metadata").GetProperty("annotations").GetProperty("helm.sh/resource-policy").GetString());

        var azure = await HelmChart.RenderAsync("azure");
        Assert.Equal("AzureBlob", azure.Env("Storage__Provider"));
        Assert.Equal("Cool", azure.Env("Storage__AzureBlob__AccessTier"));
        Assert.Equal("true", azure.Env("Ftp__Tls__Required"));
        Assert.Equal("False", azure.Env("Ftp__AllowActiveMode"), ignoreCase: true);
        Assert.Equal("plain", azure.Env("Logging__Format"));
    }

    [Fact]
    public async Task Secrets_AreInTheSecret_NeverInThePodSpec_AndAChangeRestartsThePods()
    {
        var fs = await HelmChart.RenderAsync("filesystem");
        var users = fs.SecretData();
        Assert.Equal("cam01", users["Users__0__Name"]);
        Assert.StartsWith("pbkdf2-sha256$100000$", users["Users__0__PasswordHash"], StringComparison.Ordinal);
        Assert.Equal("/cameras/cam01", users["Users__0__Root"]);
        Assert.Equal("WriteOnly", users["Users__0__Permissions"]);
        Assert.Equal("reader", users["Users__1__Name"]);
        Assert.DoesNotContain(users["Users__0__PasswordHash"], fs.Deployment.GetRawText(), StringComparison.Ordinal);

        var s3 = await HelmChart.RenderAsync("s3");
        Assert.Equal("ci-secret-key", s3.SecretData()["Storage__S3__SecretKey"]);
        Assert.DoesNotContain("ci-secret-key", s3.Deployment.GetRawText(), StringComparison.Ordinal);

        var changed = await HelmChart.RenderAsync("filesystem", "users[0].passwordHash=pbkdf2-sha256$100000$c2FsdA==$aGFzaA==");
        static string Checksum(RenderedChart c) => c.Deployment.GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("annotations").GetProperty("checksum/secret").GetString()!;
        Assert.NotEqual(Checksum(fs), Checksum(changed));
    }

    [Theory]
    [InlineData("storage.provider=Gcs", "storage/provider")]
    [InlineData("replicas=2", "replicas")]
    [InlineData("ftp.passive.start=80", "ftp/passive/start")]
    [InlineData("ftp.passive.start=50030", "must not be greater than ftp.passive.end")]
    [InlineData("ftp.passive.end=51500", "too many")]
    [InlineData("management.port=50005", "inside the passive range")]
    [InlineData("management.port=2121", "management.port must differ from ftp.port")]
    [InlineData("ftp.passive.publicAddress=ftp.example.com", "ftp/passive/publicAddress")]
    [InlineData("replicaCount=2", "one shared volume")]
    [InlineData("replicaCount=2|persistence.accessModes={ReadWriteMany}", "needs users")]
    [InlineData("replicaCount=2|persistence.accessModes={ReadWriteMany}|anonymous.enabled=true|service.sessionAffinity=None", "sessionAffinity: ClientIP")]
    [InlineData("storage.provider=S3", "storage/s3")]
    [InlineData("storage.provider=S3|storage.s3.bucket=b|storage.s3.accessKey=a", "go together")]
    [InlineData("storage.provider=AzureBlob|storage.azureBlob.container=c", "needs storage.azureBlob.connectionString")]
    [InlineData("users[0].name=a|users[0].passwordHash=plain-text", "users/0/passwordHash")]
    [InlineData("config.Ftp:Port=21", "config.Ftp:Port is set by the chart")]
    [InlineData("ftp.tls.implicit.enabled=true", "needs ftp.tls.existingSecret")]
    [InlineData("ftp.tls.implicit.enabled=true|ftp.tls.existingSecret=t|ftp.tls.implicit.port=50003", "inside the passive range")]
    [InlineData("ftp.tls.implicit.port=990", "ftp/tls/implicit/port")]
    [InlineData("security.bans.exempt={not a network}", "security/bans/exempt/0")]
    [InlineData("config.Security:Bans:Exempt:0=10.0.0.0/8", "config.Security:Bans:Exempt:0 is set by the chart")]
    [InlineData("ha.enabled=true|ha.mode=perPodAddress|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|ha.publicAddresses={203.0.113.1}", "one address per replica")]
    [InlineData("ha.enabled=true|ha.mode=perPodAddress|ftp.passive.publicAddress=203.0.113.9|ha.publicHost=ftp-{ordinal}.example.com|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b", "every pod announce one address")]
    [InlineData("ha.enabled=true|ha.mode=perPodAddress|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b", "needs ha.publicAddresses or ha.publicHost")]
    [InlineData("ha.enabled=true|ha.mode=perPodAddress|ha.publicHost=f-{ordinal}.example.com|ha.podService.type=NodePort|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b", "node-port range")]
    [InlineData("ha.enabled=true|ha.mode=perPodAddress|ha.publicHost=f-{ordinal}.example.com|replicaCount=30|ftp.passive.end=50009|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b", "at least one port per replica")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|ftp.passive.publicAddress=203.0.113.10", "needs state.redis.configuration or state.redis.existingSecret")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379", "needs ftp.passive.publicAddress or ftp.passive.publicHost")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379|ftp.passive.publicAddress=203.0.113.10|ha.maxReplicas=4|ftp.passive.portsPerReplica=6", "do not fit in the passive range")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379|ftp.passive.publicAddress=203.0.113.10|ha.maxReplicas=2", "replicaCount 3 is above ha.maxReplicas 2")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379|ftp.passive.publicAddress=203.0.113.10|ha.relay.port=50001", "ha.relay.port 50001 must differ")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379|ftp.passive.publicAddress=203.0.113.10|ha.relay.secret=short", "at least 16 characters")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379|ftp.passive.publicAddress=203.0.113.10|ha.mode=oneAddress", "ha/mode")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379|ftp.passive.publicAddress=203.0.113.10|ha.autoscaling.enabled=true|ha.autoscaling.minReplicas=9|ha.maxReplicas=5", "minReplicas 9 must lie between 1 and ha.maxReplicas 5")]
    [InlineData("ha.enabled=true|replicaCount=3|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|storage.provider=S3|storage.s3.bucket=b|state.redis.configuration=redis:6379|ftp.passive.publicAddress=203.0.113.10|ha.publicHost=ftp-{ordinal}.example.com", "set ha.mode: perPodAddress to keep an address per pod")]
    [InlineData("ftp.passive.publicAddress=203.0.113.10|ftp.passive.publicHost=ftp.example.com", "two answers to one question")]
    [InlineData("replicaCount=2|storage.provider=S3|storage.s3.bucket=b|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|service.sessionAffinity=ClientIP|podDisruptionBudget.minAvailable=2", "podDisruptionBudget.minAvailable 2 must be below the replicas (2)")]
    [InlineData("replicaCount=2|storage.provider=S3|storage.s3.bucket=b|users[0].name=a|users[0].passwordHash=pbkdf2-sha256$1$a$b|events.spool.enabled=true|events.spool.existingClaim=spool", "use it with replicaCount 1")]
    [InlineData("config.Ftp:Relay:Port=3000", "config.Ftp:Relay:Port is set by the chart")]
    [InlineData("config.Storage:S3:Bucket=other", "config.Storage:S3:Bucket is set by the chart")]
    [InlineData("config.not-a-key=1", "invalid propertyName 'not-a-key'")]
    public async Task InvalidValues_AreRefusedAtInstall_NamingTheValue(string sets, string message)
    {
        var result = await HelmChart.HelmAsync(HelmChart.TemplateArguments(null, sets.Split('|')));
        Assert.True(result.ExitCode != 0, $"helm rendered {sets}:\n{result.StandardOutput}");
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheValidation_RefusesWhatTheApiServerWould()
    {
        // The checker the tests rely on must itself fail on a misspelt field, a wrong type and a bad port name.
        var manifests = (await HelmChart.TemplateAsync(null))
            .Replace("sessionAffinity: ClientIP", "sessionAfinity: ClientIP", StringComparison.Ordinal)
            .Replace("containerPort: 2121", "containerPort: \"2121\"", StringComparison.Ordinal)
            .Replace("name: pasv-50003", "name: pasv_50003", StringComparison.Ordinal);
        var result = await HelmChart.ValidateAsync(manifests);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("unknown field spec.sessionAfinity", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("containerPort must be integer", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("invalid port name 'pasv_50003'", result.StandardError, StringComparison.Ordinal);

        // And on a NodePort Service whose passive ports (= node ports) lie outside the cluster's node-port range.
        var nodePorts = await HelmChart.ValidateAsync(await HelmChart.TemplateAsync(null, "service.type=NodePort"));
        Assert.Equal(1, nodePorts.ExitCode);
        Assert.Contains("nodePort 50000 outside the default range 30000-32767", nodePorts.StandardError, StringComparison.Ordinal);
    }
}
