using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Natter.Actors.Notifications;

public static class NotificationServices
{
    /// <summary>
    /// The sink and source (Kafka when brokers are configured, else one in-process queue), the push adapters,
    /// and, in processes that host entities, the dispatcher. The projection itself is a cluster singleton
    /// (see NatterAkkaExtensions.WithNotifications).
    /// </summary>
    public static IServiceCollection AddNatterNotifications(this IServiceCollection services, NotificationOptions options, bool hostsEntities)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        if (string.IsNullOrWhiteSpace(options.KafkaBootstrapServers))
        {
            services.AddSingleton<InProcessNotificationQueue>();
            services.AddSingleton<INotificationSink>(sp => sp.GetRequiredService<InProcessNotificationQueue>());
            services.AddSingleton<INotificationSource>(sp => sp.GetRequiredService<InProcessNotificationQueue>());
        }
        else
        {
            services.AddSingleton<INotificationSink, KafkaNotificationSink>();
            services.AddSingleton<INotificationSource, KafkaNotificationSource>();
        }
        // No redirects: a push goes to the endpoint it names, nowhere else. A short timeout: one slow
        // provider must not hold everyone's notifications back for long.
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(5) };
        // FCM and APNs only where notifications are dispatched, and only with credentials: a misconfigured key
        // stops the process at start rather than failing every push later.
        if (hostsEntities && FcmAccessTokens.From(options.Push, http, TimeProvider.System) is { } fcmTokens)
            services.AddSingleton<IPushAdapter>(new FcmAdapter(http, options.Push, fcmTokens));
        if (hostsEntities && ApnsProviderToken.From(options.Push, TimeProvider.System) is { } apnsToken)
            services.AddSingleton<IPushAdapter>(new ApnsAdapter(http, options.Push, apnsToken));
        // Only processes that dispatch sign pushes; an edge may hold the public key alone.
        var vapid = VapidKeys.From(options.Push);
        services.AddSingleton<IPushAdapter>(new WebPushAdapter(http, options.Push, hostsEntities ? vapid : null));
        services.AddSingleton(new WebPushApplicationKey(vapid?.PublicKey ?? VapidKeys.PublicKeyFrom(options.Push)));
        services.AddSingleton<IPushAdapter>(new EmailAdapter(http, options.Push));
        if (hostsEntities)
        {
            services.AddSingleton<NotificationDispatcher>();
            services.AddHostedService(sp => sp.GetRequiredService<NotificationDispatcher>());
        }
        return services;
    }
}
