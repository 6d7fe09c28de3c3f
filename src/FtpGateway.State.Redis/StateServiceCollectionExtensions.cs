using FtpGateway.Ftp.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FtpGateway.State.Redis;

/// <summary>Configuration section <c>State</c>: what the gateways of a fleet share, and where.</summary>
public sealed class StateOptions
{
    public const string SectionName = "State";

    /// <summary><c>State:Redis</c>.</summary>
    public RedisStateOptions Redis { get; set; } = new();
}

public static class StateServiceCollectionExtensions
{
    /// <summary>
    /// With <c>State:Redis:Configuration</c> set, the gateways share bans, failed-login counts, session limits and
    /// the session registry through Redis; without it nothing is registered and the gateway is on its own. An
    /// invalid key stops start-up with its name.
    /// </summary>
    public static IServiceCollection AddFleetState(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = (configuration.GetSection(StateOptions.SectionName).Get<StateOptions>() ?? new StateOptions()).Redis;
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        if (options.Enabled)
        {
            var replica = configuration["Ftp:Replica"];
            var gateway = string.IsNullOrWhiteSpace(replica) ? Environment.MachineName : replica;
            services.AddSingleton<IFleetState>(sp => RedisFleetState.Connect(
                options, gateway, sp.GetService<TimeProvider>() ?? TimeProvider.System, sp.GetRequiredService<ILoggerFactory>()));
        }

        return services;
    }
}
